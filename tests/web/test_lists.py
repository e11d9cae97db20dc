"""My work, the board, the ledger (filters, search, bulk), queues, leads, statistics,
admin and the notification bell — pages and their htmx fragments."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.web.conftest import act, open_issue
from web.database import get_session
from workflow import queries
from workflow.models import InboxMessage, Issue, Unit, User

HX = {"HX-Request": "true"}


def fragment_of(r) -> bool:
    return r.status_code == 200 and not r.data.lstrip().startswith(b"<!doctype")


def test_my_work_lists_what_waits_for_me(client, auth, issue_id, other_issue_id):
    auth.login("clerk")
    r = client.get("/")
    assert r.status_code == 200
    html = r.data.decode()
    assert f"/issues/{issue_id}" in html and f"/issues/{other_issue_id}" not in html
    r = client.get("/", headers=HX)
    assert fragment_of(r) and b'id="work"' in r.data
    auth.logout()
    auth.login("super")  # nothing to approve yet
    assert f"/issues/{issue_id}" not in client.get("/").data.decode()


def test_my_work_follows_the_workflow(client, auth, issue_id, sqlite_world):
    act(sqlite_world, issue_id, "sign_for", "clerk")
    act(sqlite_world, issue_id, "submit_plan", "clerk", measures="措施 | 2026-12-31")
    auth.login("head")
    assert f"/issues/{issue_id}" in client.get("/").data.decode()
    auth.logout()
    auth.login("clerk")
    assert f"/issues/{issue_id}" not in client.get("/").data.decode()


def test_board_page_fragment_and_drill_down(client, auth, sqlite_world, issue_id, other_issue_id):
    auth.login("office")
    r = client.get("/board")
    html = r.data.decode()
    assert (
        r.status_code == 200
        and "浙江省" in html
        and "杭州市" in html
        and 'hx-trigger="every 60s"' in html
    )
    hz = sqlite_world.units["HZ"]
    r = client.get(f"/board?unit={hz}", headers=HX)
    assert fragment_of(r) and "西湖区".encode() in r.data and "上城区".encode() in r.data
    assert r.headers["Vary"] == "HX-Request" or "HX-Request" in r.headers["Vary"]


def test_board_outside_reach_is_404(client, auth, sqlite_world):
    auth.login("clerk")
    assert client.get(f"/board?unit={sqlite_world.units['NB']}").status_code == 404


def test_board_rollup_equals_statistics(app, sqlite_world, issue_id, other_issue_id, clock):
    open_issue(sqlite_world, "HZ-XH-LY", due_on="2026-09-01")
    act(sqlite_world, issue_id, "sign_for", "clerk")
    with app.test_request_context("/"):
        db = get_session()
        office = db.get(User, sqlite_world.users["office"])
        hz = sqlite_world.units["HZ"]
        rows = queries.unit_progress(db, office, queries.child_units(db, hz), clock())
        stats = queries.statistics(db, office, clock(), queries.Filters(unit_id=hz)).progress
        assert stats.total == 3 == sum(r.total for r in rows)
        assert stats.by_stage == {s: sum(r.by_stage[s] for r in rows) for s in queries.STAGES}
        top = queries.unit_progress(db, office, [sqlite_world.units["ZJ"]], clock())[0]
        assert top.total == stats.total == queries.scope_progress(db, office, clock()).total
        clerk = db.get(User, sqlite_world.users["clerk"])
        assert queries.scope_progress(db, clerk, clock()).total == 2


def test_unit_board_is_the_per_unit_progress(world):
    """The board's one scan gives the lines of unit_progress and of the per-unit join."""
    for code in ("HZ-XH-LY", "HZ-SC-HB", "HZ", "NB-HS"):
        open_issue(world, code, due_on="2026-12-31")
    later = world.clock() + timedelta(days=60)  # every sign-for deadline has passed
    with world.db.reading() as s:
        for username in ("office", "cityoffice", "citysuper"):
            user = world.user(s, username)
            for code in ("ZJ", "HZ", "HZ-XH", "HZ-XH-LY"):
                unit = s.get(Unit, world.units[code])
                kids = queries.child_units(s, unit.id)
                for now, f in ((world.clock(), queries.Filters()),
                               (later, queries.Filters(overdue=True))):  # fmt: skip
                    summary, rows = queries.unit_board(s, user, unit, now, f)
                    assert [summary] == queries.unit_progress(s, user, [unit.id], now, f)
                    assert [summary] == queries.joined_progress(s, user, [unit.id], now, f)
                    assert rows == queries.unit_progress(s, user, kids, now, f)
                    assert rows == queries.joined_progress(s, user, kids, now, f)
        zj = s.get(Unit, world.units["ZJ"])
        summary, rows = queries.unit_board(s, world.user(s, "office"), zj, later)
        assert (summary.total, summary.overdue) == (4, 4)
        assert [(r.code, r.total) for r in rows] == [("HZ", 3), ("NB", 1)]


