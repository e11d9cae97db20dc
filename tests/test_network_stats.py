"""Network statistics (computed vs entered, one definition each), rectification quality and
special checks of lower levels' inspection work."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.test_linkage import act, close_out, extend, make_round, make_team, open_issue, relapse
from workflow import audit, linkage
from workflow.linkage import METRICS, Refused
from workflow.models import Event, Issue, NetworkFigure, SpecialCheck


def test_every_metric_has_one_written_definition():
    assert {
        "units_covered",
        "individual_talks",
        "petitions",
        "personal_matter_checks",
        "leads_transferred",
        "cases_opened",
        "sanctions",
        "org_measures",
        "problems_found",
    } <= set(METRICS)
    for key, m in METRICS.items():
        assert m.key == key and m.zh and m.en and len(m.definition) > 30
        assert m.mode in ("computed", "entered")
    entered = {k for k, m in METRICS.items() if m.mode == "entered"}
    assert entered == {
        "individual_talks",
        "petitions",
        "personal_matter_checks",
        "assistance_requests",
    }


def test_enter_figure_validates_and_is_audited(world):
    with world.db.writing() as s:
        office = world.user(s, "office")
        rnd = make_round(s, world, "ZJ-14-6")
        for metric, value, source, msg in [
            ("individual_talks", -1, "报告", "≥ 0"),
            ("individual_talks", 5, "  ", "source"),
            ("leads_transferred", 5, "报告", "computed"),
            ("nonsense", 5, "报告", "unknown"),
        ]:
            with pytest.raises(ValueError, match=msg):
                linkage.enter_figure(s, rnd, "ZJ", metric, value, source, office, world.clock())
        with pytest.raises(Refused):
            linkage.enter_figure(
                s, rnd, "ZJ", "petitions", 1, "报告", world.user(s, "cityoffice"), world.clock()
            )
        linkage.enter_figure(
            s, rnd, "ZJ", "individual_talks", 5000, "第六轮巡视工作报告", office, world.clock()
        )
        row = linkage.enter_figure(
            s, rnd, "ZJ", "individual_talks", 6000, "第六轮巡视工作总结", office, world.clock()
        )
        linkage.enter_figure(
            s, None, "ZJ", "petitions", 18000, "省委巡视办年度统计", office, world.clock()
        )
        again = linkage.enter_figure(
            s, None, "ZJ", "petitions", 18100, "省委巡视办年度统计（更正）", office, world.clock()
        )
        assert row.value == 6000 and row.entered_by == world.users["office"]
        assert again.value == 18100
    with world.db.reading() as s:
        assert len(s.scalars(select(NetworkFigure)).all()) == 2
        events = s.scalars(
            select(Event).where(Event.action == "enter_figure").order_by(Event.id)
        ).all()
        assert [e.data["value"] for e in events] == [5000, 6000, 18000, 18100]
        assert events[1].data["replaced"] == {"value": 5000, "source": "第六轮巡视工作报告"}
        assert audit.verify(s).ok


def _leads(s, world, rnd, specs, when):
    """Open problem leads and record outcomes through the discipline commission."""
    for cadre, cases, sanctions, org in specs:
        lead = open_issue(
            s, world, "HZ", rnd, kind="problem_lead", title="问题线索", cadre_level=cadre, when=when
        )
        if cases is None:
            continue
        t = when + timedelta(days=5)
        act(s, world, lead, "accept_lead", "discipline", t)
        act(s, world, lead, "dispose", "discipline", t + timedelta(days=1), disposition="初步核实")
        act(
            s,
            world,
            lead,
            "record_outcome",
            "discipline",
            t + timedelta(days=2),
            cases_opened=cases,
            sanctions=sanctions,
            org_measures=org,
        )


def test_network_statistics_computed_and_entered_per_round_and_level(world):
    extend(world)
    with world.db.writing() as s:
        office = world.user(s, "office")
        prov = make_round(s, world, "ZJ-14-6")
        city = make_round(
            s, world, "HZ-R1", level="city", organiser="HZ", starts=(2026, 5, 1), ends=(2026, 6, 30)
        )
        county = make_round(
            s,
            world,
            "XH-R1",
            level="county",
            organiser="HZ-XH",
            starts=(2026, 5, 1),
            ends=(2026, 6, 30),
        )
        make_team(s, world, prov, ["HZ", "NB"], "一组")
        make_team(s, world, prov, ["HZ", "ZJ-JT"], "二组")  # HZ counted once
        make_team(s, world, city, ["HZ-XH", "HZ-SC"], "市一组")
        make_team(s, world, county, ["HZ-XH-LY", "HZ-XH-ZR"], "区一组")
        t = world.clock() - timedelta(days=60)
        _leads(
            s,
            world,
            prov.code,
            [("省管干部", 1, 1, 0), ("省管干部", 0, 0, 1), ("市管干部", None, 0, 0)],
            t,
        )
        _leads(s, world, city.code, [("县管干部", 1, 2, 0)], t)
        open_issue(s, world, "HZ-XH-LY", prov.code, category="党的领导弱化")
        open_issue(s, world, "HZ-SC-HB", prov.code, category="党的领导弱化")
        open_issue(s, world, "HZ-XH-LY", prov.code, category=None)
        cp = open_issue(
            s, world, "ZJ", prov.code, kind="common_problem", category="全面从严治党不力"
        )
        act(s, world, cp, "fan_out", "office", world.clock(), units=["HZ-XH-LY", "HZ-SC-HB"])
        open_issue(s, world, "HZ-XH-LY", city.code, category="党的建设缺失")
        open_issue(s, world, "HZ-XH-LY", county.code, category="党的建设缺失")
        linkage.enter_figure(
            s, prov, "ZJ", "individual_talks", 6000, "第六轮巡视工作总结", office, world.clock()
        )
        linkage.enter_figure(
            s, None, "ZJ", "petitions", 18000, "省委巡视办年度统计", office, world.clock()
        )
        linkage.enter_figure(
            s,
            city,
            "HZ",
            "individual_talks",
            300,
            "市委巡察办报表",
            world.user(s, "cityoffice"),
            world.clock(),
        )
        ids = (prov.id, city.id, county.id)
    with world.db.reading() as s:
        rep = linkage.network_statistics(s, world.units["ZJ"])
        rows = {r.code: r.figures for r in rep.rounds}
        p = rows["ZJ-14-6"]
        assert p["units_covered"].value == 3
        assert p["leads_transferred"].value == 3
        assert p["leads_transferred"].breakdown == {"省管干部": 2, "市管干部": 1}
        assert (p["cases_opened"].value, p["sanctions"].value, p["org_measures"].value) == (1, 1, 1)
        # the common problem counts once, its fanned-out children not at all
        assert p["problems_found"].value == 4
        assert p["problems_found"].breakdown == {
            "党的领导弱化": 2,
            "未归类": 1,
            "全面从严治党不力": 1,
        }
        assert p["individual_talks"].value == 6000 and p["individual_talks"].mode == "entered"
        assert p["individual_talks"].sources == ["ZJ: 第六轮巡视工作总结"]
        assert p["units_covered"].mode == "computed" and p["units_covered"].sources == []
        loose = rows[""]
        assert loose["petitions"].value == 18000 and loose["petitions"].sources
        assert rep.levels["province"]["petitions"].value == 18000
        assert rep.levels["province"]["units_covered"].value == 3
        assert rep.levels["city"]["individual_talks"].value == 300
        assert rep.levels["county"]["problems_found"].value == 1
        # what the city and county handed up to the province
        assert rep.handed_up["units_covered"].value == 4
        assert rep.handed_up["problems_found"].value == 2
        assert rep.handed_up["leads_transferred"].breakdown == {"县管干部": 1}
        assert rep.handed_up["cases_opened"].value == 1
        assert rep.definitions["units_covered"].definition
        # a city sees its own subtree only; narrowing to one round leaves loose figures out
        hz = linkage.network_statistics(s, world.units["HZ"])
        assert [r.code for r in hz.rounds] == ["HZ-R1", "XH-R1"]
        assert hz.handed_up["problems_found"].value == 1
        one = linkage.network_statistics(s, world.units["ZJ"], [ids[0]])
        assert [r.code for r in one.rounds] == ["ZJ-14-6"]


def _quality_world(world):
    """Four rectification items in 西湖区: closed on time, closed and relapsed, overdue, open."""
    extend(world)
    with world.db.writing() as s:
        rnd = make_round(
            s,
            world,
            "HZ-R1",
            level="city",
            organiser="HZ",
            starts=(2025, 10, 1),
            ends=(2025, 11, 30),
        )
        t = world.clock() - timedelta(days=120)
        due = (world.clock() + timedelta(days=30)).date().isoformat()
        ok = open_issue(s, world, "HZ-XH-LY", rnd.code, when=t, due_on=due)
        close_out(s, world, ok, at=t)
        back = open_issue(s, world, "HZ-XH-LY", rnd.code, when=t, due_on=due)
        relapse(s, world, back, close_out(s, world, back, at=t))
        open_issue(s, world, "HZ-XH-LY", rnd.code, when=t, due_on=due)  # sign-for clock overdue
        open_issue(s, world, "HZ-SC-HB", rnd.code, when=t, due_on=due)  # not in 西湖区
        lead = open_issue(s, world, "HZ-XH-LY", rnd.code, kind="problem_lead", when=t)
        act(s, world, lead, "accept_lead", "discipline", t + timedelta(days=1))
    return rnd.code


def test_rectification_quality_rates(sqlite_world):
    world = sqlite_world
    _quality_world(world)
    with world.db.reading() as s:
        q = linkage.rectification_quality(s, world.units["HZ-XH"], world.clock())
        assert (q.total, q.closed, q.relapsed, q.ever_closed) == (3, 1, 1, 2)
        assert q.completion_rate == round(1 / 3, 4)
        # the relapsed item runs on its new deadline; the untouched one missed sign-for
        assert q.overdue == 1 and q.overdue_rate == round(1 / 3, 4)
        assert q.relapse_rate == 0.5
        assert (q.closed_with_due, q.closed_on_time, q.on_time_rate) == (1, 1, 1.0)
        empty = linkage.rectification_quality(s, world.units["NB"], world.clock())
        assert empty.total == 0 and empty.completion_rate is None


def test_special_check_opens_an_issue_for_every_failed_item(world):
    rnd = _quality_world(world)
    with world.db.writing() as s:
        prov = make_round(s, world, "ZJ-14-6")
        res = linkage.run_special_check(
            s, "HZ-XH", "ZJ", prov, world.user(s, "office"), world.clock()
        )
        failed = {i["key"] for i in res.items if not i["passed"]}
        assert failed == {"completion_rate", "overdue_rate", "relapse_rate", "leads_on_time_rate"}
        assert not res.passed and len(res.issues) == 4
        for issue in res.issues:
            assert issue.kind == "rectification" and issue.unit.code == "HZ-XH"
            assert issue.category == "巡察工作落实不到位" and issue.round.code == "ZJ-14-6"
            assert issue.data["special_check_id"] == res.check.id
        check_id = res.check.id
    with world.db.reading() as s:
        check = s.get(SpecialCheck, check_id)
        assert check.results["passed"] is False
        assert check.results["leads"] == {"on_time": 0, "due": 1}
        by_key = {i["key"]: i for i in check.results["items"]}
        assert by_key["relapse_rate"]["value"] == 0.5 and by_key["relapse_rate"]["issue_id"]
        ev = s.scalar(select(Event).where(Event.action == "special_check"))
        assert len(ev.data["issues"]) == 4
        assert audit.verify(s).ok
    assert rnd == "HZ-R1"


def test_special_check_thresholds_and_recusal(sqlite_world):
    world = sqlite_world
    _quality_world(world)
    with world.db.writing() as s:
        office = world.user(s, "office")
        res = linkage.run_special_check(
            s,
            "HZ-XH",
            "HZ",
            None,
            office,
            world.clock(),
            thresholds={
                "min_completion_rate": 0.3,
                "max_overdue_rate": 0.7,
                "max_relapse_rate": 0.5,
                "min_leads_on_time_rate": 0.0,
            },
        )
        assert res.passed and res.issues == []
        # nothing to measure passes, and says so
        empty = linkage.run_special_check(s, "NB", "ZJ", None, office, world.clock())
        assert empty.passed and all(i["note"] for i in empty.items)
        with pytest.raises(Refused, match="回避"):
            linkage.run_special_check(s, "HZ", "HZ-XH", None, office, world.clock())
        with pytest.raises(Refused):
            linkage.run_special_check(
                s, "NB", "ZJ", None, world.user(s, "cityoffice"), world.clock()
            )
        assert s.scalar(select(Issue).where(Issue.category == "巡察工作落实不到位")) is None
