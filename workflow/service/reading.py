"""What the service reads about an issue: its definition, snapshot, actions, history, clocks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from workflow import audit
from workflow.definition import Action, Definition
from workflow.definition.registry import definition_for, definition_of
from workflow.models import ClockInstance, Event, Issue, User
from workflow.org.scope import acting_memberships, can_see, is_recused

SNAPSHOT_ATTRS = (
    "state",
    "unit_id",
    "deadline_type",
    "due_on",
    "progress",
    "completion",
    "grade",
    "warning_level",
    "rules_written",
    "money_recovered",
    "people_handled",
    "relapse_count",
    "checker_id",
    "disposition",
    "cases_opened",
    "sanctions",
    "org_measures",
)


def snapshot(issue: Issue) -> dict[str, Any]:
    """The issue's decision-relevant fields as plain JSON values."""
    return audit.canonical({a: getattr(issue, a) for a in SNAPSHOT_ATTRS})


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The snapshot fields that changed, each as ``[before, after]``."""
    return {k: [before[k], after[k]] for k in after if before.get(k) != after[k]}


def get_definition(issue: Issue) -> Definition:
    """The definition version the issue is pinned to."""
    session = object_session(issue)
    return definition_for(session, issue) if session else definition_of(issue.definition)


def needs_recusal(action: Action) -> bool:
    """Whether the action has a 回避 guard (the actor's unit must not be the issue's)."""
    return any(g.kind == "recusal" for g in action.guards)


def allowed_actions(issue: Issue, user: User) -> list[Action]:
    """Actions ``user`` could take on ``issue`` in its current state (role, scope, 回避).

    Guards that depend on data (evidence, separation of duties) are checked on submit.
    """
    if not can_see(user, issue):
        return []
    d = get_definition(issue)
    out = []
    for action in d.actions_from(issue.state):
        members = acting_memberships(user, issue, action.roles)
        if needs_recusal(action):
            members = [m for m in members if not is_recused(m.unit, issue)]
        if members:
            out.append(action)
    return out


def changes_since(session: Session, issue: Issue, version: int) -> list[dict[str, Any]]:
    """Events that moved ``issue`` past ``version`` (for a conflict answer)."""
    events = session.scalars(
        select(Event)
        .where(Event.issue_id == issue.id, Event.outcome == "ok")
        .order_by(Event.id.desc())
        .limit(50)
    ).all()
    out = []
    for ev in reversed(events):
        if int(ev.data.get("v", 0)) > version:
            actor = session.get(User, ev.actor_id) if ev.actor_id else None
            out.append(
                {
                    "at": ev.at.isoformat(),
                    "action": ev.action,
                    "by": actor.display_name if actor else "system",
                    "from_state": ev.from_state,
                    "to_state": ev.to_state,
                    "changes": ev.data.get("changes", {}),
                }
            )
    return out


def running_clocks(session: Session, issue: Issue) -> list[ClockInstance]:
    """The issue's running and paused deadlines, earliest first."""
    return list(
        session.scalars(
            select(ClockInstance)
            .where(
                ClockInstance.issue_id == issue.id, ClockInstance.status.in_(("running", "paused"))
            )
            .order_by(ClockInstance.due_at)
        )
    )