def test_ledger_filters_search_sort_and_pages(client, auth, sqlite_world, issue_id, other_issue_id):
    auth.login("office")
    r = client.get("/ledger")
    assert r.status_code == 200 and "整改台账".encode() in r.data
    assert 'hx-trigger="input changed delay:300ms' in r.data.decode()
    r = client.get("/ledger?q=HZ-SC-HB", headers=HX)
    assert fragment_of(r) and f"/issues/{other_issue_id}".encode() in r.data
    assert f'/issues/{issue_id}"'.encode() not in r.data
    r = client.get(f"/ledger?unit={sqlite_world.units['HZ-XH']}&sort=-number", headers=HX)
    assert (
        f"/issues/{issue_id}".encode() in r.data
        and f"/issues/{other_issue_id}".encode() not in r.data
    )
    r = client.get("/ledger?stage=handling&warning=red&overdue=1&page=9", headers=HX)
    assert fragment_of(r) and "暂无记录".encode() in r.data
    r = client.get("/ledger?q=%25_%25", headers=HX)
    assert fragment_of(r)


def test_ledger_is_scoped(client, auth, issue_id, other_issue_id):
    auth.login("clerk2")
    html = client.get("/ledger").data.decode()
    assert f"/issues/{other_issue_id}" in html and f'/issues/{issue_id}"' not in html


def test_bulk_preview_then_apply(client, auth, sqlite_world, issue_id, other_issue_id):
    for iid, clerk, head in ((issue_id, "clerk", "head"), (other_issue_id, "clerk2", "head2")):
        act(sqlite_world, iid, "sign_for", clerk)
        act(sqlite_world, iid, "submit_plan", clerk, measures="措施 | 2026-12-31")
        act(sqlite_world, iid, "attest_plan", head, attested="on")
    auth.login("super")  # supervises 西湖区 only
    r = client.post(
        "/ledger/bulk/preview",
        data={"bulk_action": "approve", "ids": [issue_id, other_issue_id]},
        headers=HX,
    )
    html = r.data.decode()
    assert r.status_code == 200 and "确认执行" in html and f'name="v{issue_id}" value="4"' in html
    with sqlite_world.db.reading() as s:
        assert s.get(Issue, issue_id).state == "plan_review"  # preview wrote nothing
    r = client.post(
        "/ledger/bulk",
        data={"bulk_action": "approve", "ids": [issue_id], f"v{issue_id}": 4},
        headers=HX,
    )
    assert (
        r.status_code == 200
        and "已完成 1 项".encode() in r.data
        and "issueChanged" in r.headers["HX-Trigger"]
    )
    with sqlite_world.db.reading() as s:
        assert s.get(Issue, issue_id).state == "correcting"


def test_bulk_stale_version_is_skipped(client, auth, sqlite_world, issue_id):
    act(sqlite_world, issue_id, "sign_for", "clerk")
    act(sqlite_world, issue_id, "submit_plan", "clerk", measures="措施 | 2026-12-31")
    act(sqlite_world, issue_id, "attest_plan", "head", attested="on")
    auth.login("super")
    r = client.post(
        "/ledger/bulk",
        data={"bulk_action": "approve", "ids": [issue_id], f"v{issue_id}": 2},
        headers=HX,
    )
    assert "跳过 1 项".encode() in r.data and b"conflict" in r.data


