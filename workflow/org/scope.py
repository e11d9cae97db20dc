"""Who may see and act on which issue: roles held per unit, applied to the unit tree.

Owns the one definition of scope that pages, the API, exports and the service share, as
SQL (:func:`visible_clause`) and as a Python check on one loaded issue (:func:`can_see`,
:func:`acting_memberships`).  Must not import flask.

Role scopes (BRIEF §1):
- office: everything in the subtree of its unit, problem leads included;
- unit_user, unit_head: their own unit's issues (lead unit or supporting unit), never leads;
- supervisor, leader: the subtree of their unit, never leads;
- spot_check: the issues assigned to them as checker, never leads;
- discipline: problem leads in the subtree of their unit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, literal, or_, select

from workflow.models import Issue, Membership, SupportingUnit, Unit, User

ROLES = ("office", "unit_user", "unit_head", "supervisor", "spot_check", "discipline", "leader")
SUBTREE_ROLES = {"office", "supervisor", "leader"}
UNIT_ROLES = {"unit_user", "unit_head"}


def path_range(column: Any, path: Any) -> ColumnElement[bool]:
    """``column`` lies in the subtree whose path is ``path`` (a literal or a column).

    A subtree is the half-open string range [``/1/5/``, ``/1/50``): every path that starts
    with ``/1/5/`` sorts inside it, since '/' sorts just before '0'.  Unlike ``LIKE 'x%'``
    this is an index range scan on SQLite and PostgreSQL alike, also inside a join.
    """
    if isinstance(path, str):
        return and_(column >= path, column < path[:-1] + "0")
    upper = func.substr(path, 1, func.length(path) - 1).op("||")(literal("0"))
    return and_(column >= path, column < upper)


def _subtree(path: str) -> ColumnElement[bool]:
    return path_range(Issue.unit_path, path)


def membership_clause(m: Membership, user_id: int) -> ColumnElement[bool]:
    """SQL condition for the issues one membership can see."""
    role, unit = m.role, m.unit
    if role == "office":
        return _subtree(unit.path)
    if role in SUBTREE_ROLES:
        return and_(_subtree(unit.path), Issue.restricted.is_(False))
    if role in UNIT_ROLES:
        supporting = select(SupportingUnit.issue_id).where(SupportingUnit.unit_id == unit.id)
        return and_(
            or_(Issue.unit_id == unit.id, Issue.id.in_(supporting)), Issue.restricted.is_(False)
        )
    if role == "spot_check":
        return and_(Issue.checker_id == user_id, Issue.restricted.is_(False))
    if role == "discipline":
        return and_(_subtree(unit.path), Issue.restricted.is_(True))
    return false()


def visible_clause(user: User, roles: Iterable[str] | None = None) -> ColumnElement[bool]:
    """SQL condition selecting every issue ``user`` may see (optionally through some roles)."""
    wanted = set(roles) if roles is not None else None
    parts = [
        membership_clause(m, user.id)
        for m in user.memberships
        if wanted is None or m.role in wanted
    ]
    return or_(*parts) if parts else false()


def membership_covers(m: Membership, issue: Issue, supporting_ids: set[int]) -> bool:
    """Whether membership ``m`` sees ``issue`` (Python twin of :func:`membership_clause`)."""
    role, unit = m.role, m.unit
    if role == "office":
        return issue.unit_path.startswith(unit.path)
    if issue.restricted:
        return role == "discipline" and issue.unit_path.startswith(unit.path)
    if role in SUBTREE_ROLES:
        return issue.unit_path.startswith(unit.path)
    if role in UNIT_ROLES:
        return issue.unit_id == unit.id or unit.id in supporting_ids
    if role == "spot_check":
        return issue.checker_id == m.user_id
    return False


def supporting_unit_ids(issue: Issue) -> set[int]:
    """Ids of the issue's supporting units."""
    return {s.unit_id for s in issue.supporting}


def can_see(user: User, issue: Issue) -> bool:
    """Whether ``user`` may see ``issue`` at all."""
    sup = supporting_unit_ids(issue)
    return any(membership_covers(m, issue, sup) for m in user.memberships)


def acting_memberships(user: User, issue: Issue, roles: Iterable[str]) -> list[Membership]:
    """The user's memberships that hold one of ``roles`` and cover ``issue``.

    Unit users act only for the lead unit; a supporting unit may see the issue but the
    lead unit answers for it (五个一: one lead unit).
    """
    wanted = set(roles)
    sup = supporting_unit_ids(issue)
    found = []
    for m in user.memberships:
        if m.role not in wanted or not membership_covers(m, issue, sup):
            continue
        if m.role in UNIT_ROLES and m.unit_id != issue.unit_id:
            continue
        found.append(m)
    return found


def is_recused(unit: Unit, issue: Issue) -> bool:
    """回避: whether someone from ``unit`` must not review ``issue``.

    They must not belong to the lead unit, a supporting unit, or any unit inside them.
    """
    paths = [issue.unit_path] + [s.unit.path for s in issue.supporting]
    return any(unit.path.startswith(p) for p in paths)
