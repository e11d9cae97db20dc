"""What the 上下联动 pages read (``workflow.linkage.reads`` / ``visibility``), within scope,
and the linkage engine's refusals as messages with a code."""

from __future__ import annotations

import pytest

from tests.test_linkage import _push, extend, make_round, make_team, open_issue
from workflow import linkage
from workflow.linkage import Refused
from workflow.messages import Message
from workflow.models import Unit


def _rounds(s, world):
    """A provincial round inspecting 上城区, a Hangzhou round and a Ningbo round."""
    prov = make_round(s, world, "ZJ-14-6")
    make_team(s, world, prov, ["HZ-SC"], "省委第一巡视组")
    hz = make_round(s, world, "HZ-R1", level="city", organiser="HZ")
    nb = make_round(s, world, "NB-R1", level="city", organiser="NB")
    nb_team = make_team(s, world, nb, ["NB-HS"], "宁波市委巡察组")
    return prov, hz, nb, nb_team


def test_rounds_and_teams_in_reach(world):
    with world.db.writing() as s:
        prov, hz, nb, nb_team = _rounds(s, world)
        ids = (prov.id, hz.id, nb.id, nb_team.id)
    prov_id, hz_id, nb_id, nb_team_id = ids
    with world.db.reading() as s:
        reach = [s.get(Unit, world.units["HZ"])]
        # organised in 杭州市, or inspecting a unit there; newest first
        assert [r.id for r in linkage.rounds_in_reach(s, reach)] == [hz_id, prov_id]
        assert [r.id for r in linkage.rounds_page(s, reach, 1).items] == [hz_id, prov_id]
        assert linkage.find_round(s, reach, nb_id) is None
        assert linkage.find_round(s, reach, prov_id).code == "ZJ-14-6"
        assert linkage.find_team(s, reach, nb_team_id) is None
        everything = [s.get(Unit, world.units["ZJ"])]
        assert linkage.find_team(s, everything, nb_team_id).name == "宁波市委巡察组"
        assert [r.id for r in linkage.rounds_in_reach(s, [])] == []
        # a Hangzhou reader sees the provincial round's team that inspects 上城区 only
        assert [t.name for t in linkage.round_teams(s, reach, prov_id)] == ["省委第一巡视组"]
        assert linkage.round_teams(s, reach, nb_id) == []


def test_team_cards_read_members_targets_and_refusals(sqlite_world):
    world = sqlite_world
    with world.db.write_session() as s:
        rnd = make_round(s, world, "HZ-R1", level="city", organiser="HZ")
        team = make_team(s, world, rnd, ["HZ-XH", "HZ-SC"], members=["checker", "citysuper"])
        with pytest.raises(Refused):
            linkage.add_member(
                s, team, world.user(s, "clerk2"), world.user(s, "office"), world.clock()
            )
        s.commit()  # the refusal stays on record
        team_id = team.id
    with world.db.reading() as s:
        members = linkage.team_members(s, [team_id])
        assert [(t, u.username) for t, u in members] == [
            (team_id, "checker"),
            (team_id, "citysuper"),
        ]
        targets = linkage.team_target_units(s, [team_id])
        assert [u.code for _, u in targets] == ["HZ-XH", "HZ-SC"]  # tree (path) order
        assert all(t.team_id == team_id for t, _ in targets)
        refused = linkage.team_refusals(s)
        assert [e.data["person"] for e in refused] == ["clerk2"]
        assert linkage.team_members(s, []) == []


def test_findings_and_issue_ids_are_read_within_the_readers_scope(sqlite_world):
    world = sqlite_world
    with world.db.writing() as s:
        mine = open_issue(s, world, "HZ-XH-LY")
        other = open_issue(s, world, "HZ-SC-HB")
        numbers = (mine.number, other.number)
        ids = (mine.id, other.id)
    with world.db.reading() as s:
        clerk, office = world.user(s, "clerk"), world.user(s, "office")
        assert linkage.visible_issue_ids(s, clerk, set(ids)) == {ids[0]}
        assert linkage.visible_issue_ids(s, office, set(ids)) == set(ids)
        assert linkage.pushable_finding(s, clerk, numbers[0]).id == ids[0]
        assert linkage.pushable_finding(s, clerk, numbers[1]) is None
        assert linkage.issue_numbers(s, {*ids, None}) == dict(zip(ids, numbers, strict=True))
        assert linkage.user_by_username(s, " clerk ").id == clerk.id
        assert linkage.user_by_username(s, "nobody") is None


def test_pushed_down_trees_are_read_within_scope(sqlite_world):
    world = sqlite_world
    extend(world)  # the 供销 units the rule matches
    root_id, _matched, cps, _children, _notes = _push(world)
    with world.db.reading() as s:
        office, citysuper = world.user(s, "office"), world.user(s, "citysuper")
        assert [i.id for i in linkage.recent_pushed_problems(s, office)] == [root_id]
        below = linkage.visible_children(s, office, root_id)
        assert [i.unit.code for i in below] == ["HZ", "NB"]  # unit tree order
        assert set(i.id for i in below) <= set(cps)
        # Hangzhou's supervisor does not see the provincial root nor Ningbo's branch
        assert linkage.recent_pushed_problems(s, citysuper) == []
        assert [i.unit.code for i in linkage.visible_children(s, citysuper, root_id)] == ["HZ"]


def test_a_refusal_carries_a_message_with_its_code(sqlite_world):
    world = sqlite_world
    with world.db.writing() as s:
        issue = open_issue(s, world, "HZ-XH-LY")
        with pytest.raises(Refused) as exc:
            linkage.link_check(s, issue, issue, world.user(s, "office"), world.clock())
        reason = exc.value.reason
        assert isinstance(reason, Message) and reason.code == "linkage_link_itself"
        assert reason == "an issue cannot be linked to itself"  # still the English string
        make_round(s, world, "ZJ-9")
        with pytest.raises(Refused) as exc:  # a city office may not staff a provincial round
            linkage.form_team(s, "ZJ-9", "组", world.user(s, "cityoffice"), world.clock())
        assert exc.value.reason.code == "linkage_office_only_form_teams"
        assert exc.value.reason.params == {"unit": "浙江省"}
        with pytest.raises(ValueError) as bad:
            linkage.create_round(
                s, "", "", "xuncha", "city", "HZ", world.user(s, "office"), world.clock()
            )
        several = bad.value.args[0]
        assert several.code == "linkage_several_errors"
        assert str(several) == "code: required, at most 64 characters; name: required"
        with pytest.raises(ValueError) as bad:
            linkage.create_round(
                s, "ZJ-9", "again", "xuncha", "city", "HZ", world.user(s, "office"), world.clock()
            )
        assert bad.value.args[0].code == "linkage_round_code_taken"
