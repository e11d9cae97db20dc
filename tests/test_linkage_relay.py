"""Relay inspection (接力式巡察): carry-over between rounds, the relay view, linked checks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.test_linkage import (
    PLAN,
    act,
    close_out,
    extend,
    make_round,
    make_team,
    open_issue,
    relapse,
)
from workflow import audit, linkage
from workflow.linkage import LinkageSettings, Refused
from workflow.models import Event, Evidence, Issue


def _relay_world(world):
    """An earlier provincial round with items in every condition, and a county relay round."""
    extend(world)
    ids = {}
    with world.db.writing() as s:
        r1 = make_round(s, world, "ZJ-14-5", starts=(2026, 1, 5), ends=(2026, 2, 28))
        t = world.clock() - timedelta(days=200)
        ids["open"] = open_issue(s, world, "HZ-XH-LY", r1.code, when=t, title="仍在整改").id
        held = open_issue(s, world, "HZ-XH-LY", r1.code, when=t, title="已销号巩固")
        close_out(s, world, held, at=t)
        ids["held"] = held.id
        back = open_issue(s, world, "HZ-XH-LY", r1.code, when=t, title="反弹回潮")
        relapse(s, world, back, close_out(s, world, back, at=t))
        ids["relapsed"] = back.id
        ongoing = open_issue(
            s, world, "HZ-XH-LY", r1.code, when=t, title="长期坚持", deadline_type="ongoing"
        )
        ids["ongoing"] = ongoing.id
        ids["elsewhere"] = open_issue(s, world, "HZ-SC-HB", r1.code, when=t, title="别处").id
        ids["common"] = open_issue(
            s,
            world,
            "ZJ",
            r1.code,
            kind="common_problem",
            when=t,
            title="农村危房改造资金使用不规范（共性问题）",
        ).id
        ids["lead"] = open_issue(
            s, world, "HZ-XH-LY", r1.code, kind="problem_lead", when=t, title="线索"
        ).id
        r2 = make_round(
            s,
            world,
            "XH-R2",
            level="county",
            organiser="HZ-XH",
            starts=(2026, 6, 1),
            ends=(2026, 7, 31),
            previous=r1,
        )
        ids["team"] = make_team(s, world, r2, ["HZ-XH-LY"], "区委接力巡察组").id
        ids["r1"], ids["r2"] = r1.id, r2.id
    return ids


def _to_correcting(s, world, issue):
    t = world.clock() - timedelta(days=150)
    for action, who, data in [
        ("sign_for", "clerk", {}),
        ("submit_plan", "clerk", {"measures": PLAN}),
        ("attest_plan", "head", {"attested": True}),
        ("approve_plan", "super", {}),
    ]:
        t += timedelta(hours=1)
        act(s, world, issue, action, who, t, **data)


def test_relay_view_lists_open_ongoing_and_relapsed_items(world):
    ids = _relay_world(world)
    with world.db.reading() as s:
        items = linkage.relay_view(s, ids["team"])
        got = {i.issue.id: i.reason for i in items}
        assert got == {ids["open"]: "open", ids["relapsed"]: "relapsed", ids["ongoing"]: "open"}
        assert all(i.target.code == "HZ-XH-LY" for i in items)
        # a stricter setting: only what is still open
        narrow = linkage.relay_view(s, ids["team"], LinkageSettings(relay_states=("ongoing",)))
        assert {i.issue.id for i in narrow} == {ids["relapsed"]}
        assert audit.verify(s).ok


def test_an_ongoing_item_is_listed_as_ongoing(sqlite_world):
    world = sqlite_world
    ids = _relay_world(world)
    with world.db.writing() as s:
        issue = s.get(Issue, ids["ongoing"])
        close_t = world.clock() - timedelta(days=100)
        _to_correcting(s, world, issue)
        s.add(
            Evidence(
                issue_id=issue.id,
                filename="a.pdf",
                stored_name="ongoing-ev",
                content_type="application/pdf",
                size=1,
                sha256="0" * 64,
                uploaded_by=world.users["clerk"],
                uploaded_at=close_t,
            )
        )
        for action, who, data in [
            ("request_closeout", "clerk", {"completion": "基本完成", "summary": "阶段性成果"}),
            ("attest_closeout", "head", {"attested": True}),
            ("mark_ongoing", "super", {}),
        ]:
            close_t += timedelta(hours=1)
            act(s, world, issue, action, who, close_t, **data)
        assert issue.state_kind == "ongoing"
    with world.db.reading() as s:
        got = {i.issue.id: i.reason for i in linkage.relay_view(s, ids["team"])}
        assert got[ids["ongoing"]] == "ongoing" and ids["held"] not in got


def test_carry_over_links_new_items_and_is_audited(sqlite_world):
    world = sqlite_world
    ids = _relay_world(world)
    with world.db.writing() as s:
        office = world.user(s, "office")
        new = linkage.carry_over(
            s, "ZJ-14-5", "XH-R2", [ids["common"], ids["open"]], office, world.clock()
        )
        assert [i.linked_issue_id for i in new] == [ids["common"], ids["open"]]
        cp, item = new
        # the province's common problem becomes the county's focus item
        assert cp.kind == "common_problem" and cp.unit.code == "HZ-XH"
        assert item.kind == "rectification" and item.unit.code == "HZ-XH-LY"
        assert cp.round.code == "XH-R2" and cp.source == "巡察"
        again = linkage.carry_over(s, "ZJ-14-5", "XH-R2", [ids["common"]], office, world.clock())
        assert again[0].id == cp.id
        with pytest.raises(Refused, match="lead"):
            linkage.carry_over(s, "ZJ-14-5", "XH-R2", [ids["lead"]], office, world.clock())
        with pytest.raises(Refused, match="not an item"):
            linkage.carry_over(s, "XH-R2", "ZJ-14-5", [ids["common"]], office, world.clock())
        with pytest.raises(Refused, match="itself"):
            linkage.carry_over(s, "XH-R2", "XH-R2", [], office, world.clock())
    with world.db.reading() as s:
        events = s.scalars(select(Event).where(Event.action == "carry_over")).all()
        assert {e.issue_id for e in events} == {cp.id, item.id, ids["common"], ids["open"]}
        assert all(e.data["to_round"] == "XH-R2" for e in events)


def test_link_check_links_a_new_check_to_the_old_item(sqlite_world):
    world = sqlite_world
    ids = _relay_world(world)
    with world.db.writing() as s:
        check = open_issue(s, world, "HZ-XH-LY", "XH-R2", title="回访发现仍未整改到位")
        old = s.get(Issue, ids["open"])
        v = check.version
        linkage.link_check(s, check, old, world.user(s, "office"), world.clock())
        assert check.linked_issue_id == old.id and check.version == v + 1
        linkage.link_check(s, check, old, world.user(s, "office"), world.clock())  # no-op
        assert check.version == v + 1
        with pytest.raises(Refused, match="another unit"):
            linkage.link_check(
                s, check, s.get(Issue, ids["elsewhere"]), world.user(s, "office"), world.clock()
            )
        with pytest.raises(Refused, match="newer"):
            linkage.link_check(s, old, check, world.user(s, "office"), world.clock())
        with pytest.raises(Refused, match="office"):
            linkage.link_check(s, check, old, world.user(s, "super"), world.clock())
        check_id = check.id
    with world.db.reading() as s:
        items = {i.issue.id: i for i in linkage.relay_view(s, ids["team"])}
        assert items[ids["open"]].checks == [check_id]
        ev = s.scalar(select(Event).where(Event.action == "link_check"))
        assert ev.issue_id == check_id and ev.data["linked_issue_id"] == ids["open"]
        assert audit.verify(s).ok
