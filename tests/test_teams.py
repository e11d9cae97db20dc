"""Rounds and teams, and the 回避 rule of cross inspection for members, targets and checkers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.test_linkage import close_out, extend, make_round, open_issue
from workflow import audit, linkage
from workflow.linkage import LinkageSettings, Refused
from workflow.models import Event, Round, TeamMember, TeamTarget

UNIT = LinkageSettings(recusal_scope="unit")
PARENT = LinkageSettings(recusal_scope="parent")


def _team(s, world, targets=(), code="HZ-R1"):
    rnd = make_round(s, world, code, level="city", organiser="HZ")
    team = linkage.form_team(s, rnd, "市委第一巡察组", world.user(s, "office"), world.clock())
    for t in targets:
        linkage.add_target(s, team, t, world.user(s, "office"), world.clock())
    return team


def test_round_team_members_and_targets_are_audited(world):
    with world.db.writing() as s:
        office = world.user(s, "office")
        first = make_round(s, world, "ZJ-14-5")
        rnd = make_round(s, world, "ZJ-14-6", previous=first)
        assert rnd.previous_round_id == first.id
        team = linkage.form_team(
            s, rnd, "省委第一巡视组", office, world.clock(), leader=world.user(s, "checker")
        )
        assert team.leader_id == world.users["checker"]
        linkage.add_target(s, team, "HZ-XH", office, world.clock())
        again = linkage.add_target(s, team, "HZ-XH", office, world.clock())
        assert s.scalar(select(TeamTarget).where(TeamTarget.team_id == team.id)) is again
        assert again.starts_on == rnd.starts_on  # the round's period by default
        linkage.add_member(s, team, world.user(s, "clerk2"), office, world.clock())
        members = s.scalars(select(TeamMember.user_id).where(TeamMember.team_id == team.id))
        assert set(members) == {world.users["checker"], world.users["clerk2"]}
    with world.db.reading() as s:
        actions = list(s.scalars(select(Event.action).order_by(Event.id)))
        assert actions == [
            "round_created",
            "round_created",
            "team_formed",
            "team_member_add",
            "team_target_add",
            "team_member_add",
        ]
        assert audit.verify(s).ok


def test_round_validation_and_office_only(sqlite_world):
    world = sqlite_world
    with world.db.writing() as s:
        make_round(s, world, "ZJ-1")
        with pytest.raises(ValueError, match="taken"):
            make_round(s, world, "ZJ-1")
        with pytest.raises(ValueError, match="kind"):
            linkage.create_round(
                s, "X", "x", "other", "city", "HZ", world.user(s, "office"), world.clock()
            )
        with pytest.raises(Refused, match="office"):
            linkage.create_round(
                s, "Y", "y", "xuncha", "city", "HZ", world.user(s, "clerk"), world.clock()
            )
        # a city office may not register a provincial round
        with pytest.raises(Refused):
            linkage.create_round(
                s, "Z", "z", "xunshi", "province", "ZJ", world.user(s, "cityoffice"), world.clock()
            )


@pytest.mark.parametrize(
    ("settings", "person", "target", "refused"),
    [
        # own unit: refused under every setting
        (UNIT, "super", "HZ-XH", True),
        (LinkageSettings(), "super", "HZ-XH", True),
        (PARENT, "super", "HZ-XH", True),
        # from inside the target (a township of the inspected county)
        (UNIT, "clerk", "HZ-XH", False),
        (LinkageSettings(), "clerk", "HZ-XH", True),
        (PARENT, "clerk", "HZ-XH", True),
        # from the target's parent (the county inspecting its own township)
        (UNIT, "super", "HZ-XH-LY", False),
        (LinkageSettings(), "super", "HZ-XH-LY", False),
        (PARENT, "super", "HZ-XH-LY", True),
        # from the grandparent: never refused
        (PARENT, "citysuper", "HZ-XH-LY", False),
        # a peer township (交叉巡察): never refused
        (PARENT, "clerk2", "HZ-XH-LY", False),
    ],
)
def test_recusal_scope_for_members(sqlite_world, settings, person, target, refused):
    world = sqlite_world
    with world.db.write_session() as s:
        team = _team(s, world, [target])
        office = world.user(s, "office")
        if not refused:
            linkage.add_member(s, team, world.user(s, person), office, world.clock(), settings)
            return
        with pytest.raises(Refused) as exc:
            linkage.add_member(s, team, world.user(s, person), office, world.clock(), settings)
        s.commit()  # the refusal stays in the audit trail
    reason = exc.value.reason
    user_name = {"super": "西湖区督办", "clerk": "灵隐经办人"}[person]
    assert user_name in reason and target in reason and "回避" in reason
    with world.db.reading() as s:
        ev = s.scalar(select(Event).where(Event.outcome == "denied"))
        assert ev.action == "team_member_add" and ev.data["reason"] == reason
        assert ev.data["person"] == person
        assert s.scalar(select(TeamMember.id)) is None


def test_adding_a_target_is_refused_when_a_member_comes_from_it(sqlite_world):
    world = sqlite_world
    with world.db.write_session() as s:
        team = _team(s, world, ["HZ-XH-LY"])
        office = world.user(s, "office")
        linkage.add_member(s, team, world.user(s, "clerk2"), office, world.clock())
        with pytest.raises(Refused) as exc:
            linkage.add_target(s, team, "HZ-SC", office, world.clock())
        s.commit()
    assert "湖滨经办人" in exc.value.reason and "湖滨街道" in exc.value.reason
    assert "上城区" in exc.value.reason
    with world.db.reading() as s:
        ev = s.scalar(select(Event).where(Event.outcome == "denied"))
        assert ev.action == "team_target_add" and ev.data["target"] == "HZ-SC"
        assert (
            s.scalar(select(TeamTarget.id).where(TeamTarget.unit_id == world.units["HZ-SC"]))
            is None
        )


def test_cross_inspection_between_townships_is_allowed(sqlite_world):
    """平阳: cadres of one township inspect another township of the same county."""
    world = sqlite_world
    with world.db.writing() as s:
        team = _team(s, world, ["HZ-XH-LY"])
        linkage.add_member(
            s, team, world.user(s, "clerk2"), world.user(s, "office"), world.clock(), PARENT
        )
        team_id = team.id
        s.commit()
    with world.db.reading() as s:
        members = s.scalars(select(TeamMember.user_id).where(TeamMember.team_id == team_id)).all()
        assert world.users["clerk2"] in members
        assert s.scalar(select(Event.id).where(Event.outcome == "denied")) is None


def test_only_the_organisers_office_staffs_a_team(sqlite_world):
    world = sqlite_world
    with world.db.writing() as s:
        rnd = make_round(s, world, "ZJ-R")
        team = linkage.form_team(s, rnd, "组", world.user(s, "office"), world.clock())
        with pytest.raises(Refused):
            linkage.add_member(
                s, team, world.user(s, "clerk"), world.user(s, "cityoffice"), world.clock()
            )
        assert s.get(Round, rnd.id) is not None


def test_check_assignment_for_follow_up_and_spot_checks(sqlite_world):
    world = sqlite_world
    extend(world)
    with world.db.writing() as s:
        issue = open_issue(s, world, "HZ-XH-LY")
        close_out(s, world, issue)
        linkage.check_assignment(s, world.user(s, "checker"), issue)  # from 宁波: fine
        with pytest.raises(Refused, match="本单位督查员.*灵隐街道"):
            linkage.check_assignment(s, world.user(s, "checker_own"), issue)
        # the county's checker may follow up its township, unless the setting says parent
        linkage.check_assignment(s, world.user(s, "xh.checker"), issue)
        with pytest.raises(Refused, match="parent"):
            linkage.check_assignment(s, world.user(s, "xh.checker"), issue, PARENT)
        linkage.check_assignment(s, world.user(s, "hz.checker"), issue, PARENT)
        # a supporting unit counts too
        other = open_issue(s, world, "HZ-SC-HB", supporting_units=["HZ-XH-LY"])
        with pytest.raises(Refused):
            linkage.check_assignment(s, world.user(s, "checker_own"), other, UNIT)


def test_settings_reject_an_unknown_scope():
    with pytest.raises(ValueError):
        LinkageSettings(recusal_scope="family")  # type: ignore[arg-type]
