"""What the linkage modules share: the subtree clause of findings, the acting office post
and its audit event on an issue, the fields a new issue copies from an old one, and a
team's targets.  Must not import flask."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from workflow import audit
from workflow.linkage.teams import Refused
from workflow.models import Issue, Membership, Team, TeamTarget, Unit, User
from workflow.org.scope import path_range


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


def require_office(user: User, unit: Unit) -> Membership:
    """The user's office post at or above ``unit``; Refused when there is none."""
    member = office_post(user, unit.path)
    if member is None:
        raise Refused(f"only the inspection office of {unit.name} or above may do this")
    return member


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
