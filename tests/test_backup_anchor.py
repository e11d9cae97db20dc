"""Backups taken under write load restore to a database whose audit chain verifies; signed
checkpoints catch a full rewrite of history that the chain alone cannot."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from tests.conftest import make_database
from workflow import audit
from workflow.audit.anchor import load_key, make_checkpoint, verify_checkpoints
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
    key = load_key(keys)
    assert key is not None and (keys / "audit.key").stat().st_mode & 0o777 == 0o600
    _chain(database, clock, 5)
    with database.writing() as s:
        make_checkpoint(s, key, keys, clock())
        assert verify_checkpoints(s, key, keys) == []
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
        problems = verify_checkpoints(s, key, keys)
    assert problems and ("rewritten" in problems[0] or "gone" in problems[0])


def test_a_deleted_checkpoint_row_is_still_in_the_log(sqlite_database, clock, tmp_path):
    keys = tmp_path / "keys"
    key = load_key(keys)
    assert key is not None
    _chain(sqlite_database, clock, 3)
    with sqlite_database.writing() as s:
        make_checkpoint(s, key, keys, clock())
    with sqlite_database.writing() as s:
        s.execute(AuditCheckpoint.__table__.delete())
    with sqlite_database.reading() as s:
        problems = verify_checkpoints(s, key, keys)
    assert any("not in the database" in p for p in problems)


def test_a_forged_checkpoint_signature_is_refused(sqlite_database, clock, tmp_path):
    keys = tmp_path / "keys"
    key = load_key(keys)
    assert key is not None
    _chain(sqlite_database, clock, 2)
    with sqlite_database.writing() as s:
        cp = make_checkpoint(s, key, keys, clock())
        assert cp is not None
        cp.signature = "0" * 64
    with sqlite_database.reading() as s:
        assert any("signature" in p for p in verify_checkpoints(s, key, keys))
