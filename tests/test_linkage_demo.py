"""The linkage story of the article, on a slice of the demo province and on the small world."""

from __future__ import annotations

from sqlalchemy import select

from workflow import audit, linkage
from workflow.demo import linkage_story
from workflow.models import Event, Issue, NetworkFigure, SpecialCheck
from workflow.org.units import add_unit, add_user

SLICE = [
    ("SX", "绍兴市", "city", "ZJ"),
    ("SX-03", "上虞区", "county", "SX"),
    ("SX-03-GXS", "上虞区供销合作社", "department", "SX-03"),
    ("SX-05", "嵊州市", "county", "SX"),
    ("SX-05-GXS", "嵊州市供销合作社", "department", "SX-05"),
    ("TZ", "台州市", "city", "ZJ"),
    ("TZ-06", "三门县", "county", "TZ"),
    ("TZ-06-01", "花桥镇", "township", "TZ-06"),
    ("TZ-06-02", "珠岙镇", "township", "TZ-06"),
    ("WZ", "温州市", "city", "ZJ"),
    ("WZ-06", "平阳县", "county", "WZ"),
    ("WZ-06-01", "凤卧镇", "township", "WZ-06"),
    ("WZ-06-02", "怀溪镇", "township", "WZ-06"),
    ("WZ-06-03", "鳌江镇", "township", "WZ-06"),
]
PEOPLE = [
    ("sy.clerk", "上虞供销经办人", ["unit_user@SX-03-GXS"]),
    ("sy.head", "上虞供销主任", ["unit_head@SX-03-GXS"]),
    ("sy.super", "上虞区督办", ["supervisor@SX-03"]),
]


def test_the_story_plays_on_a_slice_of_the_demo_province(sqlite_world):
    world = sqlite_world
    with world.db.writing() as s:
        for code, name, level, parent in SLICE:
            add_unit(s, code, name, level, parent)
        for username, display, roles in PEOPLE:
            add_user(s, username, display, "correct-horse-9", roles, world.clock())
        story = linkage_story.build_story(s, world.clock(), world.user(s, "office"))
    notes = "\n".join(story.notes)
    assert "三级联动" in notes and "SX-03-GXS" in notes
    assert "接力式巡察" in notes and "交叉巡察: 1" in notes and "专项检查 绍兴市" in notes
    assert "JH-03 missing" in notes  # 义乌 is not in the slice: skipped with a note
    assert len(story.refused) == 1 and "鳌江镇" in story.refused[0]
    assert any(r.startswith("TZ-06-JL1") for r in story.rounds)
    with world.db.reading() as s:
        assert audit.verify(s).ok
        # 上虞区 rectified its 供销系统 at once
        leaf = s.scalar(
            select(Issue).where(
                Issue.kind == "rectification",
                Issue.title == "供销系统考核奖金发放不规范",
                Issue.unit.has(code="SX-03-GXS"),
            )
        )
        assert leaf is not None and leaf.state == "closed"
        figures = {f.metric: f.value for f in s.scalars(select(NetworkFigure))}
        assert figures == {
            "individual_talks": 6000,
            "petitions": 18000,
            "personal_matter_checks": 160,
            "assistance_requests": 140,
        }
        assert s.scalar(select(SpecialCheck)) is not None
        denied = s.scalar(select(Event).where(Event.outcome == "denied"))
        assert denied.action == "team_member_add"
        zj = world.units["ZJ"]
        rep = linkage.network_statistics(s, zj)
        prov = next(r for r in rep.rounds if r.code == "ZJ-14-6").figures
        assert prov["leads_transferred"].breakdown["省管干部"] == 3
        assert prov["cases_opened"].value == 2 and prov["org_measures"].value == 2
        assert rep.handed_up["leads_transferred"].value == 2  # 三门县's two leads


def test_the_story_skips_what_the_small_world_lacks(sqlite_world):
    world = sqlite_world
    with world.db.writing() as s:
        story = linkage_story.build_story(s, world.clock(), world.user(s, "office"))
    assert any("SX missing" in n for n in story.notes)
    assert story.rounds[0].startswith("ZJ-14-6")
    with world.db.reading() as s:
        assert audit.verify(s).ok
