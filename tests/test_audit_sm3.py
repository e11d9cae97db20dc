"""国密 option: the audit chain hashes with SM3 when chosen at install, and verify knows it."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from tests.test_audit import _events, _tamper
from web.cli import cli
from workflow import audit
from workflow.audit import anchor, hashing
from workflow.models import Event


def test_sm3_is_the_standard_algorithm():
    # GB/T 32905-2016, appendix A.1: SM3("abc")
    assert hashing.digest("sm3", b"abc") == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )
    assert hashing.digest("sha256", b"abc").startswith("ba7816bf")
    with pytest.raises(ValueError, match="unknown audit hash 'md5'"):
        hashing.check("md5")


def _sm3_chain(database, clock, n: int = 5) -> list[int]:
    with database.writing() as session:
        assert audit.start_chain(session, "sm3", clock.now)
    return _events(database, clock, n)


def test_an_sm3_chain_hashes_with_sm3_and_verifies(database, clock):
    ids = _sm3_chain(database, clock)
    with database.reading() as session:
        assert audit.chain_algorithm(session) == "sm3"
        first, second = session.scalars(select(Event).order_by(Event.id).limit(2))
        assert first.action == audit.CHAIN_STARTED and first.data == {"algorithm": "sm3"}
        content = audit.chain._content(second)
        assert second.hash == audit.event_hash(first.hash, content, "sm3")
        assert second.hash != audit.event_hash(first.hash, content, "sha256")
        result = audit.verify(session)
    assert result.ok and result.checked == len(ids) + 1 and result.algorithm == "sm3"


def test_tampering_with_an_sm3_chain_is_caught(database, clock):
    ids = _sm3_chain(database, clock)
    _tamper(database, "UPDATE event SET action = 'forged' WHERE id = :i", i=ids[2])
    with database.reading() as session:
        result = audit.verify(session)
    assert not result.ok and result.first_bad_id == ids[2] and "modified" in result.reason


def test_switching_the_first_event_to_sha256_breaks_it(database, clock):
    _sm3_chain(database, clock)
    with database.reading() as session:
        first_id = session.scalar(select(Event.id).order_by(Event.id).limit(1))
    # claim the chain is SHA-256 by renaming its first event: that event's hash no longer fits
    _tamper(database, "UPDATE event SET action = 'renamed' WHERE id = :i", i=first_id)
    with database.reading() as session:
        result = audit.verify(session)
    assert not result.ok and result.first_bad_id == first_id and result.algorithm == "sha256"


def test_the_algorithm_is_chosen_once(database, clock):
    _events(database, clock, 2)  # a chain with events and no start event is SHA-256
    with database.writing() as session:
        assert audit.chain_algorithm(session) == "sha256"
        assert not audit.start_chain(session, "sha256", clock.now)
        with pytest.raises(ValueError, match="already hashes with sha256"):
            audit.start_chain(session, "sm3", clock.now)


def test_checkpoints_of_an_sm3_chain_verify(database, clock, tmp_path):
    _sm3_chain(database, clock, 3)
    key = anchor.signing_key(tmp_path)
    with database.writing() as session:
        cp = anchor.make_checkpoint(session, key, tmp_path, clock.now)
        assert cp is not None and cp.head_hash == audit.head_hash(session)
    with database.reading() as session:
        assert anchor.verify_checkpoints(session, anchor.verifier(tmp_path), tmp_path) == []


def test_db_upgrade_starts_the_chain_with_the_configured_hash(tmp_path, monkeypatch):
    monkeypatch.setenv("RECTIFLOW_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("RECTIFLOW_DATABASE_URL", raising=False)
    runner = CliRunner()
    env = {"RECTIFLOW_AUDIT_HASH": "sm3"}
    first = runner.invoke(cli, ["db", "upgrade"], env=env, catch_exceptions=False)
    assert first.exit_code == 0 and "audit chain started with sm3" in first.output
    again = runner.invoke(cli, ["db", "upgrade"], env=env, catch_exceptions=False)
    assert again.exit_code == 0 and "started" not in again.output
    checked = runner.invoke(cli, ["audit", "verify"], catch_exceptions=False)
    assert checked.exit_code == 0 and "(sm3)" in checked.output, checked.output
    changed = runner.invoke(cli, ["db", "upgrade"], env={"RECTIFLOW_AUDIT_HASH": "sha256"})
    assert changed.exit_code == 1 and "already hashes with sm3" in changed.output
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'instance' / 'rectiflow.sqlite'}")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM event")).scalar() >= 1
    engine.dispose()
