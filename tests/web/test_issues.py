"""The issue page: scoping, action forms, 422 / 409 / 403 answers, opening issues."""

from __future__ import annotations

from tests.web.conftest import act

HX = {"HX-Request": "true"}


def post_action(client, issue_id, action, version, htmx=True, **data):
    return client.post(
        f"/issues/{issue_id}/act/{action}",
        data={"version": version, **data},
        headers=HX if htmx else {},
    )


def test_issue_page_shows_fields_and_only_my_actions(client, auth, issue_id):
    auth.login("clerk")
    r = client.get(f"/issues/{issue_id}")
    html = r.data.decode()
    assert r.status_code == 200 and "考核奖金发放不规范" in html
    assert "签收" in html and "退回" in html  # sign_for, return_to_office
    assert "重新移交" not in html  # reassign is the office's
    assert 'name="version" value="1"' in html
    assert "diagram.svg" in html
    # the page and its htmx fragment share a URL: caches must key on the header
    assert "HX-Request" in r.headers["Vary"]


def test_issue_fragment_for_htmx(client, auth, issue_id):
    auth.login("clerk")
    r = client.get(f"/issues/{issue_id}", headers=HX)
    assert r.status_code == 200 and not r.data.startswith(b"<!doctype")
    assert b'id="issue"' in r.data


def test_other_units_issue_is_404(client, auth, other_issue_id, issue_id):
    auth.login("clerk")
    assert client.get(f"/issues/{other_issue_id}").status_code == 404
    assert client.get(f"/issues/{other_issue_id}/diagram.svg").status_code == 404
    assert post_action(client, other_issue_id, "sign_for", 1).status_code == 404
    auth.logout()
    auth.login("checker")  # not assigned yet
    assert client.get(f"/issues/{issue_id}").status_code == 404


def test_sign_for_with_htmx_swaps_the_whole_issue(client, auth, issue_id):
    auth.login("clerk")
    r = post_action(client, issue_id, "sign_for", 1)
    assert r.status_code == 200
    assert r.headers["HX-Retarget"] == "#issue" and "issueChanged" in r.headers["HX-Trigger"]
    assert "提交整改方案".encode() in r.data and 'name="version" value="2"' in r.data.decode()


def test_action_without_htmx_redirects(client, auth, issue_id):
    auth.login("clerk")
    r = post_action(client, issue_id, "sign_for", 1, htmx=False)
    assert r.status_code == 303 and r.headers["Location"] == f"/issues/{issue_id}"


def test_validation_errors_are_422_inline(client, auth, issue_id, sqlite_world):
    act(sqlite_world, issue_id, "sign_for", "clerk")
    auth.login("clerk")
    r = post_action(client, issue_id, "submit_plan", 2, measures="", note="我的说明")
    html = r.data.decode()
    assert r.status_code == 422
    assert 'id="act-submit_plan"' in html and "必填" in html and "我的说明" in html
    r = post_action(client, issue_id, "submit_plan", 2, measures="措施一 | 2026-13-45")
    assert r.status_code == 422 and "第 1 条措施" in r.data.decode()
    r = post_action(client, issue_id, "submit_plan", 2, htmx=False, measures="")
    assert r.status_code == 422 and r.data.startswith(b"<!doctype")


def test_stale_version_is_409_with_changes_and_input_kept(client, auth, issue_id, sqlite_world):
    act(sqlite_world, issue_id, "sign_for", "clerk")
    auth.login("head")
    r = post_action(client, issue_id, "return_to_office", 1, reason="不是我单位的问题")
    html = r.data.decode()
    assert r.status_code == 409
    assert "该问题已被他人更新" in html and "签收" in html and "灵隐经办人" in html
    r = post_action(client, issue_id, "submit_plan", 1, measures="召开专题会 | 2026-12-31")
    assert r.status_code in (403, 409)


def test_conflict_keeps_the_users_text(client, auth, issue_id, sqlite_world):
    act(sqlite_world, issue_id, "sign_for", "clerk")
    auth.login("clerk")
    r = post_action(client, issue_id, "submit_plan", 1, measures="召开专题会 | 2026-12-31")
    assert r.status_code == 409
    assert "召开专题会 | 2026-12-31" in r.data.decode()
    assert 'name="version" value="2"' in r.data.decode()


def test_wrong_role_is_403(client, auth, issue_id):
    auth.login("head")
    r = post_action(client, issue_id, "reassign", 1, unit="HZ-SC-HB")
    assert r.status_code == 403


