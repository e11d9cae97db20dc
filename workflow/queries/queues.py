"""Work queues: what waits for a user's action (my work, supervisors, checkers), reverse checks."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from sqlalchemy import ColumnElement, and_, false, literal, not_, or_, select
from sqlalchemy.orm import Session

from workflow.definition import Definition
from workflow.definition.registry import definition_of
from workflow.models import DefinitionVersion, Issue, Unit, User
from workflow.org.scope import UNIT_ROLES, membership_clause, visible_clause
from workflow.queries.common import Page, paginate


@lru_cache(maxsize=128)
def _role_states(version: str, source: str, filename: str) -> dict[str, frozenset[str]]:
    """Per role, the states from which the definition version lets it act (cached)."""
    d: Definition = definition_of(
        DefinitionVersion(version=version, source=source, filename=filename)
    )
    out: dict[str, set[str]] = {}
    for action in d.actions.values():
        for role in action.roles:
            out.setdefault(role, set()).update(action.sources)
    return {role: frozenset(states) for role, states in out.items()}


def _definition_roles(session: Session) -> list[tuple[int, dict[str, frozenset[str]]]]:
    """Per stored definition version: its id and the states each role acts from."""
    rows = session.execute(
        select(DefinitionVersion.id, DefinitionVersion.version, DefinitionVersion.source,
               DefinitionVersion.filename)
    ).all()  # fmt: skip
    return [(r.id, _role_states(r.version, r.source, r.filename)) for r in rows]


def waiting_clause(
    session: Session, user: User, roles: Iterable[str] | None = None
) -> ColumnElement[bool]:
    """Issues on which one of ``user``'s memberships has an action in the current state.

    For each definition version: which states each role can act from; then each membership's
    scope (a unit user acts only for the lead unit).  The data-dependent guards (evidence,
    separation of duties) are checked when the action is submitted.
    """
    wanted = set(roles) if roles is not None else None
    per_version = _definition_roles(session)
    parts = []
    for m in user.memberships:
        if wanted is not None and m.role not in wanted:
            continue
        states = [
            and_(Issue.definition_id == dv_id, Issue.state.in_(sorted(by_role[m.role])))
            for dv_id, by_role in per_version
            if m.role in by_role
        ]
        if not states:
            continue
        scope = membership_clause(m, user.id)
        if m.role in UNIT_ROLES:
            scope = and_(scope, Issue.unit_id == m.unit_id)
        if m.role == "spot_check":
            scope = and_(scope, not_(_own_unit(m.unit)))
        parts.append(and_(scope, or_(*states)))
    return or_(*parts) if parts else false()


def _own_unit(unit: Unit) -> ColumnElement[bool]:
    """回避 in SQL: the reviewer's unit lies in the issue's lead unit's subtree."""
    return literal(unit.path).startswith(Issue.unit_path)


def my_work(
    session: Session, user: User, page: int = 1, roles: Iterable[str] | None = None
) -> Page:
    """Everything waiting for ``user`` (or for some of their roles), earliest deadline first."""
    stmt = (
        select(Issue)
        .where(visible_clause(user), waiting_clause(session, user, roles))
        .order_by(Issue.due_at.is_(None), Issue.due_at, Issue.id)
    )
    return paginate(session, stmt, page)


def supervisor_queue(session: Session, user: User, page: int = 1) -> Page:
    """Plans, extensions and close-outs waiting for ``user`` as a supervisor."""
    return my_work(session, user, page, roles=("supervisor",))


def checker_queue(session: Session, user: User, page: int = 1) -> Page:
    """Follow-up visits assigned to ``user`` as a spot-check team member."""
    return my_work(session, user, page, roles=("spot_check",))
