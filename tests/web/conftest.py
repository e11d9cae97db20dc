"""Fixtures for the web tests: the app on the small province, a client, logging in."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest

from tests.conftest import PASSWORD, FakeClock, World, build_world, make_database
from web import create_app
from workflow.db import Database


@pytest.fixture(scope="session")
def world_template(tmp_path_factory):
    """The small province built once; each test gets a copy of the database file."""
    path = tmp_path_factory.mktemp("template") / "world.sqlite"
    db = make_database(f"sqlite:///{path}")
    world = build_world(db, FakeClock(datetime(2026, 9, 7, 1, 0, tzinfo=UTC)))
    db.dispose()
    return path, world.units, world.users


@pytest.fixture
def sqlite_world(world_template, clock, tmp_path):
    """A fresh copy of the small province (same units, users and definitions)."""
    path, units, users = world_template
    target = tmp_path / "world.sqlite"
    shutil.copy(path, target)
    db = Database(f"sqlite:///{target}")
    yield World(db, clock, dict(units), dict(users))
    db.dispose()


@pytest.fixture
def app(sqlite_world, clock, tmp_path):
    """The app on the small province (CSRF off: one test turns it back on)."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": sqlite_world.db.url,
            "CLOCK": clock,
            "SECRET_KEY": "test",
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "WTF_CSRF_ENABLED": False,
            "MAX_CONTENT_LENGTH": 256 * 1024,
        }
    )
    yield app
    from web.database import get_database

    get_database(app).dispose()


@pytest.fixture
def client(app):
    """A test client."""
    return app.test_client()


class Auth:
    """Log a test client in and out."""

    def __init__(self, client) -> None:
        self.client = client

    def login(self, username: str, password: str = PASSWORD):
        return self.client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client) -> Auth:
    """Login helper for ``client``."""
    return Auth(client)


def open_issue(world, unit: str = "HZ-XH-LY", **fields) -> int:
    """Open a rectification issue for ``unit`` as the provincial office; its id."""
    from workflow import service

    with world.db.writing() as s:
        issue = service.open_issue(
            s,
            "rectification",
            {"title": f"{unit} 考核奖金发放不规范", "unit": unit, "category": "党的建设缺失",
             "description": "问题表现", **fields},
            world.user(s, "office"),
            world.clock(),
        )  # fmt: skip
        return issue.id


def act(world, issue_id: int, action: str, username: str, **data):
    """Take an action through the service (test setup)."""
    from workflow import service
    from workflow.models import Issue

    with world.db.writing() as s:
        issue = s.get(Issue, issue_id)
        service.act(s, issue, action, world.user(s, username), data, issue.version, world.clock())


@pytest.fixture
def issue_id(sqlite_world) -> int:
    """An issue of 灵隐街道 (clerk/head), just transferred."""
    return open_issue(sqlite_world)


@pytest.fixture
def other_issue_id(sqlite_world) -> int:
    """An issue of 湖滨街道 (clerk2/head2)."""
    return open_issue(sqlite_world, "HZ-SC-HB")