def test_unknown_action_is_404(client, auth, issue_id):
    auth.login("clerk")
    assert post_action(client, issue_id, "no_such_action", 1).status_code == 404


def test_guard_failure_is_422_with_the_reason(client, auth, issue_id, sqlite_world):
    act(sqlite_world, issue_id, "sign_for", "clerk")
    act(sqlite_world, issue_id, "submit_plan", "clerk", measures="召开专题会 | 2026-12-31")
    act(sqlite_world, issue_id, "attest_plan", "head", attested=True)
    act(sqlite_world, issue_id, "approve_plan", "super")
    auth.login("clerk")
    r = post_action(client, issue_id, "request_closeout", 5, completion="已完成", summary="完成")
    assert r.status_code == 422 and "至少需要 1 份佐证材料" in r.data.decode()


def test_get_never_changes_data(client, auth, issue_id):
    auth.login("clerk")
    assert client.get(f"/issues/{issue_id}/act/sign_for").status_code == 405


def test_office_opens_an_issue(client, auth):
    auth.login("office")
    assert client.get("/issues/new").status_code == 200
    r = client.post(
        "/issues/new",
        data={
            "title": "新问题",
            "unit": "HZ-XH-LY",
            "deadline_type": "by_deadline",
            "due_on": "2026-12-31",
        },
    )
    assert r.status_code == 303
    assert "新问题".encode() in client.get(r.headers["Location"]).data


def test_open_issue_errors_are_422(client, auth):
    auth.login("office")
    r = client.post("/issues/new", data={"title": "", "unit": "NOPE"})
    assert r.status_code == 422 and "必填".encode() in r.data and b"NOPE" in r.data


def test_only_the_office_opens_issues(client, auth):
    auth.login("clerk")
    assert client.get("/issues/new").status_code == 404


def test_diagram_svg_with_hashed_style(client, auth, issue_id):
    auth.login("clerk")
    r = client.get(f"/issues/{issue_id}/diagram.svg")
    assert r.status_code == 200 and r.content_type.startswith("image/svg+xml")
    csp = r.headers["Content-Security-Policy"]
    assert "'sha256-" in csp and "unsafe-inline" not in csp and b"<svg" in r.data


def test_timeline_shows_the_events(client, auth, issue_id, sqlite_world):
    act(sqlite_world, issue_id, "sign_for", "clerk")
    auth.login("head")
    html = client.get(f"/issues/{issue_id}").data.decode()
    assert "移交" in html and "签收" in html and "灵隐经办人" in html


def test_english_labels_from_the_definition(client, auth, issue_id):
    auth.login("clerk")
    client.post("/lang", data={"lang": "en"})
    html = client.get(f"/issues/{issue_id}").data.decode()
    assert "Sign for" in html and "Transferred" in html


def test_timeline_names_escalations_by_their_rung(client, auth, issue_id, sqlite_world):
    """The sweep's events read as the rung's label (签收提醒, 黄牌预警 …), said by 系统 with
    no role key showing."""
    from datetime import timedelta

    from workflow.clock.escalation import sweep

    assert sweep(sqlite_world.db, sqlite_world.clock.now + timedelta(days=30)).fired >= 2
    auth.login("clerk")
    html = client.get(f"/issues/{issue_id}").data.decode()
    assert "签收提醒" in html and "黄牌预警" in html
    assert "escalate:" not in html and "role_system" not in html


def test_a_rung_name_shared_by_clocks_reads_as_its_own_clocks_label(client, auth, sqlite_world):
    """remind_7 of 整改时限 reads 到期提醒, not the plan clock's 方案报送提醒 of the same name."""
    from datetime import timedelta

    from tests.test_escalation import open_rect, walk_to_correcting
    from workflow.clock.escalation import sweep

    start = sqlite_world.clock.now
    with sqlite_world.db.writing() as s:
        issue = open_rect(s, sqlite_world, "HZ-XH-LY", "2026-12-31", start)
        walk_to_correcting(s, sqlite_world, issue, start + timedelta(minutes=5))
        issue_id = issue.id
    report = sweep(sqlite_world.db, start + timedelta(days=110))
    assert report.rungs["rectification/rectify/remind_7"].fired == 1
    auth.login("clerk")
    html = client.get(f"/issues/{issue_id}").data.decode()
    assert "方案报送提醒" not in html
