"""Every API operation, for each role: scope (404 outside it), roles (403), stale versions
(409 with the changes), per-field validation (422), evidence, units, tokens, Excel, errors."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from tests.conftest import WORLD_USERS
from tests.fixtures.excel.helpers import row, write_xlsx

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# who sees which of the fixture's issues in the list
VISIBLE = {
    "office": {"ly", "ly_support", "hb", "lead"},
    "cityoffice": {"ly", "ly_support", "hb", "lead"},
    "clerk": {"ly", "ly_support"},
    "head": {"ly", "ly_support"},
    "clerk2": {"hb", "ly_support"},
    "head2": {"hb", "ly_support"},
    "super": {"ly", "ly_support"},
    "citysuper": {"ly", "ly_support", "hb"},
    "checker": set(),
    "checker_own": set(),
    "discipline": {"lead"},
    "leader": {"ly", "ly_support", "hb"},
}
ROLES = [u for u, _, _ in WORLD_USERS]


def assert_error(r, status, code=None):
    assert r.status_code == status, r.data
    body = r.get_json()
    assert set(body) == {"error"}, body
    assert body["error"]["status"] == status and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]


# ------------------------------------------------------------------------------ auth


def test_no_token_wrong_token_revoked_token_are_401(api, issues):
    assert_error(api.get("/api/v1/issues/", as_=None), 401, "unauthorized")
    r = api.get("/api/v1/issues/", as_=None, headers={"Authorization": "Bearer rf_nope"})
    assert_error(r, 401)
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(api.get("/api/v1/issues/", as_=None, headers={"Authorization": "Basic x"}), 401)
    mine = api.get("/api/v1/tokens", as_="clerk").get_json()
    assert api.delete(f"/api/v1/tokens/{mine[0]['id']}", as_="clerk").status_code == 200
    assert_error(api.get("/api/v1/me", as_="clerk"), 401)


def test_cookies_are_neither_needed_nor_set(api, issues):
    r = api.get("/api/v1/me", as_="office")
    assert r.status_code == 200 and "Set-Cookie" not in r.headers
    assert r.get_json()["memberships"] == [{"role": "office", "unit": "ZJ", "unit_name": "浙江省"}]


def test_openapi_document_and_docs_page_are_public(api):
    spec = api.get("/api/v1/openapi.json", as_=None).get_json()
    assert (
        spec["openapi"].startswith("3.")
        and "/api/v1/issues/{issue_id}/actions/{action}" in spec["paths"]
    )
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    page = api.get("/api/v1/docs", as_=None)
    assert (
        page.status_code == 200 and b"/api/v1/issues/" in page.data and b"<script" not in page.data
    )


# ------------------------------------------------------------------------------ issues


@pytest.mark.parametrize("username", ROLES)
def test_list_shows_exactly_the_web_scope(api, issues, username):
    r = api.get("/api/v1/issues/", as_=username)
    assert r.status_code == 200
    ids = {i["id"] for i in r.get_json()["items"]}
    assert ids == {issues[k] for k in VISIBLE[username]}
    for key, issue_id in issues.items():
        got = api.get(f"/api/v1/issues/{issue_id}", as_=username)
        if key in VISIBLE[username]:
            assert got.status_code == 200 and got.get_json()["version"] == 1
        else:
            assert_error(got, 404, "not_found")
        events = api.get(f"/api/v1/issues/{issue_id}/events", as_=username)
        assert events.status_code == (200 if key in VISIBLE[username] else 404)


def test_list_filters_and_pagination(api, issues):
    def ids(**q):
        r = api.get("/api/v1/issues/", query_string=q)
        assert r.status_code == 200, r.data
        return {i["id"] for i in r.get_json()["items"]}

    assert ids(round="R1") == {issues["ly"], issues["hb"]}
    assert ids(unit="HZ-SC") == {issues["hb"]}
    assert ids(category="党的建设缺失") == {issues["ly"]}
    assert ids(deadline_type="fix_now") == {issues["ly_support"]}
    assert ids(q="公车") == {issues["ly_support"]}
    assert ids(q="100%_") == set()
    assert ids(state="transferred", stage="transfer") == set(issues.values())
    assert ids(warning_level="red") == set()
    assert ids(overdue="true") == set()
    page = api.get("/api/v1/issues/", query_string={"page_size": 2, "page": 2}).get_json()
    assert page["total"] == 4 and len(page["items"]) == 2 and page["page"] == 2
    assert_error(api.get("/api/v1/issues/", query_string={"page_size": 0}), 422)
    assert_error(api.get("/api/v1/issues/", query_string={"unit": "NOPE"}), 422)
    err = assert_error(api.get("/api/v1/issues/", query_string={"warning_level": "blue"}), 422)
    assert "warning_level" in err["fields"]


def test_read_shows_deadlines_and_the_actions_with_fields(api, issues):
    body = api.get(f"/api/v1/issues/{issues['ly']}", as_="clerk").get_json()
    assert body["state"] == "transferred" and body["deadlines"][0]["clock"] == "sign_for"
    actions = {a["name"]: a for a in body["actions"]}
    assert {"sign_for", "return_to_office"} <= set(actions)
    assert actions["return_to_office"]["fields"][0]["name"] == "reason"
    assert api.get(f"/api/v1/issues/{issues['ly']}", as_="super").get_json()["actions"] == []


def test_create_issue_by_role(api, issues):
    new = {"title": "食堂采购不规范", "unit": "HZ-XH-LY", "due_on": "2026年12月31日", "round": "R1",
           "supporting_units": ["HZ-SC-HB"], "category": "全面从严治党不力"}  # fmt: skip
    r = api.post("/api/v1/issues/", as_="office", json=new)
    assert r.status_code == 201, r.data
    body = r.get_json()
    assert body["due_on"] == "2026-12-31" and body["supporting_units"][0]["code"] == "HZ-SC-HB"
    assert api.post("/api/v1/issues/", as_="cityoffice", json=new).status_code == 201
    for username in ("clerk", "super", "leader", "discipline", "checker"):
        assert_error(api.post("/api/v1/issues/", as_=username, json=new), 403, "forbidden")
    err = assert_error(
        api.post("/api/v1/issues/", json={**new, "unit": "NOPE", "due_on": "x"}), 422
    )
    assert set(err["fields"]) == {"unit", "due_on"}
    err = assert_error(api.post("/api/v1/issues/", json={**new, "colour": "red"}), 422)
    assert "colour" in err["fields"]
    assert_error(api.post("/api/v1/issues/", json={"unit": "HZ"}), 422)
    r = api.post("/api/v1/issues/", data="{not json", headers={"Content-Type": "application/json"})
    assert r.status_code in (400, 422) and "error" in r.get_json()


def test_act_success_conflict_validation_role_scope(api, issues):
    url = f"/api/v1/issues/{issues['ly']}/actions/sign_for"
    r = api.post(url, as_="clerk", json={"data": {}, "expected_version": 1})
    assert r.status_code == 200, r.data
    body = r.get_json()
    assert (
        body["to_state"] == "planning"
        and body["version"] == 2
        and body["issue"]["state"] == "planning"
    )
    # stale version: 409 with what changed since
    plan = f"/api/v1/issues/{issues['ly']}/actions/submit_plan"
    err = assert_error(
        api.post(plan, as_="clerk", json={"data": {}, "expected_version": 1}), 409, "conflict"
    )
    assert err["changes"][0]["action"] == "sign_for"
    # per-field messages
    err = assert_error(api.post(plan, as_="clerk", json={"data": {"measures": [{"text": ""}]},
                                                        "expected_version": 2}), 422)  # fmt: skip
    assert "measures" in err["fields"]
    err = assert_error(
        api.post(plan, as_="clerk", json={"data": {"bogus": 1}, "expected_version": 2}), 422
    )
    assert "bogus" in err["fields"]
    assert_error(api.post(plan, as_="clerk", json={"data": {}}), 422)
    # role: the supervisor cannot submit the unit's plan
    assert_error(api.post(plan, as_="super", json={"data": {}, "expected_version": 2}), 403)
    # scope: another unit's clerk gets 404, and so does an unknown issue
    assert_error(api.post(plan, as_="clerk2", json={"data": {}, "expected_version": 2}), 404)
    assert_error(api.post("/api/v1/issues/9999/actions/sign_for", as_="office",
                          json={"data": {}, "expected_version": 1}), 404)  # fmt: skip
    # unknown action
    assert_error(api.post(f"/api/v1/issues/{issues['ly']}/actions/fly", as_="clerk",
                          json={"data": {}, "expected_version": 2}), 422)  # fmt: skip
    ok = api.post(plan, as_="clerk", json={"data": {"measures": [
        {"text": "修订制度", "due_on": "2026-12-31"}]}, "expected_version": 2})  # fmt: skip
    assert ok.status_code == 200 and ok.get_json()["issue"]["measures"][0]["text"] == "修订制度"
    events = api.get(f"/api/v1/issues/{issues['ly']}/events", as_="clerk").get_json()
    assert [e["action"] for e in events if e["outcome"] == "ok"] == [
        "open",
        "sign_for",
        "submit_plan",
    ]
    assert any(e["outcome"] == "denied" for e in events)


def test_supporting_unit_sees_but_cannot_act(api, issues):
    url = f"/api/v1/issues/{issues['ly_support']}/actions/sign_for"
    assert_error(api.post(url, as_="clerk2", json={"data": {}, "expected_version": 1}), 403)


# ------------------------------------------------------------------------------ evidence


def test_evidence_upload_list_download(api, issues, app):
    url = f"/api/v1/issues/{issues['ly']}/evidence"
    r = api.post(url, as_="clerk", data={"file": (io.BytesIO(PDF), "会议纪要.pdf")},
                 content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 201, r.data
    ev = r.get_json()
    assert ev["content_type"] == "application/pdf" and len(ev["sha256"]) == 64
    assert ev["filename"] == "会议纪要.pdf"
    listed = api.get(url, as_="super").get_json()
    assert [e["id"] for e in listed] == [ev["id"]]
    got = api.get(f"{url}/{ev['id']}", as_="super")
    assert got.status_code == 200 and got.data == PDF
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert_error(api.get(f"{url}/{ev['id']}", as_="clerk2"), 404)
    assert_error(api.get(f"{url}/999", as_="clerk"), 404)
    # roles and types
    assert_error(api.post(url, as_="super", data={"file": (io.BytesIO(PDF), "a.pdf")},
                          content_type="multipart/form-data"), 403)  # fmt: skip
    assert_error(api.post(url, as_="clerk2", data={"file": (io.BytesIO(PDF), "a.pdf")},
                          content_type="multipart/form-data"), 404)  # fmt: skip
    assert_error(api.post(url, as_="clerk", data={"file": (io.BytesIO(b"MZ\x90\x00"), "a.pdf")},
                          content_type="multipart/form-data"), 415)  # fmt: skip
    assert_error(api.post(url, as_="clerk", json={"file": "x"}), 415)
    assert_error(
        api.post(url, as_="clerk", data={"other": "x"}, content_type="multipart/form-data"), 422
    )
    big = io.BytesIO(b"%PDF-" + b"0" * (3 * 1024 * 1024))
    assert_error(api.post(url, as_="clerk", data={"file": (big, "big.pdf")},
                          content_type="multipart/form-data"), 413, "too_large")  # fmt: skip
    detail = api.get(f"/api/v1/issues/{issues['ly']}", as_="clerk").get_json()
    assert detail["evidence_count"] == 1


# ------------------------------------------------------------------------------ units


def test_units_tree_progress_statistics_by_role(api, issues):
    codes = [u["code"] for u in api.get("/api/v1/units/", as_="citysuper").get_json()]
    assert codes[0] == "HZ" and "NB" not in codes and "HZ-XH-LY" in codes
    assert [u["code"] for u in api.get("/api/v1/units/", as_="clerk").get_json()] == ["HZ-XH-LY"]
    r = api.get("/api/v1/units/HZ/progress", as_="citysuper").get_json()
    assert r["total"]["total"] == 3
    assert {c["unit"]["code"]: c["total"] for c in r["children"]} == {"HZ-XH": 2, "HZ-SC": 1}
    r = api.get("/api/v1/units/ZJ/progress", as_="leader", query_string={"round": "R1"}).get_json()
    assert r["total"]["total"] == 2
    assert_error(api.get("/api/v1/units/HZ/progress", as_="clerk"), 404)
    assert_error(api.get("/api/v1/units/NOPE/statistics", as_="office"), 404)
    assert_error(
        api.get("/api/v1/units/ZJ/progress", as_="office", query_string={"round": "X"}), 422
    )
    stats = api.get("/api/v1/units/ZJ/statistics", as_="leader").get_json()
    assert stats["dimensions"]["total"][0]["total"] == 3
    assert {d["key"] for d in stats["dimensions"]["category"]} >= {"党的建设缺失"}
    assert api.get("/api/v1/units/HZ-XH-LY/statistics", as_="clerk").status_code == 200


def test_progress_equals_the_board_query(api, issues, sqlite_world):
    from workflow import queries

    with sqlite_world.db.reading() as s:
        user = sqlite_world.user(s, "citysuper")
        board = queries.unit_progress(s, user, [sqlite_world.units["HZ"]], sqlite_world.clock())[0]
    api_total = api.get("/api/v1/units/HZ/progress", as_="citysuper").get_json()["total"]
    assert (api_total["total"], api_total["completed"], api_total["overdue"]) == (
        board.total, board.done, board.overdue)  # fmt: skip


# ------------------------------------------------------------------------------ tokens


def test_tokens_create_list_revoke(api):
    r = api.post("/api/v1/tokens", as_="super", json={"name": "督办系统"})
    assert r.status_code == 201
    new = r.get_json()
    assert new["token"].startswith("rf_") and new["prefix"] == new["token"][:10]
    assert api.get("/api/v1/me", as_=None, headers={"Authorization": f"Bearer {new['token']}"}
                   ).get_json()["username"] == "super"  # fmt: skip
    listed = api.get("/api/v1/tokens", as_="super").get_json()
    assert {t["name"] for t in listed} == {"tests", "督办系统"} and "token" not in listed[0]
    assert any(t["last_used_at"] for t in listed)
    assert_error(api.delete(f"/api/v1/tokens/{new['id']}", as_="clerk"), 404)
    assert api.delete(f"/api/v1/tokens/{new['id']}", as_="super").get_json()["revoked_at"]
    assert_error(
        api.get("/api/v1/me", as_=None, headers={"Authorization": f"Bearer {new['token']}"}), 401
    )
    assert_error(api.post("/api/v1/tokens", as_="super", json={"name": ""}), 422)


# ------------------------------------------------------------------------------ excel


def test_import_dry_run_then_import_then_reimport(api, issues, tmp_path):
    path = write_xlsx(tmp_path / "list.xlsx", [row(1), row(2, 责任单位="湖滨街道")])

    def send(as_="office", **q):
        return api.post("/api/v1/imports", as_=as_, query_string=q, content_type="multipart/form-data",
                        data={"file": (open(path, "rb"), "list.xlsx")})  # fmt: skip

    dry = send().get_json()
    assert (dry["rows"], dry["valid"], dry["written"]) == (2, 2, False)
    done = send(dry_run="false").get_json()
    assert (done["created"], done["written"]) == (2, True)
    again = send(dry_run="false").get_json()
    assert (again["existing"], again["created"]) == (2, 0)
    assert (
        send(as_="clerk").get_json()["errors"][0]["message"].startswith("only an inspection office")
    )
    bad = write_xlsx(tmp_path / "bad.xlsx", [row(3, 责任单位="西胡区")])
    path = bad
    err = assert_error(send(dry_run="false"), 422)
    assert "西湖区" in err["fields"]["file"][0]
    assert_error(api.post("/api/v1/imports", json={}), 415)


def test_exports_by_role(api, issues):
    r = api.get("/api/v1/exports/ledger", as_="citysuper", query_string={"unit": "HZ-XH"})
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(io.BytesIO(r.data)).active
    assert ws["A3"].value == "序号" and ws.max_row == 3 + 2
    assert ws.freeze_panes == "A4" and ws.print_title_rows == "$3:$3"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
    r = api.get("/api/v1/exports/ledger", as_="clerk2")
    assert load_workbook(io.BytesIO(r.data)).active.max_row == 3 + 2
    assert_error(api.get("/api/v1/exports/ledger", as_="clerk", query_string={"unit": "HZ"}), 404)
    r = api.get("/api/v1/exports/statistics", as_="leader", query_string={"unit": "ZJ"})
    wb = load_workbook(io.BytesIO(r.data))
    assert {"总体", "按单位", "按类别", "按轮次"} <= set(wb.sheetnames)


# ------------------------------------------------------------------------------ errors


def test_error_shape_for_unrouted_and_wrong_method(api, issues):
    assert_error(api.get("/api/v1/nothing-here", as_=None), 404, "not_found")
    assert_error(api.delete("/api/v1/issues/"), 405, "method_not_allowed")
    assert_error(api.get("/api/v1/issues/abc"), 404)


@pytest.mark.parametrize(
    "url",
    ["/api/v1/issues/", "/api/v1/exports/ledger", "/api/v1/exports/statistics",
     "/api/v1/units/ZJ/progress", "/api/v1/units/ZJ/statistics"],
)  # fmt: skip
def test_an_unknown_query_parameter_is_named_not_ignored(api, issues, url):
    """A misspelt filter (``?unti=HZ``) answers 422 naming it instead of exporting or
    listing everything (webargs ignores unknown query parameters by default: these fail
    without ``StrictParser``)."""
    err = assert_error(api.get(url, query_string={"unti": "HZ"}), 422)
    assert "unti" in str(err)


def test_web_pages_keep_their_own_error_pages(api):
    r = api.client.get("/no-such-page")
    assert r.status_code == 404 and r.mimetype == "text/html"
