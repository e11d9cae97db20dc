"""The audit trail: append-only events chained by SHA-256 (or SM3, chosen at install).

Owns appending events, the chain hash, verifying the chain, and the database triggers
that refuse UPDATE and DELETE on the event table.  Every change and every denied attempt
goes through :func:`append`.  Must not import flask.

The chain is global (one sequence for the whole database) so that deleting the newest
event of one issue still breaks a link.  Appending reads the head and writes the next
link inside the caller's transaction; on SQLite that transaction already holds the write
lock (``BEGIN IMMEDIATE``), on PostgreSQL we take a transaction-scoped advisory lock so two
writers can never chain onto the same head.

The hash algorithm is the installation's, chosen once: ``rectiflow db upgrade`` with
``AUDIT_HASH = "sm3"`` starts an empty chain with an ``audit_chain_started`` event that
names it (:func:`start_chain`).  A chain without that first event is SHA-256.  Appending
and verifying read the algorithm from the chain itself, never from configuration, so a
verifier needs no settings and a chain cannot be switched halfway: tampering with the first
event's algorithm breaks that event's own hash.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, select, text
from sqlalchemy.orm import Session

from workflow.audit.hashing import SHA256, check, digest
from workflow.models import Event

GENESIS = "0" * 64
# an arbitrary constant naming the chain's advisory lock on PostgreSQL
CHAIN_LOCK_KEY = 7_160_431
CHAIN_STARTED = "audit_chain_started"  # the first event of a chain that is not SHA-256


def canonical(value: Any) -> Any:
    """Plain JSON-able form of ``value`` (dates as ISO text, decimals as strings)."""
    return json.loads(json.dumps(value, default=str, ensure_ascii=False, sort_keys=True))


def instant_text(at: datetime) -> str:
    """An instant as the chain hashes it: UTC, microseconds, a trailing Z."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(prev_hash: str, fields: dict[str, Any], algorithm: str = SHA256) -> str:
    """The chain hash of an event: the algorithm over the previous hash and the event's content."""
    body = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return digest(algorithm, (prev_hash + "\n" + body).encode("utf-8"))


_HASHED = ("issue_id", "at", "actor_id", "actor_role", "actor_unit_id", "action", "outcome",
           "from_state", "to_state", "definition_version", "data")  # fmt: skip


def _content(ev: Any) -> dict[str, Any]:
    """What the hash of ``ev`` (an :class:`Event` or a row of the event table) covers."""
    if isinstance(ev, Event):
        return _content_of({name: getattr(ev, name) for name in _HASHED})
    return _content_of(ev._mapping)


def _content_of(ev: Any) -> dict[str, Any]:
    """What an event's hash covers, from a mapping of its columns."""
    return {
        "issue_id": ev["issue_id"],
        "at": instant_text(ev["at"]),
        "actor_id": ev["actor_id"],
        "actor_role": ev["actor_role"],
        "actor_unit_id": ev["actor_unit_id"],
        "action": ev["action"],
        "outcome": ev["outcome"],
        "from_state": ev["from_state"],
        "to_state": ev["to_state"],
        "definition_version": ev["definition_version"],
        "data": ev["data"],
    }


