"""Audit anchoring: checkpoints of the chain head, signed with a key kept outside the database.

The hash chain (``workflow.audit``) catches an edited, deleted or inserted event, but someone
with write access to the database could rewrite the whole history and recompute every hash.
A checkpoint records (event id, chain hash at that id), signed with **Ed25519** under a
private key kept in the instance folder (``keys/audit-signing.pem``, mode 0600), and is also
appended to a log file beside it.  Verifying needs only the public key
(``keys/audit-signing.pub.pem``): publish it, hand it to an inspector, print its fingerprint
in the annual report — whoever verifies cannot sign.  A rewritten history no longer has the
checkpointed hash at the checkpointed id, and a deleted checkpoint row still stands in the
log file.

Checkpoints made before Ed25519 carry an HMAC-SHA256 under ``keys/audit.key`` (a shared
secret: anyone able to verify them could forge them); they still verify while that file is
kept.  Must not import flask.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.models import AuditCheckpoint, Event

PRIVATE_FILE = "audit-signing.pem"
PUBLIC_FILE = "audit-signing.pub.pem"
LEGACY_HMAC_FILE = "audit.key"
LOG_FILE = "audit-checkpoints.log"
ED25519 = "ed25519:"  # the prefix of an Ed25519 signature (base64 after it)


@dataclass(frozen=True)
class Verifier:
    """What checks checkpoints: the public key, and the old HMAC secret if it is still kept."""

    public: Ed25519PublicKey | None
    legacy_hmac: bytes | None = None


def key_dir(instance_path: str | Path) -> Path:
    """Where the keys and the checkpoint log live: ``<instance>/keys``."""
    return Path(instance_path) / "keys"


def signing_key(directory: Path) -> Ed25519PrivateKey:
    """The private key (created with mode 0600, and its public key beside it, on first use)."""
    path = directory / PRIVATE_FILE
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())  # fmt: skip
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        (directory / PUBLIC_FILE).write_bytes(public_pem(key.public_key()))
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return loaded


def public_pem(public: Ed25519PublicKey) -> bytes:
    """The public key as PEM (what is published)."""
    return public.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo)  # fmt: skip


def fingerprint(public: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, in groups of four hex digits (to read out or print)."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    digest = hashlib.sha256(raw).hexdigest()
    return " ".join(digest[i : i + 4] for i in range(0, 32, 4))


def verifier(directory: Path, public_file: Path | None = None) -> Verifier | None:
    """The verifier from the key folder (or a published public key file); None if no key."""
    path = public_file or directory / PUBLIC_FILE
    public = None
    if path.exists():
        loaded = serialization.load_pem_public_key(path.read_bytes())
        if not isinstance(loaded, Ed25519PublicKey):
            raise ValueError(f"{path} is not an Ed25519 public key")
        public = loaded
    legacy = directory / LEGACY_HMAC_FILE
    secret = bytes.fromhex(legacy.read_text().strip()) if legacy.exists() else None
    if public is None and secret is None:
        return None
    return Verifier(public, secret)


def _message(event_id: int, head_hash: str) -> bytes:
    return f"{event_id}:{head_hash}".encode()


def sign(key: Ed25519PrivateKey, event_id: int, head_hash: str) -> str:
    """``ed25519:<base64>`` over the checkpointed position and hash (fits the 128-char column)."""
    return ED25519 + base64.b64encode(key.sign(_message(event_id, head_hash))).decode()


def signature_ok(check: Verifier, event_id: int, head_hash: str, signature: str) -> bool:
    """Whether ``signature`` is a valid checkpoint signature (Ed25519, or a legacy HMAC)."""
    if signature.startswith(ED25519):
        if check.public is None:
            return False
        try:
            raw = base64.b64decode(signature[len(ED25519) :], validate=True)
            check.public.verify(raw, _message(event_id, head_hash))
        except (InvalidSignature, ValueError):
            return False
        return True
    if check.legacy_hmac is None:
        return False
    expected = hmac.new(check.legacy_hmac, _message(event_id, head_hash), hashlib.sha256)
    return hmac.compare_digest(signature, expected.hexdigest())


def make_checkpoint(
    session: Session, key: Ed25519PrivateKey, directory: Path, now: datetime
) -> AuditCheckpoint | None:
    """Checkpoint the current chain head (None when there are no events yet)."""
    head = session.execute(select(Event.id, Event.hash).order_by(Event.id.desc()).limit(1)).first()
    if head is None:
        return None
    event_id, head_hash = head
    cp = AuditCheckpoint(event_id=event_id, head_hash=head_hash,
                         signature=sign(key, event_id, head_hash), created_at=now)  # fmt: skip
    session.add(cp)
    session.flush()
    line = {"event_id": event_id, "head_hash": head_hash, "signature": cp.signature,
            "at": now.isoformat()}  # fmt: skip
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


def verify_checkpoints(session: Session, check: Verifier, directory: Path) -> list[str]:
    """Problems found when checking every checkpoint (log file and table) against the chain."""
    problems: list[str] = []
    seen: set[tuple[int, str]] = set()
    entries = [("log", e["event_id"], e["head_hash"], e["signature"]) for e in _logged(directory)]
    entries += [
        ("table", cp.event_id, cp.head_hash, cp.signature)
        for cp in session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id))
    ]
    logged = {(e[1], e[2]) for e in entries if e[0] == "log"}
    for where, event_id, head_hash, signature in entries:
        if not signature_ok(check, event_id, head_hash, signature):
            problems.append(f"checkpoint at event {event_id} ({where}): signature does not match")
            continue
        if (event_id, head_hash) in seen:
            continue
        seen.add((event_id, head_hash))
        problems += _against_chain(session, where, event_id, head_hash)
    for event_id, head_hash in logged:
        if not session.scalar(
            select(AuditCheckpoint.id).where(
                AuditCheckpoint.event_id == event_id, AuditCheckpoint.head_hash == head_hash
            )
        ):
            problems.append(f"checkpoint at event {event_id} is in the log but not in the database")
    return problems


def _against_chain(session: Session, where: str, event_id: int, head_hash: str) -> list[str]:
    """What is wrong with one authentic checkpoint against the chain today."""
    actual = session.scalar(select(Event.hash).where(Event.id == event_id))
    if actual is None:
        return [f"checkpoint at event {event_id} ({where}): the event is gone"]
    if actual != head_hash:
        return [f"checkpoint at event {event_id} ({where}): history was rewritten "
                f"(hash {actual[:12]}… ≠ checkpointed {head_hash[:12]}…)"]  # fmt: skip
    return []
