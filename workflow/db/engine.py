"""Engines and sessions for SQLite (embedded default) and PostgreSQL (scale-out).

Owns connection set-up only: SQLite pragmas (WAL, foreign keys, ``synchronous``, busy
timeout) and the ``BEGIN IMMEDIATE`` that makes a writing transaction take SQLite's write
lock up front, so two writers queue on the busy timeout instead of failing with
"database is locked" half-way through.  Sessions' lifecycles belong to the caller.
Must not import flask.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Row,
    Table,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
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


_shared: dict[str, Database] = {}
_shared_lock = threading.Lock()


def shared_database(url: str) -> Database:
    """One :class:`Database` per URL for this process (scheduler jobs, Prefect tasks).

    Jobs and tasks are handed a URL, not a handle; opening an engine per run would cost a
    connection pool each time.
    """
    with _shared_lock:
        if url not in _shared:
            _shared[url] = Database(url)
        return _shared[url]


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


def dialect_of(session: Session) -> str:
    """The name of the session's database dialect (``sqlite`` or ``postgresql``).

    ``session.bind`` when the session has one (ours do: one engine per Database), which is
    ~100× cheaper than ``get_bind()``'s mapper lookup on a hot path.
    """
    bind = session.bind if session.bind is not None else session.get_bind()
    return str(bind.dialect.name)


def among(session: Session, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN (values)``; on PostgreSQL ``column = ANY(:array)``, one parameter.

    psycopg parses anew every query with over 50 parameters (it caches only shorter ones),
    and a batch of 500 ids made that parse ~15 % of a sweep; with one array parameter the
    text is the same whatever the batch, so the parse is cached and the server sees one
    statement shape.
    """
    values = list(values)
    if dialect_of(session) == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


def insert_returning(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    returning: Sequence[Any],
    *,
    skip_conflicts_on: Sequence[str] = (),
) -> list[Row[Any]]:
    """INSERT ``rows`` into ``table`` RETURNING ``returning``, in one statement.

    With ``skip_conflicts_on`` (a unique key's columns) a row that would break the key is
    left out (``ON CONFLICT DO NOTHING``) and returns nothing.  On PostgreSQL the values
    travel as one array per column, turned back into rows by ``unnest``: SQLAlchemy's
    multi-row ``VALUES`` has rows × columns parameters, which psycopg parses anew on
    every execution (~40 ms for a batch of 460 letters, 7 % of a sweep).
    """
    if not rows:
        return []
    cols = list(rows[0])
    stmt: Any
    if dialect_of(session) == "postgresql":
        arrays = [
            func.unnest(bindparam(f"u_{c}", [r[c] for r in rows], type_=ARRAY(table.c[c].type)))
            for c in cols
        ]
        stmt = postgresql.insert(table).from_select(cols, select(*arrays))
        if skip_conflicts_on:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(skip_conflicts_on))
        return list(session.execute(stmt.returning(*returning)).all())
    stmt = sqlite.insert(table)
    if skip_conflicts_on:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(skip_conflicts_on))
    return list(session.execute(stmt.returning(*returning), list(rows)).all())


def insert_plain(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT ``rows`` (dicts with the same keys) into ``table`` with one ``executemany``.

    The rows go to the driver as plain tuples, each value through its column type's own
    bind processor; a value several rows share (one issue's payload, a batch's ``now``)
    is processed once.  For batches of hundreds of rows built by our own code: it skips
    SQLAlchemy's per-row parameter handling, which cost as much as the insert itself.
    """
    if not rows:
        return
    conn = session.connection()
    cols = tuple(rows[0])
    sql, procs = _plain_insert(conn.dialect, table, cols)
    done: dict[tuple[int, int], tuple[Any, Any]] = {}

    def bind(i: int, value: Any) -> Any:
        proc = procs[i]
        if proc is None or value is None:
            return value
        hit = done.get((i, id(value)))
        if hit is None or hit[0] is not value:  # the id of a value no longer alive: redo
            hit = done[(i, id(value))] = (value, proc(value))
        return hit[1]

    conn.exec_driver_sql(sql, [tuple(bind(i, r[c]) for i, c in enumerate(cols)) for r in rows])


_PLAIN_INSERTS: dict[tuple[str, str, tuple[str, ...]], tuple[str, list[Any]]] = {}


def _plain_insert(dialect: Any, table: Table, cols: tuple[str, ...]) -> tuple[str, list[Any]]:
    """The positional INSERT of ``cols`` into ``table`` and each column's bind processor."""
    key = (dialect.name, table.name, cols)
    if key not in _PLAIN_INSERTS:
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        sql = (
            f"INSERT INTO {table.name} ({', '.join(cols)}) "  # nosec B608 - our own columns
            f"VALUES ({', '.join([mark] * len(cols))})"
        )
        procs = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in cols]
        _PLAIN_INSERTS[key] = (sql, procs)
    return _PLAIN_INSERTS[key]
