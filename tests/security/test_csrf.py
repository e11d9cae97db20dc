"""CSRF on every state-changing route, htmx included (S3, ASVS 4.2.2), and no GET that
changes data."""

from __future__ import annotations

from typing import Any

import pytest
from flask import url_for
from sqlalchemy import func, inspect, select, table

from tests.security.conftest import csrf_token, login
from web.authz_matrix import MATRIX

CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
HX = {"HX-Request": "true"}


def rules(app: Any, methods: set[str], api: bool) -> list[Any]:
    """The app's rules answering one of ``methods`` (API rules or the others)."""
    return sorted(
        (r for r in app.url_map.iter_rules()
         if r.methods & methods and (MATRIX[r.endpoint].auth == "token") == api),
        key=lambda r: r.rule,
    )  # fmt: skip


def url(prov: Any, rule: Any) -> str:
    """The rule's URL with the province's objects (issue A, clerk's message and token …)."""
    o = prov.objects
    values = {"issue_id": o["A"], "message_id": o["message"], "token_id": o["token"],
              "key": "0" * 32, "action_name": "return_to_office", "action": "return_to_office",
              "evidence_id": o["evA"], "letter_id": o["letterA"], "dv_id": o["definition"],
              "code": "HZ-XH-LY", "filename": "css/app.css", "round_id": 999_999,
              "team_id": 999_999, "robot_id": 999_999, "kind": "admonition"}  # fmt: skip
    with prov.app.test_request_context():
        return url_for(rule.endpoint, **{k: values[k] for k in rule.arguments})


def fresh(prov: Any, rule: Any) -> tuple[Any, str]:
    """A new client (logged in as office unless the rule is the login itself) and its token."""
    c = prov.app.test_client()
    if rule.endpoint != "auth.login":
        login(c, "office")
        return c, csrf_token(c, "/inbox")
    return c, csrf_token(c)


@pytest.mark.parametrize("case", ["none", "foreign", "field", "header"])
def test_csrf_on_every_changing_route(province, case):
    """No token or another session's token → 400 on every non-API POST/PUT/PATCH/DELETE;
    the token as form field or as ``X-CSRFToken`` header (what htmx sends) → not 400.
    Fails when CSRFProtect is not installed or a view is exempted (the "none" and
    "foreign" cases answer 2xx/3xx/4xx other than 400)."""
    targets = rules(province.app, CHANGING, api=False)
    assert len(targets) >= 15
    _, other = fresh(province, targets[0])  # a token of some other session
    problems = []
    for rule in targets:
        for method in sorted(rule.methods & CHANGING):
            c, token = fresh(province, rule)
            data: dict[str, str] = {}
            headers: dict[str, str] = dict(HX)
            if case == "foreign":
                headers["X-CSRFToken"] = other
            elif case == "field":
                data["csrf_token"] = token
            elif case == "header":
                headers["X-CSRFToken"] = token
            r = c.open(url(province, rule), method=method, data=data, headers=headers)
            refused = r.status_code == 400
            if refused != (case in ("none", "foreign")) or r.status_code >= 500:
                problems.append(f"{method} {rule.rule}: {r.status_code}")
    assert not problems, f"case {case}: " + ", ".join(problems)


def row_counts(db: Any) -> dict[str, int]:
    """Rows in every table but login_attempt."""
    with db.reading() as s:
        names = inspect(s.get_bind()).get_table_names()
        return {n: s.scalar(select(func.count()).select_from(table(n)))
                for n in names if n != "login_attempt"}  # fmt: skip


def test_no_get_changes_data(province):
    """Every GET route (page, fragment, API, download, export), requested as the office,
    leaves the number of rows in every table (but login_attempt) unchanged.  Fails when a
    GET handler inserts or deletes: e.g. recording a page view as a row, or creating a
    default row on first view."""
    office = province.client("office")
    token = province.tokens["office"]
    before = row_counts(province.world.db)
    seen = 0
    for rule in province.app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        api = MATRIX[rule.endpoint].auth == "token"
        for headers in ({"Authorization": f"Bearer {token}"},) if api else ({}, HX):
            r = office.get(url(province, rule), headers=headers)
            assert r.status_code < 500, rule.rule
            seen += 1
    assert seen > 40
    assert row_counts(province.world.db) == before
