"""The benchmark data set: N issues over U units, written with bulk Core INSERTs.

Builds a realistic province (province → 11 cities → ~90 counties → townships → villages),
one office / supervisor / unit clerk / unit head per unit as the service expects, and N
``rectification`` issues spread over the township and village units, each with the audit
events of the path it took to its state (a valid global hash chain), a clock instance for
every issue whose state runs a clock, and the escalations that would already have fired.

Rows go in through the DB-API directly (``executemany`` on SQLite with the journal and
fsync off for the load, ``COPY`` on PostgreSQL), in chunks, so 1,000,000 issues and ~5 M
events load in minutes on 2 cores.  Every value is what the ORM itself would store, so
the engine (``service.act``, ``escalation.sweep``, ``audit.verify``) accepts the rows.

The sweep figure relies on the shape: 5 % of the open issues are in 整改中 with their
``rectify`` deadline two working days past (their reminders fired, the yellow card is
newly due); every other running deadline lies 30–200 days ahead.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text

from workflow import audit
from workflow.clock import escalation
from workflow.clock.calendar import WorkCalendar, end_of_day
from workflow.clock.calendar_load import seed_from_packages
from workflow.db import Database
from workflow.definition.registry import definition_of, sync_definitions
from workflow.models import Base, DefinitionVersion
from workflow.org.units import hash_password

# Monday 2026-03-16 10:00 Beijing time: the instant every benchmark runs "at"
NOW = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)
PG_URL = os.environ.get(
    "RECTIFLOW_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PASSWORD = "bench-2026"
CHUNK = 20_000
OVERDUE_SHARE = 0.05

# the happy path of definitions/rectification.yaml: (action, role acting, state reached)
PATH = [
    ("sign_for", "unit_user", "planning"),
    ("submit_plan", "unit_user", "plan_attest"),
    ("attest_plan", "unit_head", "plan_review"),
    ("approve_plan", "supervisor", "correcting"),
    ("request_closeout", "unit_user", "closeout_attest"),
    ("attest_closeout", "unit_head", "acceptance"),
    ("accept", "supervisor", "closed"),
    ("followup_holds", "spot_check", "archived"),
]
# state → (share of issues, steps along PATH to get there, clock running in it, its status)
STATES: dict[str, tuple[float, int, str | None, str]] = {
    "transferred": (0.10, 0, "sign_for", "running"),
    "planning": (0.08, 1, "plan", "running"),
    "plan_attest": (0.04, 2, "plan", "running"),
    "plan_review": (0.04, 3, "plan", "paused"),
    "correcting": (0.34, 4, "rectify", "running"),
    "closeout_attest": (0.05, 5, "rectify", "running"),
    "acceptance": (0.05, 6, "rectify", "running"),
    "closed": (0.10, 7, "followup", "running"),
    "archived": (0.20, 8, None, "stopped"),
}
TITLES = [
    "考核奖金发放不规范",
    "农村危房改造资金使用不规范",
    "“三重一大”决策制度执行不严",
    "基层党组织组织生活不规范",
    "公务用车管理不严",
    "工程项目招投标不规范",
    "意识形态工作责任制落实不到位",
    "村级集体“三资”管理混乱",
]
DESCRIPTION = "专项资金拨付滞后，部分资金被挪作他用；重大事项未经集体研究，会议记录不完整。"
CATEGORIES = ["党的领导弱化", "党的建设缺失", "全面从严治党不力", "选人用人问题"]


@dataclass
class Dataset:
    """A generated database and what the figures need to know about it."""

    kind: str  # sqlite | postgres
    url: str
    issues: int
    units: int
    events: int
    now: datetime
    definition_id: int
    root_id: int
    city_ids: list[int]
    county_ids: list[int]
    # (unit_id, role) → user id; roles: office, supervisor, leader, unit_user, unit_head, …
    users: dict[tuple[int, str], int]
    by_state: dict[str, list[int]] = field(default_factory=dict)
    newly_due: int = 0
    newly_due_ids: list[int] = field(default_factory=list)
    path: Path | None = None  # the SQLite file
    schema: str | None = None  # the PostgreSQL schema
    seconds: float = 0.0

    def database(self, synchronous: str = "FULL") -> Database:
        """A :class:`Database` on this data set."""
        return Database(self.url, synchronous=synchronous)

    def size_bytes(self) -> int:
        """Bytes the data set takes (SQLite file + WAL, or the PostgreSQL schema)."""
        if self.path is not None:
            wal = Path(f"{self.path}-wal")
            return self.path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
        eng = create_engine(PG_URL)
        with eng.connect() as conn:
            n = conn.execute(
                text(
                    "SELECT coalesce(sum(pg_total_relation_size(c.oid)),0) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid=c.relnamespace "
                    "WHERE n.nspname=:s AND c.relkind IN ('r','m')"
                ),
                {"s": self.schema},
            ).scalar()
        eng.dispose()
        return int(n or 0)

    def drop(self) -> None:
        """Remove the data set."""
        if self.path is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        elif self.schema:
            drop_schema(self.schema)


# ------------------------------------------------------------------------------ places


def new_sqlite_url(workdir: Path, name: str) -> tuple[str, Path]:
    """A fresh SQLite file under ``workdir``."""
    path = workdir / f"{name}-{uuid.uuid4().hex[:6]}.sqlite"
    return f"sqlite:///{path}", path


def new_pg_schema() -> tuple[str, str]:
    """A fresh PostgreSQL schema and a URL whose search_path points at it."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    eng = create_engine(PG_URL)
    with eng.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    eng.dispose()
    sep = "&" if "?" in PG_URL else "?"
    return schema, f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