def test_bulk_remind_notifies_the_unit(client, auth, sqlite_world, issue_id):
    auth.login("office")
    r = client.post(
        "/ledger/bulk",
        data={"bulk_action": "remind", "ids": [issue_id], f"v{issue_id}": 1},
        headers=HX,
    )
    assert "已完成 1 项".encode() in r.data
    auth.logout()
    auth.login("clerk")
    assert (
        client.post(
            "/ledger/bulk", data={"bulk_action": "remind", "ids": [issue_id]}, headers=HX
        ).status_code
        == 200
    )
    assert (
        "跳过 1 项".encode()
        in client.post(
            "/ledger/bulk", data={"bulk_action": "remind", "ids": [issue_id]}, headers=HX
        ).data
    )


def test_supervisor_queue(client, auth, sqlite_world, issue_id):
    act(sqlite_world, issue_id, "sign_for", "clerk")
    act(sqlite_world, issue_id, "submit_plan", "clerk", measures="措施 | 2026-12-31")
    act(sqlite_world, issue_id, "attest_plan", "head", attested="on")
    auth.login("super")
    assert f"/issues/{issue_id}" in client.get("/queues/supervise").data.decode()
    assert fragment_of(client.get("/queues/supervise", headers=HX))
    auth.logout()
    auth.login("clerk")
    assert client.get("/queues/supervise").status_code == 404


def test_spotcheck_queue_and_reverse_sample(client, auth, app, sqlite_world, issue_id, clock):
    auth.login("checker")
    r = client.get("/queues/spotcheck")
    assert r.status_code == 200 and "随机抽查".encode() in r.data
    with app.test_request_context("/"):
        db = get_session()
        db.execute(
            Issue.__table__.update().values(stage="closed", state="closed", state_kind="closed")
        )
        db.commit()
        own = db.get(User, sqlite_world.users["checker_own"])
        other = db.get(User, sqlite_world.users["checker"])
        assert queries.reverse_check_sample(db, own, 10) == []  # 回避: never the own unit
        assert "回避" in str(queries.reverse_check(db, own, 10).reason)
        # a 宁波 checker reaches 宁波 only: 杭州's items are not theirs to check ...
        assert queries.reverse_check_sample(db, other, 10) == []
        assert queries.reverse_check(db, other, 10).reason.code == "reverse_none_closed"
    # ... until they serve on a team inspecting 西湖区 (交叉巡察)
    from tests.web.test_linkage_pages import make_round

    make_round(sqlite_world, targets=["HZ-XH"], members=["checker"])
    with app.test_request_context("/"):
        db = get_session()
        other = db.get(User, sqlite_world.users["checker"])
        assert [i.id for i in queries.reverse_check_sample(db, other, 10)] == [issue_id]


def test_leads_only_for_discipline_and_office(client, auth, sqlite_world):
    from workflow import service

    with sqlite_world.db.writing() as s:
        lead = service.open_issue(s, "problem_lead", {"title": "某局长涉嫌违规", "unit": "HZ", "cadre_level": "市管干部"},
                                  sqlite_world.user(s, "office"), sqlite_world.clock())  # fmt: skip
        lead_id = lead.id
    for name in ("clerk", "super", "leader", "checker"):
        auth.login(name)
        assert client.get("/leads").status_code == 404, name
        assert client.get(f"/leads/{lead_id}").status_code == 404, name
        assert client.get(f"/issues/{lead_id}").status_code == 404, name
        assert "某局长".encode() not in client.get("/ledger").data
        auth.logout()
    auth.login("discipline")
    assert "某局长".encode() in client.get("/leads").data
    assert client.get(f"/leads/{lead_id}").status_code == 200
    assert fragment_of(client.get("/leads?q=局长", headers=HX))


def test_statistics_page_and_fragment(client, auth, sqlite_world, issue_id):
    auth.login("leader")
    r = client.get("/stats")
    assert r.status_code == 200 and "完成率".encode() in r.data and b"<svg" in r.data
    assert fragment_of(
        client.get(f"/stats?unit={sqlite_world.units['HZ']}&level=province", headers=HX)
    )
    assert client.get(f"/stats?unit={sqlite_world.units['HZ']}").status_code == 200
    auth.logout()
    auth.login("clerk")
    assert client.get("/stats").status_code == 404


def test_admin_is_office_only(client, auth):
    auth.login("clerk")
    for path in ("/admin/units", "/admin/users", "/admin/rounds", "/admin/definitions"):
        assert client.get(path).status_code == 404


