"""Task linkage (三级联动): push-down across three levels and the roll-up of the tree.

Also holds the small helpers the other linkage tests import (extra units, rounds, walking
an issue to closed through the real service)."""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from workflow import audit, linkage, service
from workflow.models import Event, Evidence, Issue, Unit
from workflow.org.units import add_unit, add_user

PLAN = [{"text": "召开专题会议研究整改", "due_on": "2026-12-31"}]
PASSWORD = "correct-horse-9"

# 供销社 departments at city and county level (the article's 供销系统), and a provincial
# SOE with two subsidiaries (同步开展内部巡察)
EXTRA_UNITS = [
    ("ZJ-GXS", "浙江省供销合作社", "department", "ZJ"),
    ("HZ-GXS", "杭州市供销合作社", "department", "HZ"),
    ("HZ-XH-GXS", "西湖区供销合作社", "department", "HZ-XH"),
    ("HZ-SC-GXS", "上城区供销合作社", "department", "HZ-SC"),
    ("NB-HS-GXS", "海曙区供销合作社", "department", "NB-HS"),
    ("HZ-XH-ZR", "西湖区自然资源局", "department", "HZ-XH"),
    ("ZJ-JT", "浙江省交通投资集团", "department", "ZJ"),
    ("ZJ-JT-A", "交投集团甲公司", "department", "ZJ-JT"),
    ("ZJ-JT-B", "交投集团乙公司", "department", "ZJ-JT"),
]
EXTRA_USERS = [
    ("gxs.clerk", "西湖供销经办人", ["unit_user@HZ-XH-GXS"]),
    ("gxs.head", "西湖供销主任", ["unit_head@HZ-XH-GXS"]),
    ("xh.checker", "西湖区督查员", ["spot_check@HZ-XH"]),
    ("hz.checker", "杭州市督查员", ["spot_check@HZ"]),
]


def extend(world) -> None:
    """Add the extra units and users to the small world."""
    with world.db.writing() as s:
        for code, name, level, parent in EXTRA_UNITS:
            world.units[code] = add_unit(s, code, name, level, parent).id
        for username, display, roles in EXTRA_USERS:
            world.users[username] = add_user(
                s, username, display, PASSWORD, roles, world.clock()
            ).id


def unit(s, code: str) -> Unit:
    found = s.scalar(select(Unit).where(Unit.code == code))
    assert found is not None
    return found


def make_round(
    s,
    world,
    code,
    level="province",
    organiser="ZJ",
    starts=(2026, 3, 1),
    ends=(2026, 4, 30),
    kind=None,
    previous=None,
):
    return linkage.create_round(
        s,
        code,
        f"{code}轮",
        kind or ("xunshi" if level == "province" else "xuncha"),
        level,
        organiser,
        world.user(s, "office"),
        world.clock(),
        starts_on=date(*starts),
        ends_on=date(*ends) if ends else None,
        previous_round=previous,
    )


def make_team(s, world, rnd, targets, name="第一组", members=()):
    office = world.user(s, "office")
    team = linkage.form_team(s, rnd, name, office, world.clock())
    for username in members:
        linkage.add_member(s, team, world.user(s, username), office, world.clock())
    for code in targets:
        linkage.add_target(s, team, code, office, world.clock())
    return team


def open_issue(s, world, unit_code, rnd=None, kind="rectification", when=None, **fields):
    fields.setdefault("title", "考核奖金发放不规范")
    fields["unit"] = unit_code
    if rnd is not None:
        fields["round"] = rnd
    return service.open_issue(s, kind, fields, world.user(s, "office"), when or world.clock())


def act(s, world, issue, action, username, now, **data):
    return service.act(s, issue, action, world.user(s, username), data, issue.version, now)


