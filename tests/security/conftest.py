"""Fixtures for the security tests: the small province, an app on a copy of it (CSRF on),
logged-in clients per user, API tokens, and objects inside and outside each user's scope."""

from __future__ import annotations

import io
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import PASSWORD, WORLD_USERS, FakeClock, World
from tests.web.conftest import (  # noqa: F401  (fixtures)
    app,
    auth,
    client,
    issue_id,
    open_issue,
    other_issue_id,
    sqlite_world,
    world_template,
)
from web import create_app
from workflow.db import Database

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# a leader in charge of 宁波市 only (分管领导): reads its issues, nothing of 杭州市
EXTRA_USERS = [("nbleader", "宁波市分管领导", ["leader@NB"])]
USERS = [name for name, _, _ in WORLD_USERS + EXTRA_USERS]
ROLE = {name: roles[0].split("@")[0] for name, _, roles in WORLD_USERS + EXTRA_USERS}
CSRF_RE = re.compile(r'"X-CSRFToken": "([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(c: Any, path: str = "/login") -> str:
    """The CSRF token of ``c``'s session, read from a page as a browser would."""
    html = c.get(path).get_data(as_text=True)
    found = CSRF_RE.search(html)
    assert found, f"no CSRF token on {path}"
    return found.group(1) or found.group(2)


def login(c: Any, username: str, password: str = PASSWORD, **kw: Any) -> Any:
    """Log ``c`` in through the form, CSRF token included."""
    token = csrf_token(c)
    r = c.post("/login", data={"username": username, "password": password,
                                    "csrf_token": token}, **kw)  # fmt: skip
    assert r.status_code == 303, (username, r.status_code)
    return r


def make_app(world: World, tmp: Any, **config: Any) -> Any:
    """An app on ``world``'s database with CSRF on (as in production)."""
    settings = {
        "TESTING": True,
        "DATABASE_URL": world.db.url,
        "CLOCK": world.clock,
        "SECRET_KEY": "security-test",
        "UPLOAD_FOLDER": str(tmp / "uploads"),
        "WTF_CSRF_ENABLED": True,
        "MAX_CONTENT_LENGTH": 256 * 1024,
        "SQLITE_SYNCHRONOUS": "OFF",
    }
    settings.update(config)
    return create_app(settings)


def copy_world(template: Any, tmp: Any) -> World:
    """A fresh copy of the province (``world_template``) on its own clock."""
    path, units, users = template
    target = tmp / "world.sqlite"
    shutil.copy(path, target)
    clock = FakeClock(datetime(2026, 9, 7, 1, 0, tzinfo=UTC))
    return World(Database(f"sqlite:///{target}"), clock, dict(units), dict(users))


@dataclass
class Province:
    """An app on a copy of the province with fixture objects, clients and tokens."""

    world: World
    app: Any
    objects: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    clients: dict[str, Any] = field(default_factory=dict)
    csrf: dict[str, str] = field(default_factory=dict)

    def client(self, username: str | None) -> Any:
        """The logged-in client of ``username`` (None: an anonymous one), with its token."""
        if username not in self.clients:
            c = self.app.test_client()
            if username is not None:
                login(c, username)
                self.csrf[username] = csrf_token(c, "/inbox")
            else:
                self.csrf[None] = csrf_token(c)  # type: ignore[index]
            self.clients[username] = c  # type: ignore[index]
        return self.clients[username]  # type: ignore[index]

    def forget(self, username: str | None) -> None:
        """Drop a client whose session was ended (it is logged in again when next used)."""
        self.clients.pop(username, None)  # type: ignore[arg-type]


def build_province(template: Any, tmp: Any) -> Province:
    """The province with: issue A (灵隐街道), issue B (湖滨街道), lead L (杭州市), evidence
    on each, a letter on A and B, a message for clerk, a spare token of clerk, and an API
    token for every user."""
    from sqlalchemy import select

    from workflow import service
    from workflow.clock import letters
    from workflow.models import DefinitionVersion, Evidence, InboxMessage, Issue, User
    from workflow.org import tokens

    world = copy_world(template, tmp)
    from workflow.org.units import add_user

    with world.db.writing() as s:
        for name, display, roles in EXTRA_USERS:
            world.users[name] = add_user(s, name, display, PASSWORD, roles, world.clock()).id
    prov = Province(world, make_app(world, tmp))
    o = prov.objects
    o["A"] = open_issue(world, "HZ-XH-LY")
    o["B"] = open_issue(world, "HZ-SC-HB")
    with world.db.writing() as s:
        lead = service.open_issue(
            s, "problem_lead", {"title": "某局长涉嫌违规", "unit": "HZ", "cadre_level": "市管干部"},
            world.user(s, "office"), world.clock(),
        )  # fmt: skip
        o["L"] = lead.id
    office = prov.client("office")
    for key in ("A", "B", "L"):
        r = office.post(f"/issues/{o[key]}/evidence", data={
            "file": (io.BytesIO(PDF), f"evidence-{key}.pdf"), "csrf_token": prov.csrf["office"]},
            content_type="multipart/form-data")  # fmt: skip
        assert r.status_code == 303, r.status_code
    with world.db.writing() as s:
        for key in ("A", "B", "L"):
            o[f"ev{key}"] = s.scalar(select(Evidence.id).where(Evidence.issue_id == o[key]))
        for key in ("A", "B"):
            issue = s.get(Issue, o[key])
            o[f"letter{key}"] = letters.issue_letter(
                s, issue, "reminder", world.clock(), tz="Asia/Shanghai", due_at=issue.due_at,
                rung_label="提醒",
            ).id  # fmt: skip
        msg = InboxMessage(user_id=world.users["clerk"], issue_id=o["A"], subject="提醒",
                           body="请及时整改", created_at=world.clock())  # fmt: skip
        s.add(msg)
        s.flush()
        o["message"] = msg.id
        users = {u.username: u for u in s.scalars(select(User))}
        for name in USERS:
            _, prov.tokens[name] = tokens.create_token(s, users[name], "authz", world.clock())
        spare, _ = tokens.create_token(s, users["clerk"], "spare", world.clock())
        o["token"] = spare.id
        o["definition"] = s.scalar(select(DefinitionVersion.id).limit(1))
    o["unit_LY"], o["unit_HB"] = world.units["HZ-XH-LY"], world.units["HZ-SC-HB"]
    o["unit_NB"] = world.units["NB"]  # outside 杭州市: beyond the city office's reach
    return prov


@pytest.fixture(scope="module")
def province(world_template, tmp_path_factory):  # noqa: F811
    """One province per test module (the requests in a module share it)."""
    prov = build_province(world_template, tmp_path_factory.mktemp("province"))  # noqa: F811
    yield prov
    from web.database import get_database

    get_database(prov.app).dispose()
    prov.world.db.dispose()
