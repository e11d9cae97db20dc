"""No input answers 5xx: every route (pages, htmx fragments, the API), every role, with
oversized integers, long strings, bad dates and odd ids — on SQLite and on PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.routing import Rule

from tests.conftest import PASSWORD
from tests.security.conftest import PDF, csrf_token, login, make_app
from web.authz_matrix import MATRIX

HUGE = [str(2**31), str(2**63), str(10**30), "-1", "0", "1e9", "NaN"]
LONG = "长" * 5000
BAD_DATES = ["1900-01-01", "9999-12-31", "2026-02-30", "明天", "2026-13-45"]
USERS = ["office", "cityoffice", "clerk", "super", "checker", "discipline", "leader", None]


PLAUSIBLE = {
    "title": "整改事项", "description": "问题表现", "unit": "HZ-XH-LY", "units": "HZ-SC-HB",
    "supporting_units": "HZ-SC-HB", "code": "FZ-1", "name": "名称", "level": "county",
    "parent": "HZ", "due_on": "2026-12-31", "new_due_on": "2026-12-31", "date": "2026-12-31",
    "value": "5", "metric": "rules_written", "source": "通报", "round": "", "team": "",
    "kind": "rectification", "note": "说明", "rules_written": "1", "people_handled": "1",
    "cases_opened": "1", "sanctions": "1", "org_measures": "1", "count": "1", "version": "1",
    "expected_version": "1", "page": "1", "q": "整改", "measures": "措施 | 2026-12-31",
    "checker": "checker", "username": "fuzzuser", "display_name": "某人",
    "password": "a-long-password", "email": "a@b.cn", "roles": "unit_user@HZ-XH-LY",
    "url": "https://oapi.dingtalk.com/robot/send?access_token=x", "secret": "", "at": "",
    "mode": "all", "category": "党的建设缺失", "cadre_level": "市管干部",
}  # fmt: skip
NUMBERS = ("value", "rules_written", "people_handled", "cases_opened", "sanctions",
           "org_measures", "count", "version", "expected_version", "page")  # fmt: skip
TEXTS = ("title", "description", "code", "name", "note", "source", "username", "display_name",
         "email", "url", "secret", "q", "category", "measures")  # fmt: skip
DATES = ("due_on", "new_due_on", "date")


def payloads() -> Iterator[dict[str, str]]:
    """Form bodies that pass the easy checks, with one kind of field made hostile each."""
    for huge in (str(2**31), str(2**63)):
        yield PLAUSIBLE | dict.fromkeys(NUMBERS, huge)
    yield PLAUSIBLE | dict.fromkeys(TEXTS, LONG)
    yield PLAUSIBLE | dict.fromkeys(DATES, BAD_DATES[0])
    yield PLAUSIBLE | dict.fromkeys(DATES, BAD_DATES[2])


def url_args(rule: Rule, o: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Arguments for ``rule``: odd ids, long strings, and one real object where it has one."""
    if not rule.arguments:
        yield {}
        return
    odd_int = {a: 2**31 for a in rule.arguments}  # out of every id range
    yield {a: (v if _is_int(rule, a) else "x" * 300) for a, v in odd_int.items()}
    real = {"issue_id": o["A"], "evidence_id": o["evA"], "letter_id": o["letterA"],
            "message_id": o["message"], "token_id": o["token"], "dv_id": o["definition"]}  # fmt: skip
    if set(rule.arguments) <= set(real) | {"action_name", "action"}:
        yield {a: real.get(a, "sign_for") for a in rule.arguments}


def _is_int(rule: Rule, arg: str) -> bool:
    converter = rule._converters.get(arg)  # noqa: SLF001 - the rule's own declaration
    return type(converter).__name__ in ("IntegerConverter", "BoundedInt", "NumberConverter")


QUERIES = [{}, {"unit": HUGE[1], "round": HUGE[0], "page": str(10**12), "q": LONG[:3000]},
           {"unit": "abc", "round": "-5", "page": "x", "due_from": BAD_DATES[2]}]  # fmt: skip


