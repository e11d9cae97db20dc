"""The 整改台账 and the lists of issues: the ledger, problem leads, the API's issue list."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from workflow.models import Issue, Round, Team, TeamTarget, Unit, User
from workflow.org.scope import path_range, visible_clause
from workflow.queries.common import (
    LEDGER_KINDS,
    PAGE_SIZE,
    SORTS,
    Filters,
    Page,
    escape_like,
    filter_clauses,
    matching,
    overdue_clause,
    paginate,
)


def ledger(
    session: Session, user: User, f: Filters, now: datetime, sort: str = "due", page: int = 1
) -> Page:
    """The 整改台账: issues in ``user``'s scope matching ``f``, sorted, one page."""
    f = replace(f, q=escape_like(f.q) if f.q else None)
    stmt = (
        select(Issue)
        .where(visible_clause(user), Issue.kind.in_(LEDGER_KINDS), *filter_clauses(session, f, now))
        .order_by(*SORTS.get(sort, SORTS["due"]))
    )
    return paginate(session, stmt, page)


def leads(session: Session, user: User, page: int = 1, q: str | None = None) -> Page:
    """Problem leads in ``user``'s scope (only discipline and the office have any)."""
    stmt = select(Issue).where(visible_clause(user), Issue.kind == "problem_lead")
    if q:
        like = f"%{escape_like(q.strip())}%"
        stmt = stmt.where(
            or_(Issue.number.ilike(like, escape="\\"), Issue.title.ilike(like, escape="\\"))
        )
    return paginate(session, stmt.order_by(Issue.opened_at.desc(), Issue.id.desc()), page)


def get_visible(session: Session, user: User, issue_id: int) -> Issue | None:
    """The issue if ``user`` may see it, else None (callers answer 404)."""
    return session.scalar(select(Issue).where(Issue.id == issue_id, visible_clause(user)))


def categories(session: Session, user: User) -> list[str]:
    """The categories in use among the issues ``user`` sees."""
    return list(
        session.scalars(
            select(Issue.category)
            .where(visible_clause(user), Issue.category.is_not(None))
            .distinct()
            .order_by(Issue.category)
        )
    )


def rounds(session: Session, user: User | None = None) -> list[Round]:
    """The inspection rounds ``user`` has to do with (every round without one), newest first.

    A round concerns someone when it is organised by a unit on the path of one of their
    posts (above it, the post's unit, or below it) or inspects such a unit: a township
    clerk of 杭州 is offered the province's and 杭州's rounds, never 宁波's.
    """
    stmt = select(Round).order_by(Round.id.desc())
    if user is not None:
        stmt = stmt.where(_concerns(user))
    return list(session.scalars(stmt))


def _concerns(user: User) -> ColumnElement[bool]:
    """SQL: the round is organised on, or inspects a unit on, the path of a post of ``user``."""
    units = [m.unit for m in user.memberships]
    above = sorted({int(x) for u in units for x in u.path.strip("/").split("/") if x})
    below = select(Unit.id).where(or_(false(), *[path_range(Unit.path, u.path) for u in units]))
    near = or_(Unit.id.in_(above), Unit.id.in_(below)) if units else false()
    on_path = select(Unit.id).where(near)
    targeted = (
        select(Team.round_id)
        .join(TeamTarget, TeamTarget.team_id == Team.id)
        .where(TeamTarget.unit_id.in_(on_path))
    )
    return or_(Round.organiser_unit_id.in_(on_path), Round.id.in_(targeted))


def issue_list(
    session: Session,
    user: User,
    f: Filters,
    now: datetime,
    *,
    state: str | None = None,
    q: str | None = None,
    not_overdue: bool = False,
    page: int = 1,
    size: int = PAGE_SIZE,
) -> Page:
    """The API's ledger: issues of every kind in ``user``'s scope, earliest deadline first."""
    conds = [visible_clause(user), *filter_clauses(session, f, now)]
    if not_overdue:
        conds.append(~overdue_clause(now))
    if state:
        conds.append(Issue.state == state)
    if q:
        conds.append(matching(q, Issue.number, Issue.title, Issue.description))
    stmt = select(Issue).where(*conds).order_by(*SORTS["due"])
    return paginate(session, stmt, page, size)


def visible_issues(session: Session, user: User, ids: Iterable[int]) -> list[Issue]:
    """Those of the issues ``ids`` that ``user`` sees, by number (a bulk action's selection)."""
    stmt = select(Issue).where(Issue.id.in_(list(ids)), visible_clause(user))
    return list(session.scalars(stmt.order_by(Issue.number)))


def round_codes(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """The codes of the given round ids."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = session.execute(select(Round.id, Round.code).where(Round.id.in_(wanted))).all()
    return dict(rows)  # type: ignore[arg-type]


def round_id_by_code(session: Session, code: str) -> int | None:
    """The id of the round with ``code``, or None."""
    return session.scalar(select(Round.id).where(Round.code == code))
