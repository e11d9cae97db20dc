"""The audit chain: append-only in the database, and tampering is detected and located."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from workflow import audit
from workflow.models import Event


def _events(database, clock, n: int = 6) -> list[int]:
    ids = []
    with database.writing() as session:
        chain = audit.Chain(session)
        for k in range(n):
            ev = chain.append(
                at=clock.advance(minutes=1),
                action=f"step{k}",
                actor_role="system",
                data={"k": k, "text": "整改"},
            )
            session.flush()
            ids.append(ev.id)
    return ids


def test_an_untouched_chain_verifies(database, clock):
    _events(database, clock)
    with database.reading() as session:
        result = audit.verify(session)
    assert result.ok and result.checked == 6


def test_each_append_links_to_the_previous_hash(database, clock):
    ids = _events(database, clock, 3)
    with database.reading() as session:
        rows = [session.get(Event, i) for i in ids]
    assert rows[0].prev_hash == audit.GENESIS
    assert rows[1].prev_hash == rows[0].hash and rows[2].prev_hash == rows[1].hash


@pytest.mark.parametrize("statement", ["UPDATE event SET action = 'x'", "DELETE FROM event"])
def test_the_database_refuses_update_and_delete(database, clock, statement):
    _events(database, clock, 2)
    with pytest.raises(DatabaseError, match="append-only"), database.writing() as session:
        session.execute(text(statement))


def _tamper(database, sql: str, **params) -> None:
    """What someone with direct database access could do: drop the triggers, then write."""
    with database.engine.begin() as conn:
        audit.drop_append_only(conn)
        conn.execute(text(sql), params)
        audit.install_append_only(conn)


def test_a_modified_event_is_named(database, clock):
    ids = _events(database, clock)
    _tamper(database, "UPDATE event SET action = 'forged' WHERE id = :i", i=ids[3])
    with database.reading() as session:
        result = audit.verify(session)
    assert not result.ok and result.first_bad_id == ids[3] and "modified" in result.reason


def test_a_deleted_event_is_named(database, clock):
    ids = _events(database, clock)
    _tamper(database, "DELETE FROM event WHERE id = :i", i=ids[2])
    with database.reading() as session:
        result = audit.verify(session)
    assert (
        not result.ok and result.first_bad_id == ids[3] and "deleted or inserted" in result.reason
    )


def test_an_inserted_event_is_named(database, clock):
    ids = _events(database, clock)
    with database.reading() as session:
        victim = session.get(Event, ids[2])
        fields = {c: getattr(victim, c) for c in ("at", "action", "actor_role", "outcome")}
    # a forged event wedged into the sequence, with a self-consistent hash of its own
    forged_at = fields["at"] + timedelta(seconds=1)
    content = {
        "issue_id": None,
        "at": audit.instant_text(forged_at),
        "actor_id": None,
        "actor_role": "system",
        "actor_unit_id": None,
        "action": "forged",
        "outcome": "ok",
        "from_state": None,
        "to_state": None,
        "definition_version": None,
        "data": {},
    }
    forged_hash = audit.event_hash(victim.hash, content)
    _tamper(
        database,
        "INSERT INTO event (id, at, action, actor_role, outcome, data, prev_hash, hash) "
        "VALUES (:id, :at, 'forged', 'system', 'ok', '{}', :prev, :hash)",
        id=ids[-1] + 100,
        at=forged_at.replace(tzinfo=None)
        if database.engine.dialect.name == "sqlite"
        else forged_at,
        prev=victim.hash,
        hash=forged_hash,
    )
    # renumber so the forged row sits between two genuine events
    with database.engine.begin() as conn:
        audit.drop_append_only(conn)
        conn.execute(
            text("UPDATE event SET id = id + 1000 WHERE id > :i AND action != 'forged'"),
            {"i": ids[2]},
        )
        conn.execute(
            text("UPDATE event SET id = :new WHERE action = 'forged'"), {"new": ids[2] + 1}
        )
        audit.install_append_only(conn)
    with database.reading() as session:
        result = audit.verify(session)
    assert not result.ok
    assert (
        result.first_bad_id == ids[3] + 1000
    )  # the genuine event after the forgery no longer links
