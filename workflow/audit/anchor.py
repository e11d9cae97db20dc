"""Audit anchoring: signed checkpoints of the chain head, keyed outside the database.

The hash chain (``workflow.audit``) catches an edited, deleted or inserted event, but someone
with write access to the database could rewrite the whole history and recompute every hash.
A checkpoint records (event id, chain hash at that id) signed with HMAC under a key (HMAC-SHA256, or HMAC-SM3
when the chain hashes with SM3)
kept in the instance folder, not in the database, and is also appended to a log file beside
the key.  ``verify_checkpoints`` recomputes nothing it cannot trust: a rewritten history no
longer has the checkpointed hash at the checkpointed id, and a deleted checkpoint row still
stands in the log file.  Must not import flask.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.audit.chain import chain_algorithm
from workflow.audit.hashing import SHA256, mac
from workflow.models import AuditCheckpoint, Event

KEY_FILE = "audit.key"
LOG_FILE = "audit-checkpoints.log"


def key_dir(instance_path: str | Path) -> Path:
    """Where the key and the checkpoint log live: ``<instance>/keys``."""
    return Path(instance_path) / "keys"


def load_key(directory: Path, create: bool = True) -> bytes | None:
    """The checkpoint key (32 random bytes, created with mode 0600 on first use)."""
    path = directory / KEY_FILE
    if not path.exists():
        if not create:
            return None
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def sign(key: bytes, event_id: int, head_hash: str, algorithm: str = SHA256) -> str:
    """The HMAC (the chain's algorithm) over the checkpointed position and hash."""
    return mac(algorithm, key, f"{event_id}:{head_hash}".encode())


def make_checkpoint(
    session: Session, key: bytes, directory: Path, now: datetime
) -> AuditCheckpoint | None:
    """Checkpoint the current chain head (None when there are no events yet)."""
    head = session.execute(select(Event.id, Event.hash).order_by(Event.id.desc()).limit(1)).first()
    if head is None:
        return None
    event_id, head_hash = head
    cp = AuditCheckpoint(
        event_id=event_id,
        head_hash=head_hash,
        signature=sign(key, event_id, head_hash, chain_algorithm(session)),
        created_at=now,
    )
    session.add(cp)
    session.flush()
    line = {
        "event_id": event_id,
        "head_hash": head_hash,
        "signature": cp.signature,
        "at": now.isoformat(),
    }
    with (directory / LOG_FILE).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(line) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return cp


def _logged(directory: Path) -> list[dict]:
    path = directory / LOG_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def verify_checkpoints(session: Session, key: bytes, directory: Path) -> list[str]:
    """Problems found when checking every checkpoint (log file and table) against the chain."""
    problems: list[str] = []
    seen: set[tuple[int, str]] = set()
    entries = [("log", e["event_id"], e["head_hash"], e["signature"]) for e in _logged(directory)]
    entries += [
        ("table", cp.event_id, cp.head_hash, cp.signature)
        for cp in session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id))
    ]
    logged = {(e[1], e[2]) for e in entries if e[0] == "log"}
    algorithm = chain_algorithm(session)
    for where, event_id, head_hash, signature in entries:
        if not hmac.compare_digest(signature, sign(key, event_id, head_hash, algorithm)):
            problems.append(f"checkpoint at event {event_id} ({where}): signature does not match")
            continue
        if (event_id, head_hash) in seen:
            continue
        seen.add((event_id, head_hash))
        actual = session.scalar(select(Event.hash).where(Event.id == event_id))
        if actual is None:
            problems.append(f"checkpoint at event {event_id} ({where}): the event is gone")
        elif actual != head_hash:
            problems.append(
                f"checkpoint at event {event_id} ({where}): history was rewritten "
                f"(hash {actual[:12]}… ≠ checkpointed {head_hash[:12]}…)"
            )
    for event_id, head_hash in logged:
        if not session.scalar(
            select(AuditCheckpoint.id).where(
                AuditCheckpoint.event_id == event_id, AuditCheckpoint.head_hash == head_hash
            )
        ):
            problems.append(f"checkpoint at event {event_id} is in the log but not in the database")
    return problems