def pg_dsn(url: str) -> str:
    """The libpq URI of a SQLAlchemy ``postgresql+psycopg`` URL (search_path kept)."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def drop_schema(schema: str) -> None:
    """Drop a benchmark schema."""
    eng = create_engine(PG_URL)
    with eng.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    eng.dispose()


def pg_available() -> bool:
    """Whether the PostgreSQL server answers."""
    try:
        eng = create_engine(PG_URL, connect_args={"connect_timeout": 2})
        with eng.connect() as conn:
            conn.execute(text("SELECT 1"))
        eng.dispose()
        return True
    except Exception:
        return False


def empty_database(kind: str, workdir: Path, name: str) -> tuple[str, Path | None, str | None]:
    """A new empty place for a data set: (url, sqlite path, pg schema)."""
    if kind == "sqlite":
        url, path = new_sqlite_url(workdir, name)
        return url, path, None
    schema, url = new_pg_schema()
    return url, None, schema


def create_schema(url: str) -> None:
    """Tables, indexes and the append-only triggers, as migrations would make them."""
    db = Database(url)
    Base.metadata.create_all(db.engine)
    with db.engine.begin() as conn:
        audit.install_append_only(conn)
    db.dispose()


# ------------------------------------------------------------------------------ writing


DATETIME_COLS = {
    "at", "created_at", "opened_at", "closed_at", "updated_at", "due_at", "started_at",
    "original_due_at", "paused_at", "stopped_at", "fired_at", "loaded_at", "check_at",
}  # fmt: skip
JSON_COLS = {"data", "preferences", "basis"}


def _sqlite_dt(v: datetime | None) -> str | None:
    # SQLAlchemy's SQLite DATETIME storage format, in UTC (what UTCDateTime writes)
    return None if v is None else v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _sqlite_json(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False)


def _sqlite_date(v: date | None) -> str | None:
    return None if v is None else v.isoformat()


def _converters(cols: Sequence[str]) -> list[tuple[int, Any]]:
    out = []
    for i, c in enumerate(cols):
        if c in DATETIME_COLS:
            out.append((i, _sqlite_dt))
        elif c in JSON_COLS:
            out.append((i, _sqlite_json))
        elif c == "due_on":
            out.append((i, _sqlite_date))
    return out


class Writer:
    """Bulk rows into one database: ``executemany`` on SQLite, ``COPY`` on PostgreSQL."""

    def __init__(self, kind: str, url: str, path: Path | None) -> None:
        self.kind = kind
        if kind == "sqlite":
            assert path is not None
            self.conn: Any = sqlite3.connect(path, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=OFF")
            self.conn.execute("PRAGMA cache_size=-262144")
            self.conn.execute("BEGIN")
        else:
            import psycopg

            self.conn = psycopg.connect(pg_dsn(url))

    def rows(self, table: str, cols: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Write ``rows`` (tuples in ``cols`` order) into ``table``."""
        n = 0
        if self.kind == "sqlite":
            sql = f"INSERT INTO {table} ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})"
            conv = _converters(cols)
            for chunk in _chunks(rows, CHUNK):
                out = []
                for r in chunk:
                    r = list(r)
                    for i, f in conv:
                        r[i] = f(r[i])
                    out.append(r)
                self.conn.executemany(sql, out)
                n += len(chunk)
            return n
        copy_sql = f"COPY {table} ({','.join(cols)}) FROM STDIN"
        with self.conn.cursor() as cur, cur.copy(copy_sql) as copy:
            for r in rows:
                copy.write_row(
                    [json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v for v in r]
                )
                n += 1
        return n

    def close(self, sequences: Sequence[str] = ()) -> None:
        """Commit; on PostgreSQL move each table's id sequence past the ids written."""
        if self.kind == "sqlite":
            self.conn.execute("COMMIT")
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.conn.execute("ANALYZE")
        else:
            with self.conn.cursor() as cur:
                for table in sequences:
                    cur.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}','id'), "
                        f"coalesce((SELECT max(id) FROM {table}), 1))"
                    )
            self.conn.commit()
            self.conn.autocommit = True
            self.conn.execute("ANALYZE")
        self.conn.close()


