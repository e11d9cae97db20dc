"""What the linkage modules share: :class:`Refused`, looking units and rounds up, the
subtree clause of findings, the acting office post and its audit events, the fields a
new issue copies from an old one, and a team's targets; the messages the look-ups say.
Must not import flask."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from workflow import audit
from workflow.messages import N_, Message, Text
from workflow.models import Issue, Membership, Round, Team, TeamTarget, Unit, User
from workflow.org.scope import path_range
from workflow.queries.admin import round_clause

NO_UNIT = Text("linkage_no_unit", N_("no unit %(unit)r"))
NO_ROUND = Text("linkage_no_round", N_("no round %(round)r"))
NO_TEAM = Text("linkage_no_team", N_("no team %(team)s"))
OFFICE_ONLY = Text(
    "linkage_office_only", N_("only the inspection office of %(unit)s or above may do this")
)
ROUND_OUTSIDE = Text(
    "linkage_round_outside_reach",
    N_("round %(round)s is neither organised in nor inspecting your inspection office's units"),
)
# several things wrong with one form, each already a message; joined as they always were
SEVERAL = Text("linkage_several_errors", N_("%(errors)s"))


class Refused(Exception):
    """A linkage rule refused; ``reason`` (a :class:`~workflow.messages.Message`) says who,
    from which unit, and which target."""

    def __init__(self, reason: str) -> None:
        """Refuse with ``reason``."""
        self.reason = reason
        super().__init__(reason)


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
        raise LookupError(NO_UNIT(unit=unit))
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
        raise LookupError(NO_ROUND(round=rnd))
    return found


def in_subtree(unit: Unit) -> ColumnElement[bool]:
    """Issues whose lead unit or inspected unit lies in ``unit``'s subtree."""
    inside = select(Unit.id).where(path_range(Unit.path, unit.path))
    return or_(path_range(Issue.unit_path, unit.path), Issue.inspected_unit_id.in_(inside))


def office_post(user: User, path: str) -> Membership | None:
    """The user's office post at or above the unit (or issue) whose path is ``path``."""
    return next(
        (m for m in user.memberships if m.role == "office" and path.startswith(m.unit.path)),
        None,
    )


def require_office(user: User, unit: Unit, refusal: Text = OFFICE_ONLY) -> Membership:
    """The user's office post at or above ``unit``; Refused (``refusal`` of ``unit``) when none."""
    member = office_post(user, unit.path)
    if member is None:
        raise Refused(refusal(unit=unit.name))
    return member


def office_units(user: User) -> list[Unit]:
    """The units of the user's office posts: what their reach is the subtrees of."""
    return [m.unit for m in user.memberships if m.role == "office"]


def in_reach(user: User, unit: Unit) -> bool:
    """Whether ``unit`` lies in the subtree of one of the user's office posts."""
    return office_post(user, unit.path) is not None


def require_round(session: Session, user: User, rnd: Round, refusal: Text = ROUND_OUTSIDE) -> None:
    """Refuse (``refusal`` of the round) a round outside the user's office reach.

    The reach is the one the 上下联动 pages read rounds by (``round_clause``): a round
    organised in the office's subtree or inspecting a unit there, so an office names only
    rounds it can see — never another city's round.
    """
    reach = office_units(user)
    seen = reach and session.scalar(select(Round.id).where(Round.id == rnd.id, round_clause(reach)))
    if not seen:
        raise Refused(refusal(round=rnd.code))


def several(errors: list[Message]) -> Message:
    """One message for ``errors`` (not empty): the error itself, or all of them joined by ``;``."""
    return errors[0] if len(errors) == 1 else SEVERAL(errors="; ".join(errors))


def linkage_event(
    session: Session,
    user: User | None,
    member: Membership | None,
    action: str,
    now: datetime,
    data: dict[str, Any],
    outcome: str = "ok",
    issue_id: int | None = None,
) -> None:
    """Append a round or team event by ``user`` acting as ``member`` (None: the system)."""
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


def office_event(
    session: Session, user: User, member: Membership, action: str, now: datetime, data: Any
) -> None:
    """Append an office's event that concerns no issue (an entered figure, a special check)."""
    audit.append(
        session,
        at=now,
        actor_id=user.id,
        actor_role="office",
        actor_unit_id=member.unit_id,
        action=action,
        data=data,
    )


def system_event(
    session: Session, user: User, issue: Issue, action: str, now: datetime, data: dict[str, Any]
) -> None:
    """Append an office's linkage event (no state change) to ``issue``'s history."""
    member = office_post(user, issue.unit_path)
    audit.append(
        session,
        issue_id=issue.id,
        at=now,
        actor_id=user.id,
        actor_role="office",
        actor_unit_id=member.unit_id if member else None,
        action=action,
        from_state=issue.state,
        to_state=issue.state,
        definition_version=issue.definition.version,
        data=data,
    )


def copy_fields(issue: Issue, unit_code: str) -> dict[str, Any]:
    """The fields of ``issue`` a new issue for ``unit_code`` starts from."""
    fields: dict[str, Any] = {
        "title": issue.title,
        "description": issue.description,
        "category": issue.category,
        "unit": unit_code,
        "deadline_type": issue.deadline_type,
        "source": issue.source,
        "due_on": issue.due_on.isoformat() if issue.due_on else None,
    }
    if issue.round is not None:
        fields["round"] = issue.round.code
    return fields


def team_targets(session: Session, team_ids: Any) -> list[tuple[int, Unit]]:
    """(round id, target unit) of the teams matching the ``team_ids`` condition."""
    return [
        (r, u)
        for r, u in session.execute(
            select(Team.round_id, Unit)
            .join(TeamTarget, TeamTarget.team_id == Team.id)
            .join(Unit, Unit.id == TeamTarget.unit_id)
            .where(team_ids)
        )
    ]