def close_out(s, world, issue, clerk="clerk", head="head", sup="super", at=None):
    """Walk a rectification issue to closed through the service; return the instant after."""
    t = at or world.clock()
    steps = [
        ("sign_for", clerk, {}),
        ("submit_plan", clerk, {"measures": PLAN}),
        ("attest_plan", head, {"attested": True}),
        ("approve_plan", sup, {}),
    ]
    for action, who, data in steps:
        t += timedelta(hours=1)
        act(s, world, issue, action, who, t, **data)
    s.add(
        Evidence(
            issue_id=issue.id,
            filename="纪要.pdf",
            stored_name=secrets.token_hex(8),
            content_type="application/pdf",
            size=10,
            sha256="0" * 64,
            uploaded_by=world.users[clerk],
            uploaded_at=t,
        )
    )
    for action, who, data in [
        ("request_closeout", clerk, {"completion": "已完成", "summary": "已整改"}),
        ("attest_closeout", head, {"attested": True}),
        ("accept", sup, {"grade": "好"}),
    ]:
        t += timedelta(hours=1)
        act(s, world, issue, action, who, t, **data)
    assert issue.state_kind == "closed"
    return t


def relapse(s, world, issue, at):
    act(s, world, issue, "assign_checker", "office", at, checker="checker")
    act(
        s,
        world,
        issue,
        "followup_relapse",
        "checker",
        at + timedelta(hours=1),
        reason="回头看发现问题反弹",
        new_due="2027-03-31",
    )


# ====================================================================== push-down


RULE = {"levels": ["city", "county"], "name_contains": "供销"}


def _push(world, rule=RULE, source=None):
    with world.db.writing() as s:
        make_round(s, world, "ZJ-14-6")
        src = (
            source(s)
            if source
            else {
                "title": "供销系统考核奖金发放不规范",
                "unit": "ZJ",
                "round": "ZJ-14-6",
                "category": "全面从严治党不力",
                "source": "巡视",
            }
        )
        res = linkage.push_down(s, src, rule, world.user(s, "office"), world.clock())
        return (
            res.root.id,
            res.matched,
            [c.id for c in res.common_problems],
            [c.id for c in res.children],
            res.notes,
        )


def test_push_down_builds_a_tree_per_level_on_both_databases(world):
    extend(world)
    root_id, matched, cps, children, notes = _push(world)
    # ZJ-GXS is the province's own department: not at city or county level
    assert sorted(matched) == ["HZ-GXS", "HZ-SC-GXS", "HZ-XH-GXS", "NB-HS-GXS"]
    assert notes == []
    with world.db.reading() as s:
        root = s.get(Issue, root_id)
        assert root.kind == "common_problem" and root.state == "fanned_out"
        by_unit = {s.get(Issue, i).unit.code: s.get(Issue, i) for i in cps}
        # a common problem for every city and county that holds a matching unit
        assert sorted(by_unit) == ["HZ", "HZ-SC", "HZ-XH", "NB", "NB-HS"]
        assert by_unit["HZ"].parent_id == root.id and by_unit["NB"].parent_id == root.id
        assert by_unit["HZ-XH"].parent_id == by_unit["HZ"].id
        assert by_unit["NB-HS"].parent_id == by_unit["NB"].id
        assert by_unit["NB"].state == "fanned_out"  # its only child is a common problem
        leaves = {s.get(Issue, i).unit.code: s.get(Issue, i) for i in children}
        assert sorted(leaves) == ["HZ-GXS", "HZ-SC-GXS", "HZ-XH-GXS", "NB-HS-GXS"]
        assert all(i.kind == "rectification" and i.round.code == "ZJ-14-6" for i in leaves.values())
        # the city's own department hangs under the city; a county's under the county
        assert leaves["HZ-GXS"].parent_id == by_unit["HZ"].id
        assert leaves["HZ-XH-GXS"].parent_id == by_unit["HZ-XH"].id
        up = linkage.rollup(s, root.id)
        assert [lv["depth"] for lv in up.levels] == [1, 2, 3]
        assert up.levels[0]["total"] == 2 and up.levels[0]["common_problems"] == 2
        assert up.levels[1]["unit_levels"] == {"department": 1, "county": 3}
        assert up.levels[2]["total"] == 3
        assert (up.total, up.closed, up.open, up.completion_rate) == (4, 0, 4, 0.0)
        # the county sees the chain above it
        county = linkage.rollup(s, by_unit["HZ-XH"].id)
        assert [a["unit"] for a in county.ancestors] == ["ZJ", "HZ"]
        assert county.total == 1
        assert audit.verify(s).ok
        assert (
            s.scalar(
                select(Event).where(Event.issue_id == root.id, Event.action == "push_down_rule")
            )
            is not None
        )


