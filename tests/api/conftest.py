"""Fixtures of the API tests: the app on the small province, a token per role, a client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import WORLD_USERS
from web import create_app
from workflow import service
from workflow.models import Round
from workflow.org import tokens


def make_app(world: Any, tmp_path: Any) -> Any:
    """The web app on the world's database, with the API registered."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "DATABASE_URL": world.db.url,
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "CLOCK": world.clock,
            "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        }
    )
    if "rectiflow.api" not in app.extensions:
        from web.api import init_api

        init_api(app)
    return app


@dataclass
class Api:
    """A test client that sends one user's token."""

    client: Any
    tokens: dict[str, str]

    def call(self, method: str, url: str, as_: str | None, **kw: Any) -> Any:
        headers = dict(kw.pop("headers", {}) or {})
        if as_:
            headers["Authorization"] = f"Bearer {self.tokens[as_]}"
        return self.client.open(url, method=method, headers=headers, **kw)

    def get(self, url: str, as_: str | None = "office", **kw: Any) -> Any:
        return self.call("GET", url, as_, **kw)

    def post(self, url: str, as_: str | None = "office", **kw: Any) -> Any:
        return self.call("POST", url, as_, **kw)

    def delete(self, url: str, as_: str | None = "office", **kw: Any) -> Any:
        return self.call("DELETE", url, as_, **kw)


@pytest.fixture
def app(sqlite_world, tmp_path):
    """The app on the small province (SQLite)."""
    return make_app(sqlite_world, tmp_path)


@pytest.fixture
def api(app, sqlite_world) -> Api:
    """A client with a token for every user of the world."""
    plain = {}
    with sqlite_world.db.writing() as s:
        for username, _, _ in WORLD_USERS:
            _, plain[username] = tokens.create_token(
                s, sqlite_world.user(s, username), "tests", sqlite_world.clock()
            )
    return Api(app.test_client(), plain)


@pytest.fixture
def issues(sqlite_world) -> dict[str, int]:
    """A round and three issues: two in 灵隐 (one supported by 湖滨), one in 湖滨, one lead."""
    out = {}
    with sqlite_world.db.writing() as s:
        office = sqlite_world.user(s, "office")
        s.add(Round(code="R1", name="十四届省委第六轮巡视", kind="xunshi", level="province",
                    organiser_unit_id=sqlite_world.units["ZJ"]))  # fmt: skip
        s.flush()
        now = sqlite_world.clock()
        out["ly"] = service.open_issue(s, "rectification", {
            "title": "考核奖金发放不规范", "unit": "HZ-XH-LY", "round": "R1", "category": "党的建设缺失",
            "due_on": "2026-12-31", "description": "考核奖金发放不规范。存在超标准发放。",
        }, office, now).id  # fmt: skip
        out["ly_support"] = service.open_issue(s, "rectification", {
            "title": "公车管理不严", "unit": "HZ-XH-LY", "supporting_units": ["HZ-SC-HB"],
            "deadline_type": "fix_now",
        }, office, now).id  # fmt: skip
        out["hb"] = service.open_issue(s, "rectification", {
            "title": "财务制度执行不严", "unit": "HZ-SC-HB", "due_on": "2026-11-30", "round": "R1",
        }, office, now).id  # fmt: skip
        out["lead"] = service.open_issue(s, "problem_lead", {
            "title": "某干部违规收受礼金", "unit": "HZ-XH", "cadre_level": "县管干部",
        }, office, now).id  # fmt: skip
    return out
