"""The authorization matrix (S1, ASVS 4.1.1/4.1.3/4.1.5/4.2.1): every route × every role
× objects inside and outside the user's scope answers as ``web/authz_matrix.py`` declares.

Each endpoint is one test: anonymous, then each of the 12 users of the province, on each
fixture object the URL can name (issue A of 灵隐街道, issue B of 湖滨街道, problem lead L,
their evidence and letters, clerk's message and token, units in and out of reach — 宁波市
is out of the city office's).  GETs are
sent as a page and as an htmx fragment request; POST/DELETE with a valid CSRF token (or API
token) and empty or harmless data.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import url_for

from tests.security.conftest import PDF, ROLE, USERS
from web.authz_matrix import MATRIX, Access, undeclared

HX = {"HX-Request": "true"}
# files, not pages: no htmx fragment to ask for
NOT_HTML = {"excel.ledger", "excel.statistics", "evidence.download", "issues.diagram",
            "issues.letter", "admin.diagram", "static", "healthz"}  # fmt: skip
LY, HB, NB = "HZ-XH-LY", "HZ-SC-HB", "NB"
SEE_A = {"office", "cityoffice", "clerk", "head", "super", "citysuper", "leader"}
SEE_B = {"office", "cityoffice", "clerk2", "head2", "citysuper", "leader"}
SEE_L = {"office", "cityoffice", "discipline"}
REACH_LY = {"office", "cityoffice", "clerk", "head", "super", "citysuper", "checker_own",
            "discipline", "leader"}  # fmt: skip
REACH_HB = {"office", "cityoffice", "clerk2", "head2", "citysuper", "discipline", "leader"}
REACH_NB = {"office", "checker", "discipline", "leader", "nbleader"}  # not the city office's
EVERYONE = set(USERS)
ISSUE_JSON = {"definition": "rectification", "title": "越权测试", "unit": LY,
              "category": "党的建设缺失", "description": "x"}  # fmt: skip


def objects(endpoint: str, access: Access, o: dict[str, Any]) -> list[tuple[str, dict, dict, set]]:
    """(label, URL arguments, query string, users who may see it) for each fixture object."""
    api = endpoint.startswith("api")
    scope = access.scope
    if scope is None:
        return [("-", {}, {}, EVERYONE)]
    if scope in ("issue", "lead"):
        lead = scope == "lead"
        return [("A", {"issue_id": o["A"]}, {}, set() if lead else SEE_A),
                ("B", {"issue_id": o["B"]}, {}, set() if lead else SEE_B),
                ("L", {"issue_id": o["L"]}, {}, SEE_L)]  # fmt: skip
    if scope == "evidence":
        found = [(k, {"evidence_id": o[f"ev{k}"]}, {}, v)
                 for k, v in (("A", SEE_A), ("B", SEE_B), ("L", SEE_L))]  # fmt: skip
        if api:
            found = [(k, {**a, "issue_id": o[k]}, q, v) for k, a, q, v in found]
            # B's evidence asked for through issue A: never served, whoever asks
            found.append(("A/evB", {"issue_id": o["A"], "evidence_id": o["evB"]}, {}, set()))
        return found
    if scope == "letter":
        return [(k, {"letter_id": o[f"letter{k}"]}, {}, v) for k, v in (("A", SEE_A), ("B", SEE_B))]
    if scope == "message":
        return [("msg", {"message_id": o["message"]}, {}, {"clerk"})]
    if scope == "token":
        return [("token", {"token_id": o["token"]}, {}, {"clerk"})]
    if scope == "definition":
        return [("dv", {"dv_id": o["definition"]}, {}, EVERYONE)]
    if scope in ("round", "team", "robot"):
        # no rounds or teams in the fixture yet: an unknown one is 404 for everyone allowed
        return [("unknown", {f"{scope}_id": 999_999}, {}, set())]
    if scope == "rollup":  # A, B and L are not common problems: no roll-up page for them
        return [(k, {"issue_id": o[k]}, {}, set()) for k in ("A", "B", "L")]
    if scope == "import":
        return [("key", {"key": "0" * 32}, {}, set())]
    if scope == "unit":
        if endpoint.startswith("api_units."):
            return [(LY, {"code": LY}, {}, REACH_LY), (HB, {"code": HB}, {}, REACH_HB),
                    (NB, {"code": NB}, {}, REACH_NB)]  # fmt: skip
        ly, hb, nb = (LY, HB, NB) if api else (o["unit_LY"], o["unit_HB"], o["unit_NB"])
        return [("-", {}, {}, EVERYONE), (LY, {}, {"unit": ly}, REACH_LY),
                (HB, {}, {"unit": hb}, REACH_HB), (NB, {}, {"unit": nb}, REACH_NB)]  # fmt: skip
    raise AssertionError(f"unknown scope {scope!r}")


def extra_args(endpoint: str, label: str) -> dict[str, Any]:
    """URL arguments that name no object (which action, which static file)."""
    action = "dispose" if label == "L" else "return_to_office"  # one the definition has
    return {
        "static": {"filename": "css/app.css"},
        "issues.act": {"action_name": action},
        "api_issues.act_on_issue": {"action": action},
        "admin_letters.download": {"kind": "admonition"},
        "admin_letters.preview": {"kind": "admonition"},
        "admin_letters.reset": {"kind": "admonition"},
    }.get(endpoint, {})


def send(prov, endpoint: str, method: str, user: str | None, url: str, hx: bool) -> Any:
    """One request as ``user`` (a cookie session or, on the API, a token)."""
    api = MATRIX[endpoint].auth == "token"
    client = prov.app.test_client() if api else prov.client(user)
    headers = dict(HX) if hx else {}
    kw: dict[str, Any] = {"headers": headers}
    if api and user is not None:
        headers["Authorization"] = f"Bearer {prov.tokens[user]}"
    if method in ("POST", "DELETE", "PUT"):
        if not api:
            headers["X-CSRFToken"] = prov.csrf[user]
        if endpoint in ("evidence.upload", "api_issues.upload_evidence"):
            kw["data"] = {"file": (io.BytesIO(PDF), "authz.pdf")}
            kw["content_type"] = "multipart/form-data"
        elif endpoint == "api_issues.create_issue":
            kw["json"] = ISSUE_JSON
        elif endpoint == "api_issues.act_on_issue":
            kw["json"] = {"data": {}, "expected_version": 1}
        elif api:
            kw["json"] = {}
        else:
            kw["data"] = {}
    return client.open(url, method=method, **kw)


def verdict(access: Access, method: str, user: str | None, visible: set, r: Any, hx: bool) -> str:
    """'' when the answer is what the matrix declares, else what is wrong."""
    code = r.status_code
    if code >= 500:
        return f"server error {code}"
    if access.auth == "public":
        return ""
    if user is None:
        if access.auth == "token":
            return "" if code == 401 else f"anonymous API call answered {code}"
        if hx:
            ok = code == 401 and "/login" in r.headers.get("HX-Redirect", "")
        else:
            ok = code == 302 and "/login" in r.headers.get("Location", "")
        return "" if ok else f"anonymous visitor answered {code}"
    if ROLE[user] not in access.roles:
        return "" if code in (403, 404) else f"role {ROLE[user]} not allowed but answered {code}"
    if user not in visible:
        return "" if code == 404 else f"object outside scope answered {code} (want 404)"
    if method == "GET":  # 422: a GET that needs arguments (e.g. a push preview) got none
        return "" if code < 400 or code == 422 else f"allowed and in scope but answered {code}"
    if code == 404 or (code == 403 and not access.service):
        return f"allowed and in scope but the gate answered {code}"
    return ""


@pytest.mark.parametrize("endpoint", sorted(MATRIX))
def test_endpoint_answers_as_declared(province, endpoint):
    """Fails when a view loses its gate (login, role or scope check): e.g. dropping
    ``get_or_404(queries.get_visible(...))`` from ``issues.show`` makes the other unit's
    issue answer 200, and dropping ``role_required`` from an admin page lets clerk in."""
    access = MATRIX[endpoint]
    rule = next(r for r in province.app.url_map.iter_rules() if r.endpoint == endpoint)
    methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
    problems = []
    for label, args, query, visible in objects(endpoint, access, province.objects):
        with province.app.test_request_context():
            url = url_for(endpoint, **args, **extra_args(endpoint, label), **query)
        for method in methods:
            for user in [None, *USERS]:
                both = method == "GET" and access.auth == "session" and endpoint not in NOT_HTML
                for hx in (False, True) if both else (False,):
                    r = send(province, endpoint, method, user, url, hx)
                    wrong = verdict(access, method, user, visible, r, hx)
                    if wrong:
                        problems.append(
                            f"{method} {url} [{label}] as {user}{' (htmx)' * hx}: {wrong}"
                        )
    if endpoint == "auth.logout":
        province.clients.clear()  # every user just ended their sessions
    assert not problems, "\n".join(problems)


def test_every_route_is_declared(province):
    """Fails when a route is added without an entry in web/authz_matrix.py (deny by
    default), or an entry outlives its route."""
    endpoints = {r.endpoint for r in province.app.url_map.iter_rules()}
    assert not undeclared(endpoints), f"routes without an authz entry: {undeclared(endpoints)}"
    assert not MATRIX.keys() - endpoints, f"entries without a route: {MATRIX.keys() - endpoints}"


def test_a_new_route_is_caught(world_template, tmp_path):
    """The check above really sees routes: one added to a fresh app is reported."""
    from tests.security.conftest import copy_world, make_app

    world = copy_world(world_template, tmp_path)
    app = make_app(world, tmp_path)
    app.add_url_rule("/new-unreviewed", "new_unreviewed", lambda: "hello")
    assert undeclared({r.endpoint for r in app.url_map.iter_rules()}) == {"new_unreviewed"}
    world.db.dispose()


def test_api_ignores_the_session_cookie(province):
    """The API is CSRF-exempt only because a cookie confers nothing there: a logged-in
    browser session without a token gets 401.  Fails if the API ever accepts the cookie."""
    office = province.client("office")
    assert office.get("/api/v1/issues/").status_code == 401
    r = office.post("/api/v1/issues/", json=ISSUE_JSON)
    assert r.status_code == 401


def test_city_office_cannot_grant_province_roles(province):
    """A city inspection office (office@HZ) must not create a province office account.

    Fails when `within=` is dropped from the admin page's add_user call (any office could
    then grant any ROLE@UNIT: a vertical privilege escalation)."""
    c = province.client("cityoffice")
    r = c.post("/admin/users", data={"username": "mallory", "display_name": "m",
               "password": "long-enough-1", "roles": "office@ZJ",
               "csrf_token": province.csrf["cityoffice"]})  # fmt: skip
    assert r.status_code in (403, 404, 422)
