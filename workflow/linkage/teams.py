"""Rounds, teams, members and targets, and the 回避 rule that guards them.

Owns registering an inspection round (轮次, with ``previous_round_id`` for relay
inspection), forming a team (巡视组 / 巡察组), adding its members and its target units,
and the recusal rule of cross inspection (交叉巡察 / 回避): nobody inspects, follows up
or spot-checks the unit they come from.  The same rule guards follow-up and spot-check
assignments (:func:`check_assignment`), so the service and the UI refuse with one reason.

Every change appends an audit event; a refusal appends a *denied* event and raises
:class:`Refused` — commit to keep the denied event, as with ``workflow.service``.
Settings are passed in (:class:`LinkageSettings`), never constants: provinces differ.
Must not import flask.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import audit
from workflow.models import Issue, Membership, Round, Team, TeamMember, TeamTarget, Unit, User

__all__ = [
    "LinkageSettings",
    "Refused",
    "SpecialCheckThresholds",
    "add_member",
    "add_target",
    "check_assignment",
    "create_round",
    "form_team",
    "recusal_reason",
    "resolve_round",
    "resolve_unit",
]

RecusalScope = Literal["unit", "parent", "subtree"]
ROUND_KINDS = ("xunshi", "xuncha")
ROUND_LEVELS = ("province", "city", "county")
# how high a round's level is: province inspects cities, which inspect counties
LEVEL_RANK = {"province": 0, "city": 1, "county": 2, "township": 3, "department": 3, "village": 4}


@dataclass(frozen=True)
class SpecialCheckThresholds:
    """Pass marks of the 专项检查 checklist of a lower level's inspection work.

    Rates are fractions (0.9 = 90 %).  ``min_*`` must be reached, ``max_*`` not exceeded.
    """

    min_completion_rate: float = 0.9
    max_overdue_rate: float = 0.1
    max_relapse_rate: float = 0.1
    min_leads_on_time_rate: float = 0.9
    lead_feedback_days: int = 90  # 线索办理 feedback due about 3 months after transfer


@dataclass(frozen=True)
class LinkageSettings:
    """Settings of the linkage rules (a province's policy, passed in by the caller).

    ``recusal_scope`` — who is too close to a target unit (交叉巡察 / 回避):

    - ``"unit"``: people of the target unit itself;
    - ``"subtree"`` (default): people of the target unit or of any unit inside it;
    - ``"parent"``: as ``"subtree"``, and also people of the target's direct parent unit
      (the strictest: a township's own county may not inspect it either).

    ``relay_states`` — which state kinds of earlier items a relay round sees
    (relapsed items are always shown).  ``special_check`` — the checklist's pass marks.
    ``push_tiers`` — the unit levels that get their own common-problem parent when a
    finding is pushed down (三级联动).
    """

    recusal_scope: RecusalScope = "subtree"
    relay_states: tuple[str, ...] = ("open", "ongoing")
    special_check: SpecialCheckThresholds = field(default_factory=SpecialCheckThresholds)
    push_tiers: tuple[str, ...] = ("city", "county")

    def __post_init__(self) -> None:
        if self.recusal_scope not in ("unit", "parent", "subtree"):
            raise ValueError(f"recusal_scope {self.recusal_scope!r}: unit, parent or subtree")


DEFAULT_SETTINGS = LinkageSettings()


class Refused(Exception):
    """A linkage rule refused; ``reason`` says who, from which unit, and which target."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


# ------------------------------------------------------------------------------ look-ups


def resolve_unit(session: Session, unit: Unit | int | str) -> Unit:
    """A unit given as a Unit, an id or a code; raise LookupError if there is none."""
    if isinstance(unit, Unit):
        return unit
    found = (
        session.get(Unit, unit)
        if isinstance(unit, int)
        else session.scalar(select(Unit).where(Unit.code == unit))
    )
    if found is None:
        raise LookupError(f"no unit {unit!r}")
    return found


def resolve_round(session: Session, rnd: Round | int | str) -> Round:
    """A round given as a Round, an id or a code; raise LookupError if there is none."""
    if isinstance(rnd, Round):
        return rnd
    found = (
        session.get(Round, rnd)
        if isinstance(rnd, int)
        else session.scalar(select(Round).where(Round.code == rnd))
    )
    if found is None:
        raise LookupError(f"no round {rnd!r}")
    return found


def _parent_path(unit: Unit) -> str | None:
    parts = unit.path.strip("/").split("/")
    return "/" + "/".join(parts[:-1]) + "/" if len(parts) > 1 else None


def _office_membership(user: User, unit: Unit) -> Membership | None:
    for m in user.memberships:
        if m.role == "office" and unit.path.startswith(m.unit.path):
            return m
    return None


def _require_office(user: User, unit: Unit, what: str) -> Membership:
    member = _office_membership(user, unit)
    if member is None:
        raise Refused(f"only the inspection office of {unit.name} or above may {what}")
    return member


def _event(
    session: Session,
    user: User | None,
    member: Membership | None,
    action: str,
    now: datetime,
    data: dict[str, Any],
    outcome: str = "ok",
    issue_id: int | None = None,
) -> None:
    audit.append(
        session,
        issue_id=issue_id,
        at=now,
        actor_id=user.id if user and user.id else None,
        actor_role=member.role if member else ("system" if user is None else None),
        actor_unit_id=member.unit_id if member else None,
        action=action,
        outcome=outcome,
        data=data,
    )


# ------------------------------------------------------------------------------ recusal


def recusal_reason(
    person: User, person_unit: Unit, target: Unit, scope: RecusalScope = "subtree"
) -> str | None:
    """Why ``person`` (holding a post in ``person_unit``) may not inspect ``target``, or None."""
    why = None
    if person_unit.id == target.id:
        why = "belongs to the inspected unit"
    elif scope in ("subtree", "parent") and person_unit.path.startswith(target.path):
        why = "belongs to a unit inside the inspected unit"
    elif scope == "parent" and person_unit.path == _parent_path(target):
        why = "belongs to the inspected unit's parent unit"
    if why is None:
        return None
    return (
        f"回避: {person.display_name} ({person.username}) of {person_unit.name} "
        f"[{person_unit.code}] {why} {target.name} [{target.code}]"
    )


def _first_conflict(person: User, targets: Iterable[Unit], scope: RecusalScope) -> str | None:
    for target in targets:
        for m in person.memberships:
            reason = recusal_reason(person, m.unit, target, scope)
            if reason:
                return reason
    return None


def check_assignment(
    session: Session, user: User, issue: Issue, settings: LinkageSettings = DEFAULT_SETTINGS
) -> None:
    """Refuse (raise :class:`Refused`) if ``user`` may not follow up or spot-check ``issue``.

    Call it before ``assign_checker`` (or any follow-up / spot-check assignment).  The
    person is too close when any of their posts lies in the issue's lead unit, its
    inspected unit or a supporting unit — widened by ``settings.recusal_scope``.
    Nothing is written; the caller decides whether to record the refusal.
    """
    targets = [issue.unit] + [s.unit for s in issue.supporting]
    if issue.inspected_unit is not None:
        targets.append(issue.inspected_unit)
    reason = _first_conflict(user, targets, settings.recusal_scope)
    if reason:
        raise Refused(f"{reason} (issue {issue.number})")


# ------------------------------------------------------------------------------ rounds


def create_round(
    session: Session,
    code: str,
    name: str,
    kind: str,
    level: str,
    organiser: Unit | int | str,
    user: User,
    now: datetime,
    starts_on: date | None = None,
    ends_on: date | None = None,
    previous_round: Round | int | str | None = None,
) -> Round:
    """Register a round (轮次) organised by ``organiser``; ``previous_round`` makes it a relay.

    ``kind`` is ``xunshi`` (巡视, by a province) or ``xuncha`` (巡察, by a city or county);
    ``level`` the organiser's level.  Only an office at or above the organiser may do it.
    """
    org = resolve_unit(session, organiser)
    member = _require_office(user, org, "register its rounds")
    errors = []
    if not (code or "").strip() or len(code) > 64:
        errors.append("code: required, at most 64 characters")
    elif session.scalar(select(Round.id).where(Round.code == code)):
        errors.append(f"code {code!r} is taken")
    if not (name or "").strip():
        errors.append("name: required")
    if kind not in ROUND_KINDS:
        errors.append(f"kind {kind!r}: one of {', '.join(ROUND_KINDS)}")
    if level not in ROUND_LEVELS:
        errors.append(f"level {level!r}: one of {', '.join(ROUND_LEVELS)}")
    if starts_on and ends_on and ends_on < starts_on:
        errors.append("ends_on is before starts_on")
    prev = resolve_round(session, previous_round) if previous_round is not None else None
    if errors:
        raise ValueError("; ".join(errors))
    rnd = Round(
        code=code.strip(),
        name=name.strip(),
        kind=kind,
        level=level,
        organiser_unit_id=org.id,
        starts_on=starts_on,
        ends_on=ends_on,
        previous_round_id=prev.id if prev else None,
    )
    session.add(rnd)
    session.flush()
    _event(
        session,
        user,
        member,
        "round_created",
        now,
        {
            "round": rnd.code,
            "name": rnd.name,
            "kind": kind,
            "level": level,
            "organiser": org.code,
            "starts_on": starts_on,
            "ends_on": ends_on,
            "previous_round": prev.code if prev else None,
        },
    )
    return rnd


# ------------------------------------------------------------------------------ teams


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
    member = _require_office(user, round_.organiser, "form its teams")
    if not (name or "").strip():
        raise ValueError("team name is required")
    team = Team(round_id=round_.id, name=name.strip(), leader_id=leader.id if leader else None)
    session.add(team)
    session.flush()
    _event(
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
    return list(
        session.scalars(
            select(Unit)
            .join(TeamTarget, TeamTarget.unit_id == Unit.id)
            .where(TeamTarget.team_id == team.id)
            .order_by(Unit.path)
        )
    )


def _members(session: Session, team: Team) -> list[User]:
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
    _event(
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
    member = _require_office(user, team.round.organiser, "staff its teams")
    existing = session.scalar(
        select(TeamMember).where(TeamMember.team_id == team.id, TeamMember.user_id == person.id)
    )
    if existing is not None:
        return existing
    reason = _first_conflict(person, _targets(session, team), settings.recusal_scope)
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
    _event(
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
    member = _require_office(user, team.round.organiser, "choose its targets")
    existing = session.scalar(
        select(TeamTarget).where(TeamTarget.team_id == team.id, TeamTarget.unit_id == target.id)
    )
    if existing is not None:
        return existing
    for person in _members(session, team):
        reason = _first_conflict(person, [target], settings.recusal_scope)
        if reason:
            raise _refuse(
                session,
                user,
                member,
                "team_target_add",
                now,
                team,
                reason,
                {"target": target.code, "person": person.username, "scope": settings.recusal_scope},
            )
    row = TeamTarget(
        team_id=team.id,
        unit_id=target.id,
        starts_on=starts_on or team.round.starts_on,
        ends_on=ends_on or team.round.ends_on,
    )
    session.add(row)
    session.flush()
    _event(
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