def _chunks(rows: Iterable[Any], n: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for r in rows:
        chunk.append(r)
        if len(chunk) >= n:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# ------------------------------------------------------------------------------ the tree


@dataclass
class _Tree:
    rows: list[tuple[int, str, str, str, int | None, str, int]]
    root: int
    cities: list[int]
    counties: list[int]
    leaves: list[tuple[int, str]]  # (id, path) of townships and villages
    county_of: dict[int, int]
    city_of: dict[int, int]


def unit_tree(units: int) -> _Tree:
    """Province → 11 cities → counties → townships → villages, ``units`` in all."""
    n_cities = 11
    n_counties = max(n_cities, min(90, (units - 12) // 12))
    rest = max(units - 1 - n_cities - n_counties, n_counties)
    n_towns = max(n_counties, rest // 10)
    n_villages = max(0, rest - n_towns)
    rows: list[tuple[int, str, str, str, int | None, str, int]] = [
        (1, "P", "某某省", "province", None, "/1/", 0)
    ]
    next_id = 2
    cities, counties, leaves = [], [], []
    county_of: dict[int, int] = {}
    city_of: dict[int, int] = {}
    paths = {1: "/1/"}
    for c in range(n_cities):
        paths[next_id] = f"/1/{next_id}/"
        rows.append((next_id, f"C{c:02d}", f"第{c + 1}市", "city", 1, paths[next_id], 1))
        cities.append(next_id)
        next_id += 1
    for k in range(n_counties):
        parent = cities[k % n_cities]
        paths[next_id] = f"{paths[parent]}{next_id}/"
        rows.append(
            (next_id, f"C{k % n_cities:02d}-{k:03d}", f"第{k + 1}县", "county", parent,
             paths[next_id], 2)
        )  # fmt: skip
        counties.append(next_id)
        city_of[next_id] = parent
        next_id += 1
    towns = []
    for t in range(n_towns):
        parent = counties[t % n_counties]
        paths[next_id] = f"{paths[parent]}{next_id}/"
        rows.append((next_id, f"T{t:05d}", f"第{t + 1}乡镇", "township", parent, paths[next_id], 3))
        towns.append(next_id)
        county_of[next_id] = parent
        leaves.append((next_id, paths[next_id]))
        next_id += 1
    for v in range(n_villages):
        parent = towns[v % n_towns]
        paths[next_id] = f"{paths[parent]}{next_id}/"
        rows.append((next_id, f"V{v:06d}", f"第{v + 1}村", "village", parent, paths[next_id], 4))
        county_of[next_id] = county_of[parent]
        leaves.append((next_id, paths[next_id]))
        next_id += 1
    for unit_id, county in list(county_of.items()):
        city_of[unit_id] = city_of[county]
    return _Tree(rows, 1, cities, counties, leaves, county_of, city_of)


# ------------------------------------------------------------------------------ build


def build(
    kind: str,
    issues: int,
    units: int,
    workdir: Path,
    *,
    seed: int = 2026,
    now: datetime = NOW,
    name: str = "bench",
    events_per_issue: bool = True,
) -> Dataset:
    """Generate a data set of ``issues`` issues over ``units`` units on ``kind``."""
    t0 = time.perf_counter()
    url, path, schema = empty_database(kind, workdir, name)
    create_schema(url)
    db = Database(url)
    with db.writing() as session:
        sync_definitions(session, now - timedelta(days=400))
        seed_from_packages(session, [2025, 2026], now=now - timedelta(days=400))
        dv = session.scalar(
            select(DefinitionVersion).where(DefinitionVersion.name == "rectification")
        )
        assert dv is not None
        dv_id, version = dv.id, dv.version
        d = definition_of(dv)
        bounds = escalation._Bounds(WorkCalendar.from_session(session), now)
    db.dispose()
    rng = random.Random(seed)
    tree = unit_tree(units)
    w = Writer(kind, url, path)
    w.rows("unit", ("id", "code", "name", "level", "parent_id", "path", "depth"), tree.rows)
    users, members = _people(tree, now)
    w.rows(
        "user_account",
        ("id", "username", "display_name", "email", "password_hash", "active", "session_epoch",
         "preferences", "created_at"),
        users,
    )  # fmt: skip
    w.rows("membership", ("id", "user_id", "unit_id", "role"), members)
    by_role = {(m[2], m[3]): m[1] for m in members}
    gen = _IssueGen(rng, tree, by_role, dv_id, version, d, now, issues, bounds)
    w.rows("issue", ISSUE_COLS, gen.issues())
    w.rows("clock_instance", CLOCK_COLS, gen.clocks)
    w.rows("escalation", ESC_COLS, gen.escalations)
    n_events = w.rows("event", EVENT_COLS, gen.events()) if events_per_issue else 0
    w.close(
        ["unit", "user_account", "membership", "issue", "clock_instance", "escalation", "event"]
    )
    return Dataset(
        kind, url, issues, len(tree.rows), n_events, now, dv_id, tree.root, tree.cities,
        tree.counties, by_role, gen.by_state, gen.newly_due, gen.newly_ids, path, schema,
        time.perf_counter() - t0,
    )  # fmt: skip


def _people(tree: _Tree, now: datetime) -> tuple[list[tuple], list[tuple]]:
    """One user per (unit, role) the service needs; one argon2 hash shared by all."""
    pw = hash_password(PASSWORD)
    users: list[tuple] = []
    members: list[tuple] = []

    def add(unit_id: int, role: str) -> None:
        uid = len(users) + 1
        name = f"u{unit_id}.{role}"
        users.append((uid, name, name, f"{name}@bench.rectiflow.cn", pw, True, 0, {}, now))
        members.append((uid, uid, unit_id, role))

    for role in ("office", "supervisor", "leader", "discipline", "spot_check"):
        add(tree.root, role)
    for unit_id in tree.cities:
        for role in ("office", "supervisor", "spot_check"):
            add(unit_id, role)
    for unit_id in tree.counties:
        add(unit_id, "supervisor")
    for unit_id, _ in tree.leaves:
        add(unit_id, "unit_user")
        add(unit_id, "unit_head")
    return users, members


ISSUE_COLS = (
    "id", "number", "kind", "definition_id", "state", "stage", "state_kind", "is_open", "version",
    "restricted", "unit_id", "inspected_unit_id", "unit_path", "source", "category", "title",
    "description", "supervising_leader", "person_in_charge", "deadline_type", "due_on", "due_at",
    "due_provisional", "progress", "completion", "warning_level", "rules_written",
    "money_recovered", "people_handled", "relapse_count", "checker_id", "cases_opened",
    "sanctions", "org_measures", "data", "opened_at", "closed_at", "updated_at", "sample_key",
)  # fmt: skip
CLOCK_COLS = (
    "id", "issue_id", "clock", "generation", "status", "started_at", "due_at", "original_due_at",
    "paused_at", "provisional", "basis", "stopped_at", "check_at",
)  # fmt: skip
ESC_COLS = ("id", "issue_id", "clock_instance_id", "clock", "rung", "level", "due_at", "fired_at")
EVENT_COLS = (
    "id", "issue_id", "at", "actor_id", "actor_role", "actor_unit_id", "action", "outcome",
    "from_state", "to_state", "definition_version", "data", "prev_hash", "hash",
)  # fmt: skip


class _IssueGen:
    """Issues with their clocks and escalations; events streamed afterwards (hash chain)."""

    def __init__(self, rng: random.Random, tree: _Tree, by_role: dict, dv_id: int,
                 version: str, d: Any, now: datetime, n: int, bounds: Any) -> None:  # fmt: skip
        self.rng, self.tree, self.by_role, self.dv_id = rng, tree, by_role, dv_id
        self.bounds = bounds  # escalation._Bounds: each deadline scheduled as a sweep would
        self.version, self.d, self.now, self.n = version, d, now, n
        self.clocks: list[tuple] = []
        self.escalations: list[tuple] = []
        self.plan: list[tuple[int, int, str, int, datetime, int]] = []  # for the events
        self.by_state: dict[str, list[int]] = {s: [] for s in STATES}
        self.newly_due = 0
        self.newly_ids: list[int] = []
        states = list(STATES)
        self.cum = []
        acc = 0.0
        for s in states:
            acc += STATES[s][0]
            self.cum.append((acc, s))
        # two working days past: Thursday 2026-03-12, end of day (Beijing)
        self.overdue_due = end_of_day(date(2026, 3, 12), d.timezone)

    def _state(self) -> str:
        x = self.rng.random()
        for acc, s in self.cum:
            if x < acc:
                return s
        return self.cum[-1][1]

    def issues(self) -> Iterator[tuple]:
        rng, now, d = self.rng, self.now, self.d
        leaves = self.tree.leaves
        n_open = 0
        for i in range(1, self.n + 1):
            unit_id, path = leaves[rng.randrange(len(leaves))]
            state = self._state()
            st = d.states[state]
            _share, steps, clock, status = STATES[state]
            opened = now - timedelta(days=rng.randint(40, 330), minutes=rng.randint(0, 600))
            due_on = (now + timedelta(days=rng.randint(30, 200))).date()
            due_at = end_of_day(due_on, d.timezone)
            newly = False
            if st.kind != "closed":
                n_open += 1
                if state == "correcting" and rng.random() < OVERDUE_SHARE / STATES[state][0] * 0.7:
                    newly = True
                    due_at = self.overdue_due
                    due_on = self.overdue_due.date()
                    self.newly_ids.append(i)
            if clock is not None:
                ci_id = len(self.clocks) + 1
                basis: dict[str, Any] = (
                    {"date": due_on.isoformat()} if clock == "rectify"
                    else {"start": opened.isoformat(), "counts": "working_days", "amount": 5}
                )  # fmt: skip
                started = opened + timedelta(days=steps * 3)
                fired = {"remind_7", "remind_1"} if newly else set()
                check_at = escalation.next_check(d, clock, status, state, due_at, fired,
                                                 self.bounds)  # fmt: skip
                self.clocks.append(
                    (ci_id, i, clock, 1, status, started, due_at, due_at,
                     started if status == "paused" else None, False, basis, None, check_at)
                )  # fmt: skip
                if newly:
                    self.newly_due += 1
                    for rung, days in (("remind_7", 9), ("remind_1", 1)):
                        self.escalations.append(
                            (len(self.escalations) + 1, i, ci_id, clock, rung, "reminder",
                             due_at - timedelta(days=days), due_at - timedelta(days=days))
                        )  # fmt: skip
            self.by_state[state].append(i)
            closed_at = opened + timedelta(days=steps * 3) if st.kind == "closed" else None
            self.plan.append((i, unit_id, path, steps, opened, 1 if steps < 8 else 0))
            yield (
                i, f"ZG2026-{i:07d}", "rectification", self.dv_id, state, st.stage, st.kind,
                st.kind != "closed", steps + 1, False, unit_id, unit_id, path, "巡视",
                CATEGORIES[i % len(CATEGORIES)], f"{TITLES[i % len(TITLES)]}（{i}）", DESCRIPTION,
                "分管领导", "责任人", "by_deadline", due_on,
                due_at if clock and status == "running" else None, False,
                100 if st.kind == "closed" else rng.choice((0, 30, 60)),
                "已完成" if st.kind == "closed" else "未完成", "green", 0, "0", 0, 0, None, 0, 0,
                0, {}, opened, closed_at, opened + timedelta(days=steps * 3),
                rng.randrange(2**31),
            )  # fmt: skip

    def events(self) -> Iterator[tuple]:
        """Each issue's open event and one event per step, chained in id order."""
        prev = audit.GENESIS
        eid = 0
        county_of, by_role = self.tree.county_of, self.by_role
        office = by_role[(self.tree.root, "office")]
        root = self.tree.root
        for issue_id, unit_id, _path, steps, opened, _ in self.plan:
            actors = {
                "unit_user": (by_role[(unit_id, "unit_user")], unit_id),
                "unit_head": (by_role[(unit_id, "unit_head")], unit_id),
                "supervisor": (by_role[(county_of[unit_id], "supervisor")], county_of[unit_id]),
                "spot_check": (by_role[(root, "spot_check")], root),
            }
            state = "transferred"
            data: dict[str, Any] = {"input": {"unit": f"{unit_id}"}, "v": 1}
            rows = [(None, "office", office, root, "open", None, state, opened, data)]
            for k, (action, role, to) in enumerate(PATH[:steps], start=2):
                uid, uunit = actors[role]
                at = opened + timedelta(days=3 * (k - 1))
                data = {"changes": {"state": [state, to]}, "input": {}, "v": k}
                rows.append((None, role, uid, uunit, action, state, to, at, data))
                state = to
            for _, role, uid, uunit, action, frm, to, at, data in rows:
                eid += 1
                content = {
                    "issue_id": issue_id, "at": audit.instant_text(at), "actor_id": uid,
                    "actor_role": role, "actor_unit_id": uunit, "action": action,
                    "outcome": "ok", "from_state": frm, "to_state": to,
                    "definition_version": self.version, "data": data,
                }  # fmt: skip
                h = audit.event_hash(prev, content)
                yield (eid, issue_id, at, uid, role, uunit, action, "ok", frm, to, self.version,
                       data, prev, h)  # fmt: skip
                prev = h


def correcting_pool(ds: Dataset) -> list[int]:
    """Issues in 整改中 whose deadline is not newly due (free for the transition figure)."""
    due = set(ds.newly_due_ids)
    return [i for i in ds.by_state["correcting"] if i not in due]


def clone(ds: Dataset, workdir: Path, name: str) -> Dataset:
    """A copy of a SQLite data set (a file copy); PostgreSQL data sets are rebuilt instead."""
    import dataclasses
    import shutil

    assert ds.path is not None, "clone() copies SQLite files only"
    url, path = new_sqlite_url(workdir, name)
    shutil.copyfile(ds.path, path)
    return dataclasses.replace(ds, url=url, path=path)
