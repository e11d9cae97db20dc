"""What every read model shares: the definitions of done and overdue, filters, scope and paging.

Definitions (one definition of every statistic, BRIEF §6):
- an *issue* counted on boards and statistics is a ``rectification`` issue (common-problem
  parents are counted through their children; problem leads have their own figures);
- *done* (已销号) is a state of kind ``closed``; ``ongoing`` (长期坚持) never counts as done;
- the *completion rate* is done / all;
- *overdue* is an open issue whose earliest running deadline (``due_at``) has passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.orm import Session

from workflow.models import Issue, Round, Unit, User
from workflow.org.scope import path_range, visible_clause

STAGES = ("transfer", "handling", "correction", "verification", "closed", "followup", "archived")
COUNTED_KIND = "rectification"
LEDGER_KINDS = ("rectification", "common_problem")
PAGE_SIZE = 25
SORTS = {
    "due": (Issue.due_at.is_(None), Issue.due_at, Issue.id),
    "-due": (Issue.due_at.is_(None), Issue.due_at.desc(), Issue.id),
    "number": (Issue.number,),
    "-number": (Issue.number.desc(),),
    "updated": (Issue.updated_at.desc(), Issue.id.desc()),
    "opened": (Issue.opened_at.desc(), Issue.id.desc()),
    "progress": (Issue.progress, Issue.id),
    "-progress": (Issue.progress.desc(), Issue.id),
}


def done_clause() -> ColumnElement[bool]:
    """An issue counts as done (已销号): its state is of kind closed."""
    return Issue.state_kind == "closed"


def overdue_clause(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """An issue is overdue: open, with its earliest running deadline in the past."""
    return and_(Issue.state_kind == "open", Issue.due_at.is_not(None), Issue.due_at < now)


# ---------------------------------------------------------------------------------- filters


@dataclass(frozen=True)
class Filters:
    """Ledger, board and statistics filters (all optional)."""

    round_id: int | None = None
    unit_id: int | None = None  # the unit's whole subtree
    category: str | None = None
    stage: str | None = None
    deadline_type: str | None = None
    warning: str | None = None  # green | yellow | red
    overdue: bool = False
    level: str | None = None  # the round's level: province | city | county
    q: str | None = None


NO_FILTERS = Filters()  # the default of every read model taking filters (frozen, so shared)


def filter_clauses(session: Session, f: Filters, now: datetime) -> list[ColumnElement[bool]]:
    """SQL conditions for the filters ``f`` (the ledger, board, statistics and API share them)."""
    out: list[ColumnElement[bool]] = []
    if f.round_id:
        out.append(Issue.round_id == f.round_id)
    if f.level:
        out.append(Issue.round_id.in_(select(Round.id).where(Round.level == f.level)))
    if f.unit_id:
        path = session.scalar(select(Unit.path).where(Unit.id == f.unit_id))
        out.append(path_range(Issue.unit_path, path) if path else false())
    if f.category:
        out.append(Issue.category == f.category)
    if f.stage:
        out.append(Issue.stage == f.stage)
    if f.deadline_type:
        out.append(Issue.deadline_type == f.deadline_type)
    if f.warning:
        out.append(Issue.warning_level == f.warning)
    if f.overdue:
        out.append(overdue_clause(now))
    if f.q:
        like = f"%{f.q.strip()}%"
        out.append(
            or_(
                Issue.number.ilike(like, escape="\\"),
                Issue.title.ilike(like, escape="\\"),
                Issue.description.ilike(like, escape="\\"),
                Issue.category.ilike(like, escape="\\"),
            )
        )
    return out


def escape_like(text: str) -> str:
    """``text`` with LIKE wildcards escaped (use with ``escape='\\\\'``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# ---------------------------------------------------------------------------------- pages


@dataclass
class Page:
    """One page of a list, with what is needed to draw the pager."""

    items: Sequence[Any]
    total: int
    page: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        """The number of pages (at least 1)."""
        return max(1, -(-self.total // self.size))

    @property
    def has_prev(self) -> bool:
        """Whether there is a page before this one."""
        return self.page > 1

    @property
    def has_next(self) -> bool:
        """Whether there is a page after this one."""
        return self.page < self.pages


def paginate(session: Session, stmt: Select[Any], page: int, size: int = PAGE_SIZE) -> Page:
    """Run ``stmt`` for one page and count all its rows."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = max(1, min(page, max(1, -(-total // size))))
    items = session.scalars(stmt.limit(size).offset((page - 1) * size)).unique().all()
    return Page(items, total, page, size)


def counted_clauses(session: Session, user: User, f: Filters, now: datetime) -> list[Any]:
    """Counted (rectification) issues ``user`` sees matching ``f``: boards and statistics."""
    return [visible_clause(user), Issue.kind == COUNTED_KIND, *filter_clauses(session, f, now)]


def under(path_column: Any, reach: Iterable[Unit]) -> ColumnElement[bool]:
    """Rows whose unit path lies in one of the subtrees of ``reach`` (none: no row)."""
    parts = [path_range(path_column, u.path) for u in reach]
    return or_(*parts) if parts else false()


def matching(q: str, *columns: Any) -> ColumnElement[bool]:
    """Rows where one of ``columns`` contains the search text ``q`` (wildcards escaped)."""
    like = f"%{escape_like(q.strip())}%"
    return or_(*[c.ilike(like, escape="\\") for c in columns])
