"""The 上下联动 pages: rounds and teams (回避), relay and shared space, push-down and
roll-up, special checks, network statistics — pages, htmx fragments and scope."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.web.conftest import open_issue
from workflow import linkage
from workflow.models import Event, Issue, NetworkFigure, Round, SpecialCheck, Team, TeamMember

HX = {"HX-Request": "true"}
PAGES = ("/linkage/rounds", "/linkage/push", "/linkage/checks", "/linkage/network")


@pytest.fixture(autouse=True)
def _linkage_registered(app):
    """The lead registers the blueprint in web/views.py; until then, do it here."""
    if "linkage" not in app.blueprints:
        from web.pages.linkage import register

        register(app)


def is_fragment(r) -> bool:
    return b"<html" not in r.data and b"<!doctype" not in r.data.lower()


def make_round(world, code="ZJ-14-6", organiser="ZJ", level="province", kind="xunshi",
               starts=date(2026, 9, 1), ends=None, previous=None, targets=(),
               members=()) -> tuple[int, int]:  # fmt: skip
    """A round with one team (targets, members) set up through the engine; (round id, team id)."""
    with world.db.writing() as s:
        office = world.user(s, "office")
        rnd = linkage.create_round(s, code, f"{code} 轮", kind, level, organiser, office, world.clock(),
                                   starts_on=starts, ends_on=ends, previous_round=previous)  # fmt: skip
        team = linkage.form_team(s, rnd, f"{code} 第一组", office, world.clock())
        for unit in targets:
            linkage.add_target(s, team, unit, office, world.clock())
        for name in members:
            linkage.add_member(s, team, world.user(s, name), office, world.clock())
        return rnd.id, team.id


# ------------------------------------------------------------------------------ access


def test_every_page_renders_for_the_office_and_is_404_for_unit_users(client, auth, sqlite_world):
    round_id, team_id = make_round(sqlite_world, targets=["HZ-XH"])
    pages = (*PAGES, f"/linkage/rounds/{round_id}", f"/linkage/teams/{team_id}")
    auth.login("office")
    for url in pages:
        r = client.get(url)
        assert r.status_code == 200, url
        assert b"<html" in r.data and "上下联动".encode() in r.data
    auth.logout()
    auth.login("clerk")
    for url in pages:
        assert client.get(url).status_code == 404, url
    assert client.post("/linkage/rounds", data={"code": "X"}).status_code == 404


def test_supervisor_reads_within_the_subtree_without_forms(client, auth, sqlite_world):
    inside, _ = make_round(sqlite_world, "ZJ-A", targets=["HZ-XH-LY"])
    outside, _ = make_round(sqlite_world, "ZJ-B", targets=["NB-HS"])
    auth.login("super")  # supervisor@HZ-XH
    html = client.get("/linkage/rounds").data.decode()
    assert "ZJ-A" in html and "ZJ-B" not in html and 'id="round-form"' not in html
    r = client.get(f"/linkage/rounds/{inside}")
    assert r.status_code == 200 and "灵隐街道" in r.data.decode()
    assert "/members" not in r.data.decode()  # no staffing forms for a reader
    assert client.get(f"/linkage/rounds/{outside}").status_code == 404
    assert client.post("/linkage/rounds", data={"code": "X"}).status_code == 403
    for url in PAGES:
        assert client.get(url).status_code == 200, url


def test_city_office_does_not_manage_a_provincial_round(client, auth, sqlite_world):
    round_id, team_id = make_round(sqlite_world, targets=["HZ-XH"])
    auth.login("cityoffice")
    html = client.get(f"/linkage/rounds/{round_id}").data.decode()
    assert "西湖区" in html and "/members" not in html
    assert client.post(f"/linkage/teams/{team_id}/carry", data={"ids": "1"}).status_code == 403


# ------------------------------------------------------------------------------ rounds and teams


def test_create_round_form_team_and_recusal_is_refused_and_recorded(client, auth, sqlite_world):
    auth.login("office")
    r = client.post("/linkage/rounds", headers=HX, data={
        "code": "HZ-13-2", "name": "十三届杭州市委第二轮巡察", "kind": "xuncha", "level": "city",
        "organiser": "HZ", "starts_on": "2026-09-01", "ends_on": "2026-11-30"})  # fmt: skip
    with sqlite_world.db.reading() as s:
        rnd = s.scalar(select(Round).where(Round.code == "HZ-13-2"))
        assert rnd is not None and rnd.ends_on == date(2026, 11, 30)
        round_id = rnd.id
    assert r.status_code == 200 and r.headers["HX-Redirect"] == f"/linkage/rounds/{round_id}"
    r = client.post("/linkage/rounds", headers=HX, data={
        "code": "HZ-13-2", "name": "again", "kind": "xuncha", "level": "city", "organiser": "HZ"})  # fmt: skip
    assert r.status_code == 422 and is_fragment(r) and "已被使用" in r.data.decode()

    r = client.post(f"/linkage/rounds/{round_id}/teams", headers=HX, data={"name": "第一巡察组"})
    assert r.status_code == 200 and is_fragment(r) and "第一巡察组" in r.data.decode()
    with sqlite_world.db.reading() as s:
        team_id = s.scalar(select(Team.id).where(Team.round_id == round_id))
    r = client.post(f"/linkage/teams/{team_id}/targets", headers=HX, data={"unit": "HZ-XH-LY"})
    assert r.status_code == 200 and is_fragment(r) and "灵隐街道" in r.data.decode()

    r = client.post(f"/linkage/teams/{team_id}/members", headers=HX, data={"username": "clerk"})
    html = r.data.decode()
    assert r.status_code == 422 and is_fragment(r)
    assert 'id="team-' in html and "回避" in html and "灵隐街道" in html and "clerk" in html
    with sqlite_world.db.reading() as s:
        denied = s.scalars(
            select(Event).where(Event.action == "team_member_add", Event.outcome == "denied")
        ).all()
        assert len(denied) == 1 and denied[0].data["person"] == "clerk"
        assert s.scalar(select(func.count()).select_from(TeamMember)) == 0
    # the refusal stays on the round page's recusal record
    assert "回避记录" in client.get(f"/linkage/rounds/{round_id}").data.decode()

    r = client.post(f"/linkage/teams/{team_id}/members", headers=HX, data={"username": "checker"})
    assert r.status_code == 200 and "督查组成员" in r.data.decode()
    r = client.post(f"/linkage/teams/{team_id}/members", data={"username": "nobody"})
    assert r.status_code == 422 and b"<html" in r.data and "nobody" in r.data.decode()


def test_plain_form_posts_redirect(client, auth, sqlite_world):
    auth.login("office")
    r = client.post("/linkage/rounds", data={"code": "ZJ-X", "name": "省委巡视", "kind": "xunshi",
                                             "level": "province", "organiser": "ZJ"})  # fmt: skip
    assert r.status_code == 303 and r.headers["Location"].startswith("/linkage/rounds/")
    r = client.post("/linkage/rounds", data={"code": "", "name": "", "kind": "x", "level": "y",
                                             "organiser": "ZJ", "starts_on": "not-a-date"})  # fmt: skip
    assert r.status_code == 422 and b"<html" in r.data


def test_relay_view_carry_over_and_shared_space(client, auth, sqlite_world):
    earlier, _ = make_round(sqlite_world, "ZJ-14-5", starts=date(2026, 3, 1), targets=["HZ-XH"])
    old = open_issue(sqlite_world, "HZ-XH-LY", round="ZJ-14-5", title="危房改造资金使用不规范")
    relay, team_id = make_round(sqlite_world, "HZ-XH-JL1", organiser="HZ-XH", level="county",
                                kind="xuncha", previous=earlier, targets=["HZ-XH-LY"])  # fmt: skip
    own = open_issue(sqlite_world, "HZ-XH-LY", round="HZ-XH-JL1", title="本轮发现的问题")
    auth.login("office")
    r = client.get(f"/linkage/teams/{team_id}")
    html = r.data.decode()
    assert r.status_code == 200 and "危房改造资金使用不规范" in html and "未销号" in html
    assert (
        "本轮发现的问题" in html and '"pill">本轮<' in html and '"pill">下级此前巡察<' not in html
    )
    r = client.post(f"/linkage/teams/{team_id}/carry", headers=HX, data={"ids": [str(old)]})
    assert r.status_code == 200 and is_fragment(r) and "已承接" in r.data.decode()
    with sqlite_world.db.reading() as s:
        new = s.scalar(select(Issue).where(Issue.linked_issue_id == old))
        assert new is not None and new.round_id == relay and new.id != own
        number = new.number
    assert number in client.get(f"/linkage/teams/{team_id}").data.decode()
    r = client.post(f"/linkage/teams/{team_id}/carry", headers=HX, data={"ids": [str(own)]})
    assert r.status_code == 422 and "不是本组的接力事项" in r.data.decode()
    r = client.post(f"/linkage/teams/{team_id}/carry", headers=HX, data={})
    assert r.status_code == 422


def test_provincial_team_sees_lower_levels_earlier_findings(client, auth, sqlite_world):
    make_round(sqlite_world, "HZ-13-1", organiser="HZ", level="city", kind="xuncha",
               starts=date(2026, 3, 1), ends=date(2026, 5, 31), targets=["HZ-XH"])  # fmt: skip
    open_issue(sqlite_world, "HZ-XH", round="HZ-13-1", title="市委巡察发现的问题")
    _, team_id = make_round(sqlite_world, "ZJ-14-6", targets=["HZ-XH"])
    auth.login("office")
    html = client.get(f"/linkage/teams/{team_id}", headers=HX).data.decode()
    assert "市委巡察发现的问题" in html and '"pill">下级此前巡察<' in html and "<html" not in html
    assert '"pill">同步巡察<' not in html and 'id="shared"' in html and 'id="relay"' not in html


def test_simultaneous_internal_inspection_shares_findings(client, auth, sqlite_world):
    _, team_id = make_round(sqlite_world, "ZJ-14-6", targets=["HZ"])
    make_round(sqlite_world, "HZ-NB-1", organiser="HZ", level="city", kind="xuncha",
               starts=date(2026, 9, 10), targets=["HZ-SC"])  # fmt: skip
    open_issue(sqlite_world, "HZ-SC-HB", round="HZ-NB-1", title="内部巡察发现的问题")
    auth.login("office")
    html = client.get(f"/linkage/teams/{team_id}").data.decode()
    assert "内部巡察发现的问题" in html and '"pill">同步巡察<' in html


# ------------------------------------------------------------------------------ push-down


def test_push_down_preview_confirm_and_rollup(client, auth, sqlite_world):
    source = open_issue(sqlite_world, "ZJ", title="供销系统考核奖金发放不规范")
    with sqlite_world.db.reading() as s:
        number = s.get(Issue, source).number
    auth.login("office")
    query = {"number": number, "levels": ["county"]}
    r = client.get("/linkage/push/preview", query_string=query, headers=HX)
    html = r.data.decode()
    assert r.status_code == 200 and is_fragment(r)
    assert all(code in html for code in ("HZ-XH", "HZ-SC", "NB-HS")) and "HZ-XH-LY" not in html
    r = client.get("/linkage/push/preview", query_string={"number": number}, headers=HX)
    assert r.status_code == 422 and "下推规则须填写" in r.data.decode()
    r = client.get("/linkage/push/preview", query_string={"number": "ZG-nope", "levels": "city"})
    assert r.status_code == 422 and b"<html" in r.data

    r = client.post("/linkage/push", data=query, headers=HX)
    assert r.status_code == 200 and r.headers["HX-Redirect"].startswith("/linkage/rollup/")
    root_id = int(r.headers["HX-Redirect"].rsplit("/", 1)[1])
    again = client.post("/linkage/push", data=query, headers=HX)  # a second submit: same tree
    assert again.headers["HX-Redirect"] == r.headers["HX-Redirect"]
    with sqlite_world.db.reading() as s:
        leaves = s.scalars(select(Issue).where(Issue.kind == "rectification",
                                               Issue.id != source)).all()  # fmt: skip
        assert sorted(i.unit.code for i in leaves) == ["HZ-SC", "HZ-XH", "NB-HS"]
    r = client.get(f"/linkage/rollup/{root_id}")
    html = r.data.decode()
    assert r.status_code == 200 and "杭州市" in html and "宁波市" in html
    assert "供销系统考核奖金发放不规范" in html and number in html  # pushed down from
    assert 'class="kpi"><span>整改问题数</span><strong>3</strong>' in html
    assert is_fragment(client.get(f"/linkage/rollup/{root_id}", headers=HX))
    assert f"/linkage/rollup/{root_id}" in client.get("/linkage/push").data.decode()
    auth.logout()
    auth.login("super")  # supervisor@HZ-XH: the root lies above, out of reach
    assert client.get(f"/linkage/rollup/{root_id}").status_code == 404
    assert client.get("/linkage/push/preview", query_string=query).status_code == 404


# ------------------------------------------------------------------------------ special checks


def test_special_check_run_creates_a_check_and_lists_its_items(client, auth, sqlite_world):
    open_issue(sqlite_world, "HZ-XH-LY")  # open: the completion rate fails
    auth.login("office")
    r = client.post("/linkage/checks", headers=HX, data={"target": "HZ", "checker": "ZJ"})
    html = r.data.decode()
    assert r.status_code == 200 and is_fragment(r) and 'id="checks"' in html
    with sqlite_world.db.reading() as s:
        check = s.scalar(select(SpecialCheck))
        assert check is not None and check.results["passed"] is False
        opened = [i["issue_id"] for i in check.results["items"] if i["issue_id"]]
        number = s.get(Issue, opened[0]).number
    assert "整改完成率" in html and "不达标" in html and f"/issues/{opened[0]}" in html
    assert number in html
    r = client.post("/linkage/checks", headers=HX, data={"target": "ZJ", "checker": "ZJ"})
    assert r.status_code == 422 and "回避" in r.data.decode()
    r = client.post("/linkage/checks", headers=HX, data={"target": "NOPE", "checker": "ZJ"})
    assert r.status_code == 422
    auth.logout()
    auth.login("leader")
    assert "整改完成率" in client.get("/linkage/checks").data.decode()


# ------------------------------------------------------------------------------ network statistics


def test_network_shows_definitions_and_an_entered_figure_with_its_source(
    client, auth, sqlite_world
):
    round_id, _ = make_round(sqlite_world, targets=["HZ", "NB"])
    auth.login("office")
    html = client.get("/linkage/network").data.decode()
    assert "巡视巡察覆盖党组织" in html and "任一巡视巡察组的被巡对象单位数" in html
    assert "系统计算" in html and "人工填报" in html
    r = client.post("/linkage/network", headers=HX, data={
        "metric": "individual_talks", "value": "6000", "unit": "ZJ", "round": str(round_id),
        "source": "省委巡视办工作通报"})  # fmt: skip
    html = r.data.decode()
    assert r.status_code == 200 and is_fragment(r) and 'id="network"' in html
    assert "6000" in html and "省委巡视办工作通报" in html
    with sqlite_world.db.reading() as s:
        assert s.scalar(select(NetworkFigure.value)) == 6000
    r = client.post("/linkage/network", headers=HX, data={
        "metric": "individual_talks", "value": "many", "unit": "ZJ", "source": "x"})  # fmt: skip
    assert r.status_code == 422 and "整数" in r.data.decode()
    r = client.post("/linkage/network", headers=HX, data={
        "metric": "units_covered", "value": "5", "unit": "ZJ", "source": "x"})  # fmt: skip
    assert r.status_code == 422 and "由系统根据数据计算" in r.data.decode()
    r = client.get("/linkage/network", query_string={"round": round_id}, headers=HX)
    assert is_fragment(r) and "省委巡视办工作通报" in r.data.decode()
    auth.logout()
    auth.login("leader")
    html = client.get("/linkage/network").data.decode()
    assert "省委巡视办工作通报" in html and 'id="figure-form"' not in html
    assert client.post("/linkage/network", data={"metric": "petitions"}).status_code == 403


def test_pages_speak_english_too(client, auth, sqlite_world):
    round_id, team_id = make_round(sqlite_world, targets=["HZ-XH"])
    open_issue(sqlite_world, "HZ-XH-LY")
    auth.login("office")
    client.post("/linkage/checks", data={"target": "HZ", "checker": "ZJ"})
    client.set_cookie("lang", "en")
    pages = (*PAGES, f"/linkage/rounds/{round_id}", f"/linkage/teams/{team_id}")
    key = re.compile(r"[>\"](?:lk|net|sk|src|check|push|rollup|relay|level)_[a-z_]+[<\"]")
    for url in pages:
        html = client.get(url).data.decode()
        assert "Rounds and inspection teams" in html and "Network statistics" in html, url
        # every text key is translated (an unknown key would show as itself); metric keys
        # are shown on purpose in <code>
        text = re.sub(r'(name|id|for|value|form)="[^"]*"|<code>[^<]*</code>', "", html)
        assert not key.findall(text), url
