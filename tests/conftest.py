"""Shared fixtures: real databases (SQLite file and PostgreSQL schema), an injected clock,
and a small province with a user for every role."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from workflow.audit import install_append_only
from workflow.db import Database
from workflow.models import Base, User
from workflow.org.units import set_hasher_parameters

# cheap argon2 parameters keep the suite fast; production uses the library defaults
set_hasher_parameters(time_cost=1, memory_cost=1024, parallelism=1)

PG_URL = os.environ.get(
    "RECTIFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _pg_available() -> bool:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


PG_UP = _pg_available()
if not PG_UP:
    print(f"\nPostgreSQL tests will be skipped: no server answers at {PG_URL}")


class FakeClock:
    """An injected clock: tests move time forward explicitly, never sleep."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now = self.now + timedelta(**kwargs)
        return self.now

    def set(self, instant: datetime) -> datetime:
        self.now = instant
        return instant


@pytest.fixture
def clock() -> FakeClock:
    """A clock starting on Monday 2026-09-07 09:00 Beijing time."""
    return FakeClock(datetime(2026, 9, 7, 1, 0, tzinfo=UTC))


def _sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'test.sqlite'}"


def _pg_schema_url() -> tuple[str, str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    sep = "&" if "?" in PG_URL else "?"
    return schema, f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


def make_database(url: str) -> Database:
    """A Database with the schema created (like migrations would) and triggers installed."""
    database = Database(url)
    Base.metadata.create_all(database.engine)
    with database.engine.begin() as conn:
        install_append_only(conn)
    return database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request, tmp_path) -> Iterator[Database]:
    """An empty Rectiflow database, on SQLite and on PostgreSQL."""
    yield from _database(request.param, tmp_path)


@pytest.fixture
def sqlite_database(tmp_path) -> Iterator[Database]:
    """An empty Rectiflow database on SQLite only."""
    yield from _database("sqlite", tmp_path)


def _database(kind: str, tmp_path) -> Iterator[Database]:
    if kind == "sqlite":
        database = make_database(_sqlite_url(tmp_path))
        yield database
        database.dispose()
        return
    if not PG_UP:
        pytest.skip(f"no PostgreSQL server answers at {PG_URL}")
    schema, url = _pg_schema_url()
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    database = make_database(url)
    try:
        yield database
    finally:
        database.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@dataclass
class World:
    """A small province: units and one user per role, with the definitions loaded."""

    db: Database
    clock: FakeClock
    units: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)

    def user(self, session, name: str) -> User:
        user = session.get(User, self.users[name])
        assert user is not None
        return user


WORLD_UNITS = [
    ("ZJ", "浙江省", "province", None),
    ("HZ", "杭州市", "city", "ZJ"),
    ("HZ-XH", "西湖区", "county", "HZ"),
    ("HZ-XH-LY", "灵隐街道", "township", "HZ-XH"),
    ("HZ-SC", "上城区", "county", "HZ"),
    ("HZ-SC-HB", "湖滨街道", "township", "HZ-SC"),
    ("NB", "宁波市", "city", "ZJ"),
    ("NB-HS", "海曙区", "county", "NB"),
]

WORLD_USERS = [
    ("office", "省巡视办", ["office@ZJ"]),
    ("cityoffice", "市巡察办", ["office@HZ"]),
    ("clerk", "灵隐经办人", ["unit_user@HZ-XH-LY"]),
    ("head", "灵隐书记", ["unit_head@HZ-XH-LY"]),
    ("clerk2", "湖滨经办人", ["unit_user@HZ-SC-HB"]),
    ("head2", "湖滨书记", ["unit_head@HZ-SC-HB"]),
    ("super", "西湖区督办", ["supervisor@HZ-XH"]),
    ("citysuper", "杭州市督办", ["supervisor@HZ"]),
    ("checker", "督查组成员", ["spot_check@NB"]),
    ("checker_own", "本单位督查员", ["spot_check@HZ-XH-LY"]),
    ("discipline", "纪委干部", ["discipline@ZJ"]),
    ("leader", "领导小组", ["leader@ZJ"]),
]

PASSWORD = "correct-horse-9"


def build_world(database: Database, clock: FakeClock) -> World:
    """Create the units, users, definitions and calendar of :class:`World`."""
    from workflow.clock.calendar_load import seed_from_packages
    from workflow.definition.registry import sync_definitions
    from workflow.org.units import add_unit, add_user

    world = World(database, clock)
    with database.writing() as session:
        sync_definitions(session, clock())
        seed_from_packages(session, years=[2025, 2026])
        for code, name, level, parent in WORLD_UNITS:
            world.units[code] = add_unit(session, code, name, level, parent).id
        for username, display, roles in WORLD_USERS:
            world.users[username] = add_user(
                session, username, display, PASSWORD, roles, clock(), f"{username}@example.cn"
            ).id
    return world


@pytest.fixture
def world(database, clock) -> World:
    """The small province on SQLite and PostgreSQL."""
    return build_world(database, clock)


@pytest.fixture
def pg_world(tmp_path, clock) -> Iterator[World]:
    """The small province on PostgreSQL only (tests of PostgreSQL-only paths)."""
    for database in _database("postgres", tmp_path):
        yield build_world(database, clock)


@pytest.fixture
def sqlite_world(sqlite_database, clock) -> World:
    """The small province on SQLite only."""
    return build_world(sqlite_database, clock)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--headless", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run (the Debian package, never a download).

    Defined here, once: Playwright's sync API allows one instance per thread, so every
    folder must share this fixture rather than import its own copy.
    """
    import shutil

    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.skip("chromium is not installed (make system-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()