def fuzz(app: Any, client_of: Any, token_of: Any, objects: dict[str, Any],
         users: list[str | None]) -> list[str]:  # fmt: skip
    """Every route × user × argument set × payload; the answers that were 5xx."""
    failures = []
    with app.test_request_context():
        rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
    for rule in rules:
        api = MATRIX[rule.endpoint].auth == "token"
        for args in url_args(rule, objects):
            try:
                with app.test_request_context():
                    from flask import url_for

                    path = url_for(rule.endpoint, **args)
            except Exception:  # noqa: BLE001 - an argument the rule itself refuses: not a route
                continue
            for method in sorted(rule.methods & {"GET", "POST", "DELETE"}):
                for user in users:
                    failures += _hit(client_of, token_of, api, method, path, user)
    return failures


def _hit(client_of: Any, token_of: Any, api: bool, method: str, path: str,
         user: str | None) -> list[str]:  # fmt: skip
    """The requests of one route and user; the 5xx among them."""
    bad = []
    client, csrf = client_of(user)
    headers = {"Authorization": f"Bearer {token_of(user)}"} if api and user else {}
    bodies: list[dict[str, Any]] = [{}]
    if method != "GET":
        bodies = [*payloads(), {"file": (io.BytesIO(PDF), "a.pdf"), **PLAUSIBLE}]
    queries = QUERIES if method == "GET" else [{}]
    for q in queries:
        for body in bodies:
            kw: dict[str, Any] = {"headers": dict(headers), "query_string": q}
            if method != "GET":
                if api:
                    kw["json"] = {k: v for k, v in body.items() if k != "file"} | {
                        "data": body.get("title")
                    }
                else:
                    kw["headers"]["X-CSRFToken"] = csrf
                    data = dict(body)
                    if "file" in data:
                        data["file"] = (io.BytesIO(PDF), "a.pdf")
                    kw["data"] = data
                    kw["content_type"] = "multipart/form-data"
            try:
                r = client.open(path, method=method, **kw)
            except Exception as exc:  # noqa: BLE001 - TESTING re-raises a 500's cause
                bad.append(f"{method} {path} as {user}: raised {type(exc).__name__}: {exc}"[:300])
                continue
            if r.status_code >= 500:
                bad.append(
                    f"{method} {path} as {user} {sorted(q)} {sorted(body)[:3]}: {r.status_code}"
                )
    return bad


def test_no_input_answers_5xx_on_sqlite(province):
    prov = province

    def client_of(user):
        c = prov.client(user)
        return c, prov.csrf.get(user, "")

    failures = fuzz(prov.app, client_of, lambda u: prov.tokens.get(u, ""), prov.objects, USERS)
    assert not failures, f"{len(failures)} answers were 5xx, e.g. {failures[:15]}"


@pytest.mark.postgres
def test_no_input_answers_5xx_on_postgres(pg_world, tmp_path):
    """The same fuzz on PostgreSQL, where a 32-bit column or a varchar overflows for real."""
    from workflow.org import tokens

    app = make_app(pg_world, tmp_path)
    clients: dict[Any, tuple[Any, str]] = {}
    plain: dict[str, str] = {}
    with pg_world.db.writing() as s:
        for name in ("office", "clerk"):
            _, plain[name] = tokens.create_token(
                s, pg_world.user(s, name), "fuzz", pg_world.clock()
            )
    from tests.web.conftest import open_issue

    issue_id = open_issue(pg_world)

    def client_of(user):
        if user not in clients:
            c = app.test_client()
            if user:
                login(c, user, PASSWORD)
                clients[user] = (c, csrf_token(c, "/inbox"))
            else:
                clients[user] = (c, csrf_token(c))
        return clients[user]

    objects = {"A": issue_id, "evA": 2**30, "letterA": 2**30, "message": 2**30, "token": 2**30,
               "definition": 1}  # fmt: skip
    # fewer roles than on SQLite: what differs here is the database, not the gates
    failures = fuzz(app, client_of, lambda u: plain.get(u, ""), objects, ["office", "clerk", None])
    with pg_world.db.writing() as s:
        from workflow import service

        lead = service.open_issue(s, "problem_lead", {"title": "线索", "unit": "HZ",
                                  "cadre_level": "市管干部"}, pg_world.user(s, "office"),
                                  pg_world.clock()).id  # fmt: skip
    clients.clear()  # the route fuzz posted /logout for everyone: log in afresh
    deep, codes = act_fuzz(pg_world.db, client_of, [issue_id, lead],
                           ["office", "clerk", "head", "super", "discipline", "checker"])  # fmt: skip
    failures += deep
    assert 422 in codes, f"no field was ever refused: the fuzz did not reach the fields {codes}"
    assert not failures, f"{len(failures)} answers were 5xx, e.g. {failures[:15]}"


