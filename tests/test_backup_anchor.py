"""Backups taken under write load restore to a database whose audit chain verifies; signed
checkpoints catch a full rewrite of history that the chain alone cannot."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from tests.conftest import make_database
from workflow import audit
from workflow.audit.anchor import make_checkpoint, signing_key, verifier, verify_checkpoints
from workflow.db.backup import BackupError, backup, restore
from workflow.models import AuditCheckpoint, Event


def _write_events(database, clock, stop: threading.Event, counter: list[int]) -> None:
    """A writer appending events in small transactions until told to stop."""
    while not stop.is_set() and counter[0] < 2000:
        with database.writing() as session:
            chain = audit.Chain(session)
            for _ in range(5):
                chain.append(
                    at=clock.now + timedelta(seconds=counter[0]),
                    action="load",
                    actor_role="system",
                    data={"n": counter[0]},
                )
                counter[0] += 1


def test_backup_under_write_load_restores_a_verifiable_chain(database, clock, tmp_path):
    stop, counter = threading.Event(), [0]
    writer = threading.Thread(target=_write_events, args=(database, clock, stop, counter))
    writer.start()
    try:
        while counter[0] < 50:
            threading.Event().wait(0.01)  # let the writer get going (not a deadline wait)
        target = backup(database.engine, tmp_path / "backup.db")
    finally:
        stop.set()
        writer.join()
    with database.reading() as s:
        written = s.scalar(select(func.count()).select_from(Event))
    assert written == counter[0] > 0
    if database.engine.dialect.name == "sqlite":
        fresh = make_database(f"sqlite:///{tmp_path / 'restored.sqlite'}")
    else:
        fresh = database  # restore over the live schema (after stopping writers)
    restore(fresh.engine, target)
    with fresh.reading() as s:
        restored = s.scalar(select(func.count()).select_from(Event))
        result = audit.verify(s)
    assert result.ok and 0 < restored <= written
    with pytest.raises(BackupError, match="exists"):
        backup(database.engine, target)


def test_restore_refuses_a_missing_or_corrupt_file(sqlite_database, tmp_path):
    with pytest.raises(BackupError, match="no such backup"):
        restore(sqlite_database.engine, tmp_path / "nope.db")
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x00" * 4096)
    with pytest.raises(Exception):  # noqa: B017 - sqlite reports corruption in its own words
        restore(sqlite_database.engine, bad)


def _chain(database, clock, n: int) -> None:
    with database.writing() as s:
        chain = audit.Chain(s)
        for k in range(n):
            chain.append(at=clock.advance(minutes=1), action=f"a{k}", actor_role="system")


def test_checkpoints_detect_a_full_rewrite_of_history(database, clock, tmp_path):
    """Removing the checkpoint (or signing nothing) lets this rewrite pass `audit.verify`."""
    keys = tmp_path / "keys"
    key = signing_key(keys)
    assert (keys / "audit-signing.pem").stat().st_mode & 0o777 == 0o600
    check = verifier(keys)
    assert check is not None
    _chain(database, clock, 5)
    with database.writing() as s:
        make_checkpoint(s, key, keys, clock())
        assert verify_checkpoints(s, check, keys) == []
    # an attacker with database access rewrites every event and recomputes the whole chain
    with database.reading() as s:
        rows = s.execute(select(Event.at, Event.action).order_by(Event.id)).all()
    with database.engine.begin() as conn:
        audit.drop_append_only(conn)
        conn.execute(text("DELETE FROM event"))
    with database.writing() as s:
        chain = audit.Chain(s)
        for at, action in rows:
            chain.append(at=at, action=f"forged-{action}", actor_role="system")
    with database.engine.begin() as conn:
        audit.install_append_only(conn)
    with database.reading() as s:
        assert audit.verify(s).ok  # the chain alone is fooled
        problems = verify_checkpoints(s, check, keys)
    assert problems and ("rewritten" in problems[0] or "gone" in problems[0])


def test_a_deleted_checkpoint_row_is_still_in_the_log(sqlite_database, clock, tmp_path):
    keys = tmp_path / "keys"
    key = signing_key(keys)
    _chain(sqlite_database, clock, 3)
    with sqlite_database.writing() as s:
        make_checkpoint(s, key, keys, clock())
    with sqlite_database.writing() as s:
        s.execute(AuditCheckpoint.__table__.delete())
    with sqlite_database.reading() as s:
        problems = verify_checkpoints(s, verifier(keys), keys)
    assert any("not in the database" in p for p in problems)


def test_a_forged_checkpoint_signature_is_refused(sqlite_database, clock, tmp_path):
    keys = tmp_path / "keys"
    key = signing_key(keys)
    _chain(sqlite_database, clock, 2)
    with sqlite_database.writing() as s:
        cp = make_checkpoint(s, key, keys, clock())
        assert cp is not None
        cp.signature = "0" * 64
    with sqlite_database.reading() as s:
        assert any("signature" in p for p in verify_checkpoints(s, verifier(keys), keys))


def test_the_public_key_alone_verifies_and_cannot_sign(sqlite_database, clock, tmp_path):
    """An inspector holding only the published key verifies; a key they make is refused."""
    keys = tmp_path / "keys"
    key = signing_key(keys)
    _chain(sqlite_database, clock, 3)
    with sqlite_database.writing() as s:
        cp = make_checkpoint(s, key, keys, clock())
        assert cp is not None and cp.signature.startswith("ed25519:")
    published = tmp_path / "published.pem"
    published.write_bytes((keys / "audit-signing.pub.pem").read_bytes())
    inspector = tmp_path / "inspector"
    inspector.mkdir()
    (inspector / "audit-checkpoints.log").write_text((keys / "audit-checkpoints.log").read_text())
    check = verifier(inspector, published)
    assert check is not None and check.legacy_hmac is None
    with sqlite_database.reading() as s:
        assert verify_checkpoints(s, check, inspector) == []
    # whoever verifies holds no private key: a checkpoint signed with another key is refused
    with sqlite_database.writing() as s:
        make_checkpoint(s, signing_key(tmp_path / "forger"), inspector, clock())
    with sqlite_database.reading() as s:
        problems = verify_checkpoints(s, check, inspector)
    assert any("signature does not match" in p for p in problems)


def test_old_hmac_checkpoints_still_verify(sqlite_database, clock, tmp_path):
    import hashlib
    import hmac
    import secrets

    keys = tmp_path / "keys"
    keys.mkdir()
    secret = secrets.token_bytes(32)
    (keys / "audit.key").write_text(secret.hex())
    _chain(sqlite_database, clock, 2)
    with sqlite_database.writing() as s:
        head = s.execute(select(Event.id, Event.hash).order_by(Event.id.desc())).first()
        old = hmac.new(secret, f"{head.id}:{head.hash}".encode(), hashlib.sha256).hexdigest()
        s.add(AuditCheckpoint(event_id=head.id, head_hash=head.hash, signature=old,
                              created_at=clock()))  # fmt: skip
        make_checkpoint(s, signing_key(keys), keys, clock())  # and a new Ed25519 one
    with sqlite_database.reading() as s:
        assert verify_checkpoints(s, verifier(keys), keys) == []
    (keys / "audit.key").unlink()  # without the old secret the old checkpoint cannot be checked
    with sqlite_database.reading() as s:
        assert any("signature" in p for p in verify_checkpoints(s, verifier(keys), keys))