def test_push_down_by_code_suffix_and_rollup_completion(sqlite_world):
    world = sqlite_world
    extend(world)
    root_id, matched, _, children, _ = _push(world, {"code_suffix": "-GXS", "under": "HZ"})
    assert sorted(matched) == ["HZ-GXS", "HZ-SC-GXS", "HZ-XH-GXS"]
    with world.db.writing() as s:
        leaf = s.scalar(
            select(Issue).where(Issue.id.in_(children), Issue.unit_id == world.units["HZ-XH-GXS"])
        )
        close_out(s, world, leaf, clerk="gxs.clerk", head="gxs.head")
    with world.db.reading() as s:
        up = linkage.rollup(s, root_id)
        assert (up.total, up.closed, up.completion_rate) == (3, 1, round(1 / 3, 4))
        deepest = up.levels[-1]
        assert deepest["by_state_kind"] == {"closed": 1, "open": 1}
        county = s.get(Issue, leaf.parent_id)
        assert linkage.rollup(s, county.id).completion_rate == 1.0


def test_push_down_from_a_finding_and_again_adds_only_what_is_missing(sqlite_world):
    world = sqlite_world
    extend(world)

    def finding(s):
        return open_issue(s, world, "ZJ-GXS", "ZJ-14-6", title="省供销总社考核奖金发放不规范")

    root_id, matched, cps, children, _ = _push(world, ["HZ-XH-GXS"], source=finding)
    assert matched == ["HZ-XH-GXS"] and len(cps) == 2 and len(children) == 1
    with world.db.writing() as s:
        root = s.get(Issue, root_id)
        assert root.unit.code == "ZJ" and root.data["pushed_down_from"]
        again = linkage.push_down(
            s, root, ["HZ-XH-GXS", "HZ-SC-GXS", "NOPE"], world.user(s, "office"), world.clock()
        )
        assert [c.unit.code for c in again.children] == ["HZ-SC-GXS"]
        assert [c.unit.code for c in again.common_problems] == ["HZ-SC"]
        assert any("NOPE" in n for n in again.notes)
    with world.db.reading() as s:
        assert linkage.rollup(s, root_id).total == 2


def test_push_down_rule_needs_a_condition(sqlite_world):
    world = sqlite_world
    with world.db.writing() as s, pytest.raises(ValueError):
        make_round(s, world, "ZJ-1")
        linkage.push_down(
            s, {"title": "x", "unit": "ZJ"}, {}, world.user(s, "office"), world.clock()
        )


def test_a_county_unit_matched_itself_gets_its_own_item(sqlite_world):
    world = sqlite_world
    extend(world)
    root_id, matched, cps, children, _ = _push(world, ["HZ-XH", "HZ-XH-GXS"])
    with world.db.reading() as s:
        leaves = {s.get(Issue, i).unit.code: s.get(Issue, i) for i in children}
        assert sorted(leaves) == ["HZ-XH", "HZ-XH-GXS"]
        county_cp = s.get(Issue, leaves["HZ-XH"].parent_id)
        assert county_cp.kind == "common_problem" and county_cp.unit.code == "HZ-XH"
        assert leaves["HZ-XH-GXS"].parent_id == county_cp.id


def test_push_down_time_is_the_given_now(sqlite_world):
    world = sqlite_world
    extend(world)
    root_id, *_ = _push(world)
    with world.db.reading() as s:
        assert s.get(Issue, root_id).opened_at == world.clock()
        assert isinstance(s.get(Issue, root_id).opened_at, datetime)