def test_admin_units_users_definitions(client, auth, sqlite_world):
    auth.login("office")
    r = client.post(
        "/admin/units",
        data={"code": "HZ-XH-BS", "name": "北山街道", "level": "township", "parent": "HZ-XH"},
    )
    assert r.status_code == 303 and "北山街道".encode() in client.get("/admin/units?q=BS").data
    r = client.post("/admin/units", data={"code": "bad code", "name": "x", "level": "township"})
    assert r.status_code == 422
    r = client.post(
        "/admin/users",
        data={
            "username": "newclerk",
            "display_name": "新经办人",
            "password": "long-enough-1",
            "roles": "unit_user@HZ-XH-BS",
        },
    )
    assert r.status_code == 303 and "新经办人".encode() in client.get("/admin/users").data
    assert client.post("/admin/users", data={"username": "x", "password": "1"}).status_code == 422
    assert fragment_of(client.get("/admin/users?q=new", headers=HX))
    assert client.get("/admin/rounds").status_code == 200
    html = client.get("/admin/definitions").data.decode()
    assert "rectification" in html
    r = client.post("/admin/definitions/check", headers=HX)
    assert fragment_of(r) and "校验通过".encode() in r.data
    with sqlite_world.db.reading() as s:
        from workflow.models import DefinitionVersion

        dv_id = s.scalar(
            select(DefinitionVersion.id).where(DefinitionVersion.name == "rectification")
        )
    assert "签收".encode() in client.get(f"/admin/definitions/{dv_id}").data
    assert client.get(f"/admin/definitions/{dv_id}/diagram.svg").status_code == 200


def test_bell_count_and_mark_read(client, auth, sqlite_world, clock):
    with sqlite_world.db.writing() as s:
        for n in range(2):
            s.add(
                InboxMessage(
                    user_id=sqlite_world.users["clerk"],
                    subject=f"提醒{n}",
                    body="请办理",
                    created_at=clock(),
                )
            )
    auth.login("clerk")
    r = client.get("/inbox/bell", headers=HX)
    assert fragment_of(r) and b'class="count">2<' in r.data
    with sqlite_world.db.reading() as s:
        msg_id = s.scalar(select(InboxMessage.id).order_by(InboxMessage.id))
    r = client.post(f"/inbox/{msg_id}/read", headers=HX)
    assert b'class="count">1<' in r.data
    r = client.post("/inbox/read-all", headers=HX)
    assert b'class="count"' not in r.data
    assert "提醒0".encode() in client.get("/inbox").data
    auth.logout()
    auth.login("clerk2")
    assert client.post(f"/inbox/{msg_id}/read", headers=HX).status_code == 404


def test_a_province_checker_samples_the_whole_province_uniformly(app, sqlite_world, monkeypatch):
    """The reach of a province post is the whole province (not "everything but its own
    subtree"), and the seek path (many candidates) draws every item about equally often."""
    from tests.web.conftest import open_issue
    from workflow.models import Membership
    from workflow.queries import reverse_checks

    ids = [open_issue(sqlite_world, unit) for unit in ("HZ-XH-LY", "HZ-SC-HB", "NB-HS") * 4]
    with sqlite_world.db.writing() as s:
        s.execute(Issue.__table__.update().values(stage="closed", state="closed",
                                                 state_kind="closed"))  # fmt: skip
        s.add(Membership(user_id=sqlite_world.users["checker"], role="spot_check",
                         unit_id=sqlite_world.units["ZJ"]))  # fmt: skip
    with app.test_request_context("/"):
        db = get_session()
        checker = db.get(User, sqlite_world.users["checker"])
        exact = queries.reverse_check(db, checker, 5, seed=1)
        assert len(exact.issues) == 5 and {i.id for i in exact.issues} <= set(ids)
        monkeypatch.setattr(reverse_checks, "SMALL", 0)  # as at a million issues: index seeks
        seen: dict[int, int] = {}
        for seed in range(150):
            for issue in queries.reverse_check(db, checker, 3, seed=seed).issues:
                seen[issue.id] = seen.get(issue.id, 0) + 1
        # 回避 keeps a reviewer from their own unit's items, not from those below it: the
        # 宁波 post does not recuse 海曙区's items, so every closed item is drawn
        assert set(seen) == set(ids)
        assert min(seen.values()) >= 0.3 * max(seen.values())  # no item starved of draws
