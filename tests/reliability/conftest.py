"""Fixtures of the reliability tests: a prepared world copied instead of rebuilt.

Building the small province (definitions, two calendar years, twelve users) takes a few
seconds; the property tests need a fresh database for every example, so the SQLite world is
built once per session and its file copied.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.conftest import PASSWORD, PG_URL, FakeClock, World, build_world, make_database
from workflow.db import Database

START = datetime(2026, 9, 7, 1, 0, tzinfo=UTC)  # Monday 09:00 Beijing time

_TEMPLATE: dict[str, object] = {}

# people holding several posts, so separation of duties and 回避 have something to refuse:
# a township clerk who is also a county supervisor, a township head who supervises the
# district, and a spot-check member with a post inside and one outside 灵隐街道 (the
# inside post first, so a check that takes "the first post" picks the wrong one)
EXTRA_USERS = [
    ("dual", "经办兼督办", ["unit_user@HZ-XH-LY", "supervisor@HZ-XH"]),
    ("dual_head", "书记兼督办", ["unit_head@HZ-SC-HB", "supervisor@HZ-SC"]),
    ("checker_dual", "两地督查员", ["spot_check@HZ-XH-LY", "spot_check@NB"]),
]


def _build(database: Database, clock: FakeClock) -> World:
    from workflow.org.units import add_user

    world = build_world(database, clock)
    with database.writing() as session:
        for username, display, roles in EXTRA_USERS:
            world.users[username] = add_user(
                session, username, display, PASSWORD, roles, clock(), f"{username}@example.cn"
            ).id
    return world


def _template() -> tuple[Path, dict[str, int], dict[str, int]]:
    """Build the SQLite world once; return its file and the unit/user ids."""
    if "path" not in _TEMPLATE:
        directory = Path(tempfile.mkdtemp(prefix="rectiflow-template-"))
        path = directory / "world.sqlite"
        database = make_database(f"sqlite:///{path}")
        world = _build(database, FakeClock(START))
        database.dispose()
        with sqlite3.connect(path) as conn:  # fold the WAL into the main file before copying
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        _TEMPLATE.update(path=path, units=dict(world.units), users=dict(world.users))
    return _TEMPLATE["path"], _TEMPLATE["units"], _TEMPLATE["users"]  # type: ignore[return-value]


@dataclass
class Fresh:
    """A fresh world and how to throw it away."""

    world: World
    cleanup: object


def fresh_world(backend: str) -> Fresh:
    """A new database holding the small province, on ``sqlite`` (copied) or ``postgres``."""
    clock = FakeClock(START)
    if backend == "sqlite":
        src, units, users = _template()
        directory = Path(tempfile.mkdtemp(prefix="rectiflow-prop-"))
        shutil.copyfile(src, directory / "world.sqlite")
        database = Database(f"sqlite:///{directory / 'world.sqlite'}")
        world = World(database, clock, dict(units), dict(users))

        def cleanup() -> None:
            database.dispose()
            shutil.rmtree(directory, ignore_errors=True)

        return Fresh(world, cleanup)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    sep = "&" if "?" in PG_URL else "?"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    database = make_database(f"{PG_URL}{sep}options=-csearch_path%3D{schema}")
    world = _build(database, clock)

    def cleanup_pg() -> None:
        database.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return Fresh(world, cleanup_pg)
