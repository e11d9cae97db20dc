"""The chain's hash algorithms: SHA-256 (the default) and SM3 (GB/T 32905, for 密评 reviews).

SM3 comes from ``cryptography`` (its OpenSSL build ships SM3 and SM4): maintained, in C,
already installed for other dependencies, with aarch64 and x86 wheels — unlike the
pure-Python ``gmssl`` (last release 2023, about 100× slower per hash).  Both algorithms
give 32 bytes, written as 64 hex digits, so the event table does not change.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import hashes

SHA256 = "sha256"
SM3 = "sm3"
ALGORITHMS = (SHA256, SM3)


def check(algorithm: str) -> str:
    """``algorithm`` if it is one the chain knows; ValueError naming the choices otherwise."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown audit hash {algorithm!r}: choose one of {', '.join(ALGORITHMS)}")
    return algorithm


def digest(algorithm: str, data: bytes) -> str:
    """The hex digest of ``data`` under ``algorithm``."""
    if algorithm == SHA256:
        return hashlib.sha256(data).hexdigest()
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize().hex()
