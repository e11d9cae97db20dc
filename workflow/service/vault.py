"""Evidence files encrypted at rest with SM4 (国密, GB/T 32907), the keys outside the database.

With ``EVIDENCE_CIPHER = "sm4"`` every new upload is written sealed: SM4 in GCM mode
(authenticated: a changed byte fails to open, it is never served altered), a fresh 96-bit
nonce per file, under the keyring's current key.  A sealed file is
``RFSM4\\x01 | key id (8) | nonce (12) | ciphertext | tag (16)``; a file without that prefix
is plaintext (an upload from before, or encryption off) and is served as it is, so turning
encryption on or off never strands a file.  The keys live in ``<instance>/keys/evidence/``
(``<id>.key``, 128 bits in hex, mode 0600; ``current`` names the one new files use):
:func:`rotate` makes a new key and re-seals every file under it; old key files may be
deleted once it has run.  SM4 comes from ``cryptography`` (its OpenSSL ships SM4), the same
library as the audit chain's SM3.  Must not import flask or ``notifications``.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from workflow.messages import N_, Text

MAGIC = b"RFSM4\x01"
ID_BYTES, NONCE_BYTES, TAG_BYTES = 8, 12, 16
CIPHERS = ("none", "sm4")

UNKNOWN_KEY = Text(
    "vault_unknown_key", N_("evidence file sealed with key %(key)s, which is not in the keyring")
)
TAMPERED = Text("vault_tampered", N_("evidence file does not open: it was altered or damaged"))
NO_KEYRING = Text("vault_no_keyring", N_("evidence encryption is off: no keyring in %(folder)s"))


class VaultError(Exception):
    """A sealed file cannot be opened (unknown key, altered bytes), or no keyring."""


@dataclass
class Keyring:
    """The SM4 keys by id, and the id new files are sealed with."""

    folder: Path
    keys: dict[str, bytes] = field(default_factory=dict)
    current: str = ""

    @classmethod
    def load(cls, folder: str | Path) -> Keyring | None:
        """The keyring in ``folder`` (``<instance>/keys/evidence``), or None if there is none."""
        folder = Path(folder)
        if not (folder / "current").exists():
            return None
        keys = {p.stem: bytes.fromhex(p.read_text().strip()) for p in folder.glob("*.key")}
        return cls(folder, keys, (folder / "current").read_text().strip())

    @classmethod
    def open_or_create(cls, folder: str | Path) -> Keyring:
        """The keyring in ``folder``, created with a first key when there is none."""
        return cls.load(folder) or cls(Path(folder)).add_key()

    def add_key(self) -> Keyring:
        """A new random key, made current (written 0600 before ``current`` names it)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        key_id = secrets.token_hex(ID_BYTES // 2)
        key = secrets.token_bytes(16)
        fd = os.open(self.folder / f"{key_id}.key", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key.hex())
        _write_atomic(self.folder / "current", key_id.encode())
        self.keys[key_id], self.current = key, key_id
        return self


def keyring_folder(keys_dir: str | Path) -> Path:
    """Where the evidence keys live inside the instance's key folder."""
    return Path(keys_dir) / "evidence"


def sealing_keyring(cipher: str | None, keys_dir: str | Path) -> Keyring | None:
    """The keyring new uploads are sealed with: None when ``EVIDENCE_CIPHER`` is off."""
    if (cipher or "none").lower() != "sm4":
        return None
    return Keyring.open_or_create(keyring_folder(keys_dir))


def is_sealed(blob: bytes) -> bool:
    """Whether ``blob`` is a sealed file (else it is plaintext)."""
    return blob.startswith(MAGIC)


def seal(data: bytes, keyring: Keyring) -> bytes:
    """``data`` sealed under the keyring's current key."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    enc = Cipher(algorithms.SM4(keyring.keys[keyring.current]), modes.GCM(nonce)).encryptor()
    body = enc.update(data) + enc.finalize()
    return MAGIC + keyring.current.encode() + nonce + body + enc.tag


def unseal(blob: bytes, keyring: Keyring | None) -> bytes:
    """The plaintext of ``blob`` (a plaintext file is returned as it is)."""
    if not is_sealed(blob):
        return blob
    at = len(MAGIC)
    key_id = blob[at : at + ID_BYTES].decode("ascii", "replace")
    key = keyring.keys.get(key_id) if keyring else None
    if key is None:
        raise VaultError(UNKNOWN_KEY(key=key_id))
    nonce = blob[at + ID_BYTES : at + ID_BYTES + NONCE_BYTES]
    body, tag = blob[at + ID_BYTES + NONCE_BYTES : -TAG_BYTES], blob[-TAG_BYTES:]
    try:
        dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
        return dec.update(body) + dec.finalize()
    except (InvalidTag, ValueError):
        raise VaultError(TAMPERED()) from None


def read_file(path: str | Path, keys_dir: str | Path) -> bytes:
    """The plaintext of the stored file at ``path`` (sealed or not)."""
    blob = Path(path).read_bytes()
    return unseal(blob, Keyring.load(keyring_folder(keys_dir))) if is_sealed(blob) else blob


@dataclass
class RotationReport:
    """What :func:`rotate` did."""

    key: str
    resealed: int = 0
    sealed_plaintext: int = 0
    failed: list[str] = field(default_factory=list)


def rotate(uploads: str | Path, keys_dir: str | Path) -> RotationReport:
    """A new current key, and every file in ``uploads`` re-sealed under it (plaintext too).

    Each file is replaced atomically (written beside it, flushed, renamed over it), so an
    interrupted rotation leaves every file readable under the old or the new key; running
    it again finishes the job.  A file that does not open is reported and left as it is.
    """
    keyring = Keyring.open_or_create(keyring_folder(keys_dir)).add_key()
    report = RotationReport(keyring.current)
    for path in sorted(Path(uploads).iterdir()) if Path(uploads).exists() else []:
        if not path.is_file() or path.name.endswith(".tmp"):
            continue
        blob = path.read_bytes()
        try:
            plain = unseal(blob, keyring)
        except VaultError as exc:
            report.failed.append(f"{path.name}: {exc}")
            continue
        _write_atomic(path, seal(plain, keyring))
        if is_sealed(blob):
            report.resealed += 1
        else:
            report.sealed_plaintext += 1
    return report


def write_new(path: str | Path, data: bytes, keyring: Keyring | None) -> None:
    """Write a new stored file (sealed when a keyring is given), mode 0600, never over one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(seal(data, keyring) if keyring else data)
        out.flush()
        os.fsync(out.fileno())


def _write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old or the new bytes."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
