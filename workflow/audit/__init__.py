"""The audit trail: the append-only, hash-chained events and the checkpoints that anchor them.

- :mod:`~workflow.audit.chain`: appending events, the chain's hashes, verifying, the
  database triggers that refuse UPDATE and DELETE;
- :mod:`~workflow.audit.hashing`: the chain's algorithms, SHA-256 (default) and SM3;
- :mod:`~workflow.audit.anchor`: signed checkpoints of the chain head, keyed outside the
  database.

Must not import flask or ``notifications``.
"""

from workflow.audit.chain import (
    CHAIN_STARTED,
    GENESIS,
    Chain,
    VerifyResult,
    append,
    canonical,
    chain_algorithm,
    drop_append_only,
    event_hash,
    head_hash,
    install_append_only,
    instant_text,
    start_chain,
    verify,
)

__all__ = [
    "CHAIN_STARTED",
    "GENESIS",
    "Chain",
    "VerifyResult",
    "append",
    "canonical",
    "chain_algorithm",
    "drop_append_only",
    "event_hash",
    "head_hash",
    "install_append_only",
    "instant_text",
    "start_chain",
    "verify",
]
