"""Organisation, result and information linkage: who sees which findings across levels."""

from __future__ import annotations

from sqlalchemy import select

from tests.test_linkage import extend, make_round, make_team, open_issue
from workflow import linkage
from workflow.models import Issue


def _space(world):
    """A provincial round on 交投集团 and its simultaneous internal inspection, an unrelated
    simultaneous city round, a later provincial round, and a lead."""
    extend(world)
    ids = {}
    with world.db.writing() as s:
        prov = make_round(s, world, "ZJ-14-6", starts=(2026, 3, 1), ends=(2026, 5, 31))
        internal = make_round(
            s,
            world,
            "JT-N1",
            level="province",
            kind="xuncha",
            organiser="ZJ-JT",
            starts=(2026, 4, 1),
            ends=(2026, 6, 30),
        )
        city = make_round(
            s,
            world,
            "HZ-R2",
            level="city",
            organiser="HZ",
            starts=(2026, 3, 15),
            ends=(2026, 5, 15),
        )
        later = make_round(s, world, "ZJ-14-7", starts=(2026, 8, 1), ends=None)
        ids["A"] = make_team(s, world, prov, ["ZJ-JT"], "省委第三巡视组").id
        ids["B"] = make_team(s, world, internal, ["ZJ-JT-A"], "集团内部巡察组").id
        ids["C"] = make_team(s, world, city, ["HZ-XH"], "市委巡察组").id
        ids["L"] = make_team(s, world, later, ["ZJ-JT"], "第七轮巡视组").id
        ids["prov"] = open_issue(s, world, "ZJ-JT", prov.code, title="集团党委主体责任落实不力").id
        ids["prov_b"] = open_issue(s, world, "ZJ-JT-B", prov.code, title="乙公司招投标不规范").id
        ids["internal"] = open_issue(s, world, "ZJ-JT-A", internal.code, title="甲公司三重一大").id
        ids["city"] = open_issue(s, world, "HZ-XH-LY", city.code, title="灵隐街道问题").id
        ids["later"] = open_issue(s, world, "ZJ-JT", later.code, title="第七轮发现").id
        ids["lead"] = open_issue(
            s, world, "ZJ-JT", prov.code, kind="problem_lead", title="某领导干部问题线索"
        ).id
    return ids


def _seen(world, team_id):
    with world.db.reading() as s:
        return {i.id for i in linkage.visible_findings_for_team(s, team_id)}


def test_simultaneous_internal_inspection_shares_findings_both_ways(world):
    ids = _space(world)
    shared = {ids["prov"], ids["prov_b"], ids["internal"]}
    assert _seen(world, ids["A"]) == shared
    assert _seen(world, ids["B"]) == shared  # the internal team sees the provincial findings
    # an unrelated simultaneous team sees only its own round's findings for its targets
    assert _seen(world, ids["C"]) == {ids["city"]}
    # a later round is not simultaneous: it sees only its own
    assert _seen(world, ids["L"]) == {ids["later"]}
    with world.db.reading() as s:
        assert ids["lead"] not in {
            i.id
            for i in s.scalars(select(Issue).where(linkage.visible_findings_clause(s, ids["A"])))
        }
        space = linkage.shared_space(
            s,
            world.units["ZJ-JT"],
            [s.get(Issue, ids["prov"]).round_id, s.get(Issue, ids["internal"]).round_id],
        )
        assert {i.id for i in space} == shared
        sim = linkage.simultaneous_rounds(s, s.get(Issue, ids["prov"]).round_id)
        assert [r.code for r in sim] == ["HZ-R2", "JT-N1"]


def test_a_higher_team_sees_lower_levels_earlier_findings(sqlite_world):
    """杭州科技职业技术学院: the provincial team reuses the city team's results."""
    world = sqlite_world
    extend(world)
    with world.db.writing() as s:
        city = make_round(
            s,
            world,
            "HZ-R1",
            level="city",
            organiser="HZ",
            starts=(2025, 10, 1),
            ends=(2025, 11, 30),
        )
        county = make_round(
            s,
            world,
            "XH-R1",
            level="county",
            organiser="HZ-XH",
            starts=(2025, 12, 1),
            ends=(2025, 12, 31),
        )
        late_city = make_round(
            s, world, "HZ-R3", level="city", organiser="HZ", starts=(2026, 6, 1), ends=(2026, 6, 30)
        )
        prov = make_round(s, world, "ZJ-14-6", starts=(2026, 3, 1), ends=(2026, 5, 31))
        team = make_team(s, world, prov, ["HZ-XH"], "省委巡视组").id
        unrelated = make_team(
            s,
            world,
            prov,
            ["NB"],
            "省委第二组",
        ).id
        early = open_issue(s, world, "HZ-XH-LY", city.code, title="市委巡察发现").id
        county_f = open_issue(s, world, "HZ-XH-ZR", county.code, title="区委巡察发现").id
        open_issue(s, world, "HZ-XH-LY", late_city.code, title="之后的市委巡察")
        open_issue(s, world, "HZ-SC-HB", city.code, title="其他区")
        open_issue(s, world, "HZ-XH-LY", city.code, kind="problem_lead", title="线索")
    with world.db.reading() as s:
        got = linkage.earlier_findings_for_team(s, team)
        assert {i.id for i in got[world.units["HZ-XH"]]} == {early, county_f}
        assert linkage.earlier_findings_for_team(s, unrelated) == {world.units["NB"]: []}
        only_city = linkage.earlier_findings(s, world.units["HZ-XH"], prov.starts_on, ["city"])
        assert [i.id for i in only_city] == [early]