def _hostile_for(spec: Any) -> list[str]:
    """Values a field of this type must refuse with a message, never a 500."""
    kind = getattr(spec, "type", "text")
    if kind in ("int", "decimal", "number"):
        return [str(2**31), str(2**63), "1e400", "-0"]
    if kind == "date":
        return ["1900-01-01", "2026-02-30", "9999-12-31"]
    if kind in ("unit", "units"):
        return ["x" * 300, "NB" * 100]
    return [LONG]


def _plausible_for(spec: Any) -> str:
    """A value of this field type that passes its own checks."""
    kind = getattr(spec, "type", "text")
    choices = getattr(spec, "choices", None)
    if choices:
        return str(list(choices)[0])
    return {"int": "1", "decimal": "1", "number": "1", "date": "2026-12-31", "bool": "on",
            "confirm": "on", "unit": "HZ-XH-LY", "units": "HZ-SC-HB", "user": "checker",
            "measures": "措施 | 2026-12-31"}.get(kind, "说明")  # fmt: skip


def _put_in(db: Any, issue_id: int, state: str) -> str:
    """Put the issue in ``state`` (as a fixture, behind the service's back); its version."""
    from sqlalchemy import update

    from workflow.models import Issue

    with db.writing() as s:
        s.execute(update(Issue).where(Issue.id == issue_id).values(state=state))
        return str(s.get(Issue, issue_id).version)


def act_fuzz(
    db: Any, client_of: Any, issues: list[int], users: list[str]
) -> tuple[list[str], set[int]]:
    """Each action of each definition on each issue of its kind, put in the action's source
    state, posted by a user of each of its roles with every field hostile in turn."""
    from sqlalchemy import select

    from tests.security.conftest import ROLE
    from workflow.definition.registry import definition_of
    from workflow.models import DefinitionVersion, Issue

    with db.reading() as s:
        versions = list(s.scalars(select(DefinitionVersion)))
        kinds = {i: s.get(Issue, i).kind for i in issues}
    failures, seen = [], set()
    for dv in versions:
        d = definition_of(dv)
        for issue_id in [i for i, kind in kinds.items() if kind == d.name]:
            for name, action in d.actions.items():
                who = [u for u in users if ROLE[u] in action.roles][:2] or users[:1]
                base = {f: _plausible_for(sp) for f, sp in action.fields.items()}
                for field, spec in action.fields.items():
                    for value in _hostile_for(spec):
                        for user in who:
                            version = _put_in(db, issue_id, sorted(action.sources)[0])
                            c, csrf = client_of(user)
                            where = f"{name}.{field}={value[:20]!r} as {user}"
                            try:
                                r = c.post(f"/issues/{issue_id}/act/{name}",
                                           data={**base, field: value, "version": version},
                                           headers={"X-CSRFToken": csrf, "HX-Request": "true"})  # fmt: skip
                            except Exception as exc:  # noqa: BLE001 - TESTING re-raises a 500's cause
                                failures.append(
                                    f"{where}: raised {type(exc).__name__}: {exc}"[:400]
                                )
                                continue
                            seen.add(r.status_code)
                            if r.status_code >= 500:
                                failures.append(
                                    f"{name}.{field}={value[:20]!r} as {user}: {r.status_code}"
                                )
    return failures, seen


def test_every_action_with_hostile_fields_answers_below_500(province):
    prov = province
    users = [u for u in USERS if u]
    for user in users:  # the route fuzz posted /logout for everyone: log in afresh
        prov.forget(user)
    failures, seen = act_fuzz(prov.world.db, lambda u: (prov.client(u), prov.csrf[u]),
                              [prov.objects["A"], prov.objects["L"]], users)  # fmt: skip
    assert 422 in seen, f"no field was ever refused: the fuzz did not reach the fields {seen}"
    assert not failures, f"{len(failures)} answers were 5xx, e.g. {failures[:15]}"
