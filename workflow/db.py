"""Engines and sessions for SQLite (embedded default) and PostgreSQL (scale-out).

Owns connection set-up only: SQLite pragmas (WAL, foreign keys, ``synchronous``, busy
timeout) and the ``BEGIN IMMEDIATE`` that makes a writing transaction take SQLite's write
lock up front, so two writers queue on the busy timeout instead of failing with
"database is locked" half-way through.  Sessions' lifecycles belong to the caller.
Must not import flask.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str, *, synchronous: str = "FULL", echo: bool = False) -> Engine:
    """Create an engine for ``url`` with Rectiflow's connection settings."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        )
        _configure_sqlite(engine, synchronous)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    """Install the pragmas and take over BEGIN from pysqlite."""
    if synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise ValueError(f"unknown SQLite synchronous mode {synchronous!r}")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # pysqlite's own transaction handling would BEGIN lazily (DEFERRED); we issue BEGIN
        # ourselves below so writes can ask for IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA synchronous={synchronous.upper()}")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def is_sqlite(engine: Engine) -> bool:
    """Whether ``engine`` talks to SQLite."""
    return engine.dialect.name == "sqlite"


class Database:
    """The engine plus two session factories: one for reading, one for writing."""

    def __init__(self, url: str, *, synchronous: str = "FULL", echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, synchronous=synchronous, echo=echo)
        writer = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self.read_session = sessionmaker(self.engine, expire_on_commit=False)
        self.write_session = sessionmaker(writer, expire_on_commit=False)

    @contextlib.contextmanager
    def writing(self) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back on error."""
        with self.write_session() as session, session.begin():
            yield session

    @contextlib.contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session (never committed)."""
        with self.read_session() as session:
            yield session

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def allocate_ids(session: Session, table: str, n: int, *, flush: bool = True) -> list[int]:
    """``n`` fresh primary keys of ``table`` before inserting, in ascending order.

    Knowing an issue's id up front lets its number, first deadline and first event go in
    with its row (no INSERT-then-UPDATE).  PostgreSQL draws them from the serial's
    sequence; SQLite counts on from the largest id, which is safe because every writer
    holds the database's write lock (``BEGIN IMMEDIATE``) — a writer that did not would
    fail on the primary key, never overwrite a row.  ``flush=False`` is for callers whose
    pending rows of ``table`` have no ids yet (they are what the ids are for).
    """
    if n <= 0:
        return []
    if flush:
        session.flush()  # ids handed out earlier in this transaction are in the table now
    with session.no_autoflush:
        if session.get_bind().dialect.name == "postgresql":
            rows = session.execute(
                text(
                    "SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"
                ),
                {"t": table, "n": n},
            )
            return sorted(int(r[0]) for r in rows)
        query = f"SELECT coalesce(max(id), 0) FROM {table}"  # noqa: S608  # nosec B608 - our table
        top = session.execute(text(query)).scalar_one()
    return list(range(int(top) + 1, int(top) + 1 + n))
