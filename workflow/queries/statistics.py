"""Statistics: every BRIEF §5 figure for one scope (round, level, unit subtree), in SQL."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from workflow.models import Escalation, Issue, Letter, Measure, Round, User
from workflow.org.scope import visible_clause
from workflow.queries.common import (
    NO_FILTERS,
    Filters,
    counted_clauses,
    done_clause,
    filter_clauses,
)
from workflow.queries.progress import Progress, scope_progress, unit_progress


@dataclass
class Statistics:
    """The BRIEF §5 figures for one scope (round, level, unit subtree)."""

    progress: Progress
    by_category: list[tuple[str, int, int]]  # (category, all, done)
    by_round: list[tuple[str, int, int]]
    measures: int
    rules_written: int
    money_recovered: Any
    people_handled: int
    relapses: int
    leads: int
    leads_by_cadre: list[tuple[str, int]]
    leads_disposed: int
    cases_opened: int
    sanctions: int
    org_measures: int
    letters: dict[str, int]
    escalations: dict[str, int]
    monthly: list[tuple[str, int, int]]  # (YYYY-MM, opened that month, closed that month)


def statistics(session: Session, user: User, now: datetime, f: Filters = NO_FILTERS) -> Statistics:
    """Every BRIEF §5 figure for the issues ``user`` sees matching ``f``."""
    conds = counted_clauses(session, user, f, now)
    progress = (
        unit_progress(session, user, [f.unit_id], now, replace(f, unit_id=None))[0]
        if f.unit_id
        else scope_progress(session, user, now, f)
    )
    sums = _sums(session, conds)
    ids = select(Issue.id).where(*conds)
    measures = session.scalar(select(func.count()).where(Measure.issue_id.in_(ids))) or 0
    lead_conds = [visible_clause(user), Issue.kind == "problem_lead",
                  *filter_clauses(session, f, now)]  # fmt: skip
    lead_row = _lead_sums(session, lead_conds)
    all_ids = select(Issue.id).where(visible_clause(user), *filter_clauses(session, f, now))
    return Statistics(
        progress, _by_category(session, conds), _by_round(session, conds), measures,
        int(sums[0]), sums[1], int(sums[2]), int(sums[3]), lead_row[0],
        _leads_by_cadre(session, lead_conds), int(lead_row[1]), int(lead_row[2]),
        int(lead_row[3]), int(lead_row[4]), _counted_by(session, Letter.kind, Letter.issue_id, all_ids),
        _counted_by(session, Escalation.level, Escalation.issue_id, all_ids),
        _monthly(session, conds),
    )  # fmt: skip


def _done_count() -> Any:
    """SQL: how many of the grouped issues are done (0 rather than NULL)."""
    return func.coalesce(func.sum(case((done_clause(), 1), else_=0)), 0)


def _by_category(session: Session, conds: list[Any]) -> list[tuple[str, int, int]]:
    """(category, all, done) per category, the largest first."""
    cat = func.coalesce(Issue.category, "—")
    rows = session.execute(
        select(cat, func.count(), _done_count())
        .where(*conds)
        .group_by(cat)
        .order_by(func.count().desc())
    )
    return [(r[0], r[1], r[2]) for r in rows]


def _by_round(session: Session, conds: list[Any]) -> list[tuple[str, int, int]]:
    """(round name, all, done) per round, by name ("—" for issues of no round)."""
    rows = session.execute(
        select(Round.name, func.count(), _done_count())
        .select_from(Issue)
        .outerjoin(Round, Round.id == Issue.round_id)
        .where(*conds)
        .group_by(Round.name)
        .order_by(Round.name)
    )
    return [(r[0] or "—", r[1], r[2]) for r in rows]


def _sums(session: Session, conds: list[Any]) -> Any:
    """Rules written, money recovered, people handled and relapses, summed."""
    return session.execute(
        select(
            func.coalesce(func.sum(Issue.rules_written), 0),
            func.coalesce(func.sum(Issue.money_recovered), 0),
            func.coalesce(func.sum(Issue.people_handled), 0),
            func.coalesce(func.sum(Issue.relapse_count), 0),
        ).where(*conds)
    ).one()


def _lead_sums(session: Session, lead_conds: list[Any]) -> Any:
    """Problem leads: how many, disposed, cases opened, sanctions and organisational measures."""
    return session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((Issue.disposition.is_not(None), 1), else_=0)), 0),
            func.coalesce(func.sum(Issue.cases_opened), 0),
            func.coalesce(func.sum(Issue.sanctions), 0),
            func.coalesce(func.sum(Issue.org_measures), 0),
        ).where(*lead_conds)
    ).one()


def _leads_by_cadre(session: Session, lead_conds: list[Any]) -> list[tuple[str, int]]:
    """Problem leads per cadre level."""
    cadre = func.coalesce(Issue.cadre_level, "—")
    rows = session.execute(select(cadre, func.count()).where(*lead_conds).group_by(cadre))
    return [(r[0], r[1]) for r in rows]


def _counted_by(session: Session, key: Any, issue_id: Any, ids: Any) -> dict[str, int]:
    """Rows (letters, escalations) of the issues ``ids``, counted per ``key``."""
    rows = session.execute(select(key, func.count()).where(issue_id.in_(ids)).group_by(key))
    return dict(rows.all())  # type: ignore[arg-type]


def _monthly(session: Session, conds: list[Any]) -> list[tuple[str, int, int]]:
    """Issues opened and closed per month (YYYY-MM), oldest first."""
    opened = _month_counts(session, Issue.opened_at, conds)
    closed = _month_counts(session, Issue.closed_at, [*conds, done_clause()])
    months = sorted(set(opened) | set(closed))
    return [(m, opened.get(m, 0), closed.get(m, 0)) for m in months]


def _month_counts(session: Session, col: Any, conds: list[Any]) -> dict[str, int]:
    """How many matching issues have ``col`` in each month (YYYY-MM)."""
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        month = func.strftime("%Y-%m", col)
    else:
        month = func.to_char(col, "YYYY-MM")
    rows = session.execute(
        select(month, func.count()).where(*conds, col.is_not(None)).group_by(month)
    ).all()
    return {r[0]: r[1] for r in rows if r[0]}
