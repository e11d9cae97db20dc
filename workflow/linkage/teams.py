"""Teams (巡视组 / 巡察组) of a round: forming a team, adding its members and its target
units, each guarded by the recusal rule (``workflow.linkage.recusal``): nobody joins a
team that inspects the unit they come from.

Every change appends an audit event; a refusal appends a *denied* event and raises
:class:`Refused` — commit to keep the denied event, as with ``workflow.service``.
Must not import flask.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.limits import text_limit
from workflow.linkage.common import (
    Refused,
    in_reach,
    linkage_event,
    require_office,
    resolve_round,
    resolve_unit,
)
from workflow.linkage.recusal import first_conflict
from workflow.linkage.settings import DEFAULT_SETTINGS, LinkageSettings
from workflow.messages import N_, Message, Text
from workflow.models import Membership, Round, Team, TeamMember, TeamTarget, Unit, User

__all__ = ["add_member", "add_target", "form_team"]

NAME_REQUIRED = Text("linkage_team_name_required", N_("team name is required"))
NAME_TOO_LONG = Text("linkage_team_name_too_long", N_("team name: at most %(limit)s characters"))
ONLY_FORM = Text(
    "linkage_office_only_form_teams",
    N_("only the inspection office of %(unit)s or above may form its teams"),
)
ONLY_STAFF = Text(
    "linkage_office_only_staff_teams",
    N_("only the inspection office of %(unit)s or above may staff its teams"),
)
ONLY_TARGETS = Text(
    "linkage_office_only_choose_targets",
    N_("only the inspection office of %(unit)s or above may choose its targets"),
)

TARGET_OUTSIDE = Text(
    "linkage_team_target_outside_reach",
    N_("target: %(unit)s lies outside your inspection office's reach"),
)
MEMBER_OUTSIDE = Text(
    "linkage_team_member_outside_reach",
    N_("member: %(name)s holds no post within your inspection office's reach"),
)
LEADER_OUTSIDE = Text(
    "linkage_team_leader_outside_reach",
    N_("leader: %(name)s holds no post within your inspection office's reach"),
)


def _person_in_reach(user: User, person: User) -> bool:
    """Whether ``person`` holds a post inside one of the acting office's subtrees.

    An office staffs its teams with cadres it answers for; a cadre of another city is
    borrowed through that city's (or the province's) office, never named directly.
    """
    return any(in_reach(user, m.unit) for m in person.memberships)


def form_team(
    session: Session,
    rnd: Round | int | str,
    name: str,
    user: User,
    now: datetime,
    leader: User | None = None,
    settings: LinkageSettings = DEFAULT_SETTINGS,
) -> Team:
    """Form a team of ``rnd``; a ``leader`` (组长) is also added as its first member."""
    round_ = resolve_round(session, rnd)
    member = require_office(user, round_.organiser, ONLY_FORM)
    if not (name or "").strip():
        raise ValueError(NAME_REQUIRED())
    if len(name.strip()) > text_limit(Team.name):
        raise ValueError(NAME_TOO_LONG(limit=text_limit(Team.name)))
    if leader is not None and not _person_in_reach(user, leader):
        # before the team exists: a refused leader leaves no team behind
        raise Refused(LEADER_OUTSIDE(name=leader.display_name))
    team = Team(round_id=round_.id, name=name.strip(), leader_id=leader.id if leader else None)
    session.add(team)
    session.flush()
    linkage_event(
        session,
        user,
        member,
        "team_formed",
        now,
        {
            "round": round_.code,
            "team_id": team.id,
            "team": team.name,
            "leader": leader.username if leader else None,
        },
    )
    if leader is not None:
        add_member(session, team, leader, user, now, settings)
    return team


def _targets(session: Session, team: Team) -> list[Unit]:
    """The units ``team`` inspects, in tree order."""
    return list(
        session.scalars(
            select(Unit)
            .join(TeamTarget, TeamTarget.unit_id == Unit.id)
            .where(TeamTarget.team_id == team.id)
            .order_by(Unit.path)
        )
    )


def _members(session: Session, team: Team) -> list[User]:
    """The people on ``team``, in the order they were created."""
    return list(
        session.scalars(
            select(User)
            .join(TeamMember, TeamMember.user_id == User.id)
            .where(TeamMember.team_id == team.id)
            .order_by(User.id)
        )
    )


def _refuse(
    session: Session,
    user: User,
    member: Membership,
    action: str,
    now: datetime,
    team: Team,
    reason: str,
    data: dict[str, Any],
) -> Refused:
    """Append the denied event of a team change and return the :class:`Refused` to raise."""
    linkage_event(
        session,
        user,
        member,
        action,
        now,
        {"team_id": team.id, "team": team.name, "reason": reason, **data},
        outcome="denied",
    )
    return Refused(reason)


def add_member(
    session: Session,
    team: Team,
    person: User,
    user: User,
    now: datetime,
    settings: LinkageSettings = DEFAULT_SETTINGS,
) -> TeamMember:
    """Add ``person`` to ``team``; refused (回避) if they come from any of its targets.

    A refusal appends a denied ``team_member_add`` event and raises :class:`Refused`
    naming the person, their unit and the target; commit to keep the event.
    Adding someone already on the team returns the existing row.
    """
    member = require_office(user, team.round.organiser, ONLY_STAFF)
    existing = session.scalar(
        select(TeamMember).where(TeamMember.team_id == team.id, TeamMember.user_id == person.id)
    )
    if existing is not None:
        return existing
    reason: Message | None = None
    if not _person_in_reach(user, person):
        reason = MEMBER_OUTSIDE(name=person.display_name)
    reason = reason or first_conflict(person, _targets(session, team), settings.recusal_scope)
    if reason:
        raise _refuse(
            session,
            user,
            member,
            "team_member_add",
            now,
            team,
            reason,
            {"person": person.username, "scope": settings.recusal_scope},
        )
    row = TeamMember(team_id=team.id, user_id=person.id)
    session.add(row)
    session.flush()
    linkage_event(
        session,
        user,
        member,
        "team_member_add",
        now,
        {
            "team_id": team.id,
            "team": team.name,
            "person": person.username,
            "units": sorted(m.unit.code for m in person.memberships),
        },
    )
    return row


def _target_refusal(
    session: Session, user: User, team: Team, target: Unit, settings: LinkageSettings
) -> tuple[Message, dict[str, Any]] | None:
    """Why ``target`` may not join ``team``'s targets, with the denied event's data; or None.

    Outside the acting office's reach, or 回避: a member comes from it.
    """
    data: dict[str, Any] = {"target": target.code, "scope": settings.recusal_scope}
    if not in_reach(user, target):
        return TARGET_OUTSIDE(unit=target.name), data
    for person in _members(session, team):
        reason = first_conflict(person, [target], settings.recusal_scope)
        if reason:
            return reason, {**data, "person": person.username}
    return None


def add_target(
    session: Session,
    team: Team,
    unit: Unit | int | str,
    user: User,
    now: datetime,
    settings: LinkageSettings = DEFAULT_SETTINGS,
    starts_on: date | None = None,
    ends_on: date | None = None,
) -> TeamTarget:
    """Add ``unit`` to the units ``team`` inspects; refused (回避) if a member comes from it.

    The period defaults to the round's.  A refusal appends a denied ``team_target_add``
    event and raises :class:`Refused`.  Adding a unit twice returns the existing row.
    """
    target = resolve_unit(session, unit)
    member = require_office(user, team.round.organiser, ONLY_TARGETS)
    existing = session.scalar(
        select(TeamTarget).where(TeamTarget.team_id == team.id, TeamTarget.unit_id == target.id)
    )
    if existing is not None:
        return existing
    refusal = _target_refusal(session, user, team, target, settings)
    if refusal is not None:
        reason, data = refusal
        raise _refuse(session, user, member, "team_target_add", now, team, reason, data)
    row = TeamTarget(
        team_id=team.id,
        unit_id=target.id,
        starts_on=starts_on or team.round.starts_on,
        ends_on=ends_on or team.round.ends_on,
    )
    session.add(row)
    session.flush()
    linkage_event(
        session,
        user,
        member,
        "team_target_add",
        now,
        {
            "team_id": team.id,
            "team": team.name,
            "target": target.code,
            "starts_on": row.starts_on,
            "ends_on": row.ends_on,
        },
    )
    return row
