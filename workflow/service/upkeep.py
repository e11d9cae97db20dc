"""Moves the system makes on issues: deadlines recomputed after a calendar year, migrations."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import audit
from workflow.clock import deadlines
from workflow.clock.calendar import WorkCalendar
from workflow.definition.registry import definition_of
from workflow.messages import N_, Text
from workflow.models import DefinitionVersion, Issue
from workflow.service.effects import set_state
from workflow.service.errors import Denied

MIGRATION_BLOCKED = Text(
    "service_migration_blocked", N_("the migration has blockers; nothing was moved")
)


def recompute_deadlines(
    session: Session, now: datetime
) -> list[tuple[Issue, str, datetime, datetime]]:
    """After a calendar year is loaded: recompute provisional deadlines, audit each move."""
    cal = WorkCalendar.from_session(session)
    defs = {dv.id: definition_of(dv) for dv in session.scalars(select(DefinitionVersion))}
    moved = deadlines.recompute_provisional(session, cal, defs)
    out = []
    chain = audit.Chain(session)
    for inst, old, new in moved:
        issue = session.get(Issue, inst.issue_id)
        assert issue is not None
        deadlines.refresh_issue_due(session, issue)
        issue.updated_at = now
        issue.version += 1  # an open form must see the moved deadline, not overwrite it
        chain.append(
            issue_id=issue.id,
            at=now,
            action="deadline_recomputed",
            actor_role="system",
            from_state=issue.state,
            to_state=issue.state,
            definition_version=issue.definition.version,
            data={
                "clock": inst.clock,
                "from": old.isoformat(),
                "to": new.isoformat(),
                "v": issue.version,  # already bumped above: the version this event made
            },
        )
        out.append((issue, inst.clock, old, new))
    session.flush()
    return out


def apply_migration(
    session: Session, plan: Any, state_map: Mapping[str, str] | None, now: datetime
) -> int:
    """Move the issues of a non-blocked migration plan to its target version, audited."""
    if plan.blocked:
        raise Denied(MIGRATION_BLOCKED())
    target = plan.target
    new = definition_of(target)
    chain = audit.Chain(session)
    moved = 0
    for dv, _n, _changes, _blockers in plan.per_version:
        for issue in session.scalars(select(Issue).where(Issue.definition_id == dv.id)):
            old_state = issue.state
            state = (state_map or {}).get(old_state, old_state)
            issue.definition_id, issue.definition = target.id, target
            set_state(issue, new, state, now)
            issue.updated_at = now
            issue.version += 1
            chain.append(
                issue_id=issue.id,
                at=now,
                action="definition_migrated",
                actor_role="system",
                from_state=old_state,
                to_state=state,
                definition_version=target.version,
                data={"from_version": dv.version, "v": issue.version},
            )
            moved += 1
    session.flush()
    return moved
