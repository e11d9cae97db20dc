"""Mutual exclusion between sweeps (and dispatchers) running at the same time.

Owns two mechanisms, one per database:

- PostgreSQL: :func:`try_xact_lock` takes ``pg_try_advisory_xact_lock`` on a key derived
  from a name (e.g. ``sweep:/1/5/``).  The lock belongs to the current transaction, so it
  is released at commit, at rollback and when the connection dies (kill -9 included).
- SQLite: a row of the ``lease`` table (:func:`acquire` / :func:`renew` / :func:`release`),
  held across several short write transactions with an expiry in wall-clock time.  A
  lease whose holder is a dead process on this host is taken over at once, so a sweep
  killed with SIGKILL does not block the next one until the lease expires.

Neither is what makes effects exactly-once: that is the unique keys (escalation
``(issue, clock instance, rung)``, outbox ``dedupe_key``, inbox ``(user, outbox)``).  The
locks only keep two workers from doing the same work twice and queueing on each other.
Lease times are wall-clock instants, never the injected business clock (a test sweeping
"in December" must not see a lease taken "in September" as expired).
Must not import flask or ``notifications``.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
import weakref
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflow.models import Lease

DEFAULT_TTL = timedelta(minutes=5)


def wall_now() -> datetime:
    """The real time (leases are about processes, not about business deadlines)."""
    return datetime.now(UTC)


def new_holder() -> str:
    """A holder name: ``host:pid:random`` (the pid lets a dead holder be recognised)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def lock_key(name: str, namespace: str = "") -> int:
    """A signed 64-bit advisory-lock key for ``name`` (stable across processes)."""
    text_ = f"{namespace}/{name}" if namespace else name
    return int.from_bytes(hashlib.sha256(text_.encode()).digest()[:8], "big", signed=True)


# engine pool -> the schema its connections use (fixed by the URL's search_path)
_schemas: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def session_key(session: Session, name: str) -> int:
    """``name``'s advisory-lock key within the session's schema.

    PostgreSQL's advisory locks are per database, not per schema: two installations (or two
    test runs) in one database, each in its own schema, must not lock each other out.
    """
    bind: Any = session.get_bind()
    pool = getattr(bind, "engine", bind).pool
    schema = _schemas.get(pool)
    if schema is None:
        schema = _schemas[pool] = str(session.scalar(text("SELECT current_schema()")))
    return lock_key(name, schema)


def try_xact_lock(session: Session, name: str) -> bool:
    """On PostgreSQL, try the transaction-scoped advisory lock ``name``; elsewhere True."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    key = session_key(session, name)
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key}))


def _holder_dead(holder: str) -> bool:
    """Whether ``holder`` names a process on this host that no longer exists."""
    parts = holder.split(":")
    if len(parts) < 3 or parts[0] != socket.gethostname():
        return False
    try:
        pid = int(parts[1])
    except ValueError:
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    # a zombie (killed, not yet reaped by its parent) still answers kill(pid, 0)
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False


def acquire(
    session: Session,
    name: str,
    holder: str,
    ttl: timedelta = DEFAULT_TTL,
    now: datetime | None = None,
) -> bool:
    """Take lease ``name`` for ``holder`` in the caller's write transaction.

    Succeeds when nobody holds it, when it expired, when ``holder`` already holds it, or
    when its holder is a dead process on this host.
    """
    now = now or wall_now()
    row = session.get(Lease, name, with_for_update=True)
    if row is None:
        try:
            with session.begin_nested():
                session.add(Lease(name=name, holder=holder, expires_at=now + ttl))
        except IntegrityError:  # someone inserted it in between (PostgreSQL)
            return False
        return True
    if row.holder == holder or row.expires_at <= now or _holder_dead(row.holder):
        row.holder, row.expires_at = holder, now + ttl
        session.flush()
        return True
    return False


def renew(
    session: Session,
    name: str,
    holder: str,
    ttl: timedelta = DEFAULT_TTL,
    now: datetime | None = None,
) -> bool:
    """Extend the lease if ``holder`` still holds it; False when it was taken over."""
    now = now or wall_now()
    result = session.execute(
        update(Lease)
        .where(Lease.name == name, Lease.holder == holder)
        .values(expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release(session: Session, name: str, holder: str) -> None:
    """Give the lease back (deleting the row, so an idle database keeps no lease rows)."""
    session.execute(
        delete(Lease)
        .where(Lease.name == name, Lease.holder == holder)
        .execution_options(synchronize_session=False)
    )


def holder_of(session: Session, name: str) -> str | None:
    """Who holds lease ``name`` now (expired or not), for reports."""
    return session.scalar(select(Lease.holder).where(Lease.name == name))