def _lock_chain(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        from workflow.db.lease import session_key

        # per schema: one database may hold several installations, each with its own chain
        key = session_key(session, f"audit-chain:{CHAIN_LOCK_KEY}")
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def head_hash(session: Session) -> str:
    """The hash of the newest event, or the genesis hash."""
    last = session.scalar(select(Event.hash).order_by(Event.id.desc()).limit(1))
    return last or GENESIS


def _algorithm_in(first_action: str | None, first_data: Any) -> str:
    """The algorithm a chain whose first event is (action, data) hashes with."""
    if first_action == CHAIN_STARTED and isinstance(first_data, dict):
        return str(first_data.get("algorithm") or SHA256)
    return SHA256


def _head_and_algorithm(session: Session) -> tuple[str, str]:
    """The chain head and its algorithm, in one round trip (two index probes)."""
    first = select(Event.id).order_by(Event.id).limit(1).scalar_subquery()
    row = session.execute(
        select(
            select(Event.hash).order_by(Event.id.desc()).limit(1).scalar_subquery(),
            select(Event.data).where(Event.id == first, Event.action == CHAIN_STARTED)
            .scalar_subquery(),
        )
    ).one()  # fmt: skip
    head, started = row
    return head or GENESIS, _algorithm_in(CHAIN_STARTED if started else None, started)


def chain_algorithm(session: Session) -> str:
    """The algorithm the chain in this database hashes with."""
    return _head_and_algorithm(session)[1]


def start_chain(session: Session, algorithm: str, now: datetime) -> bool:
    """Fix the chain's algorithm at install; True if this call started the chain.

    SHA-256 needs no first event (every older chain is SHA-256).  Any other algorithm is
    named by an ``audit_chain_started`` event, which must be the first: a chain that has
    events already keeps its algorithm, and asking for another raises ValueError.
    """
    check(algorithm)
    _lock_chain(session)
    session.flush()
    head, have = _head_and_algorithm(session)
    if head != GENESIS:
        if have != algorithm:
            raise ValueError(
                f"the audit chain already hashes with {have}; the algorithm is chosen once, "
                f"before the first event (AUDIT_HASH = {algorithm!r} cannot apply now)"
            )
        return False
    if algorithm == SHA256:
        return False
    chain = Chain(session)
    chain.algorithm = algorithm  # the first event is already hashed as the chain will be
    chain.append(at=now, action=CHAIN_STARTED, data={"algorithm": algorithm})
    session.flush()
    return True


class Chain:
    """Appends several events in one transaction while holding the chain head in memory."""

    def __init__(self, session: Session) -> None:
        self.session = session
        _lock_chain(session)
        session.flush()
        self.head, self.algorithm = _head_and_algorithm(session)
        self.unnumbered: list[Event] = []

    def append(self, **fields: Any) -> Event:
        """Add one event (fields as on :class:`Event`) linked to the current head."""
        fields.setdefault("outcome", "ok")
        fields["data"] = canonical(fields.get("data") or {})
        ev = Event(**fields)
        ev.prev_hash = self.head
        ev.hash = event_hash(self.head, _content(ev), self.algorithm)
        self.session.add(ev)
        self.head = ev.hash
        self.unnumbered.append(ev)
        return ev

    def insert(self, events: Sequence[dict[str, Any]]) -> list[int]:
        """Append ``events`` (fields as on :class:`Event`) as plain rows; their ids, in order.

        For a batch (the sweep's hundreds of escalations): ids drawn up front, each event
        linked and hashed here, all inserted with one ``executemany`` and no ORM objects.
        """
        from workflow.db import allocate_ids, insert_plain

        ids = allocate_ids(self.session, "event", len(events))
        rows = []
        for event_id, fields in zip(ids, events, strict=True):
            row = {**fields, "id": event_id, "outcome": fields.get("outcome", "ok")}
            row["data"] = canonical(fields.get("data") or {})
            row["prev_hash"] = self.head
            row["hash"] = self.head = event_hash(self.head, _content_of(row), self.algorithm)
            rows.append(row)
        insert_plain(self.session, cast(Table, Event.__table__), rows)
        return ids

    def number(self) -> None:
        """Give the events appended so far their ids, in chain order, before they are flushed.

        With their ids known the flush inserts them with one multi-row statement instead of
        one ``INSERT … RETURNING`` each (a batch of hundreds).  The chain is verified in id
        order, which is the order they were appended.
        """
        from workflow.db import allocate_ids

        waiting = [ev for ev in self.unnumbered if ev.id is None]
        for ev, event_id in zip(
            waiting, allocate_ids(self.session, "event", len(waiting), flush=False), strict=True
        ):
            ev.id = event_id
        self.unnumbered = []


def append(session: Session, **fields: Any) -> Event:
    """Append one event to the chain in the caller's transaction and flush it (id assigned)."""
    ev = Chain(session).append(**fields)
    session.flush()
    return ev


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of a chain verification."""

    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str = ""
    algorithm: str = SHA256


def verify(session: Session, batch: int = 5000) -> VerifyResult:
    """Walk the whole chain in id order and name the first event that breaks it."""
    prev = GENESIS
    checked = 0
    algorithm = SHA256
    for ev in _stream(session, batch):
        if checked == 0:  # the first event says which algorithm the chain uses
            algorithm = _algorithm_in(ev.action, ev.data)
        if ev.prev_hash != prev:
            return VerifyResult(
                False, checked, ev.id, "link broken: an event before it was deleted or inserted",
                algorithm,
            )  # fmt: skip
        if event_hash(prev, _content(ev), algorithm) != ev.hash:
            return VerifyResult(
                False, checked, ev.id, "content does not match its hash (modified)", algorithm
            )
        prev = ev.hash
        checked += 1
    return VerifyResult(True, checked, algorithm=algorithm)


def _stream(session: Session, batch: int) -> Iterator[Any]:
    """Every event in id order, as plain rows read in keyset pages (no ORM objects: a
    verification of millions of events must not pay for an identity map)."""
    table = Event.__table__
    last_id = 0
    while True:
        rows = session.execute(
            select(table).where(table.c.id > last_id).order_by(table.c.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id


SQLITE_TRIGGERS = [
    """CREATE TRIGGER IF NOT EXISTS event_no_update BEFORE UPDATE ON event
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS event_no_delete BEFORE DELETE ON event
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
]

POSTGRES_TRIGGERS = [
    """CREATE OR REPLACE FUNCTION event_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit events are append-only'; END; $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS event_no_change ON event",
    """CREATE TRIGGER event_no_change BEFORE UPDATE OR DELETE ON event
       FOR EACH ROW EXECUTE FUNCTION event_append_only()""",
    "DROP TRIGGER IF EXISTS event_no_truncate ON event",
    """CREATE TRIGGER event_no_truncate BEFORE TRUNCATE ON event
       FOR EACH STATEMENT EXECUTE FUNCTION event_append_only()""",
]


def install_append_only(conn: Connection) -> None:
    """Create the triggers that make the event table append-only in the database itself."""
    statements = SQLITE_TRIGGERS if conn.dialect.name == "sqlite" else POSTGRES_TRIGGERS
    for stmt in statements:
        conn.exec_driver_sql(stmt)


def drop_append_only(conn: Connection) -> None:
    """Remove the triggers (what an attacker with database access could do; used by tests)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS event_no_update")
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS event_no_delete")
    else:
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS event_no_change ON event")
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS event_no_truncate ON event")
