"""Rectification quality of a unit's subtree, the rates a higher level checks a lower
level's rectification by (完成率, 逾期率, 反弹率, 按期完成率), and the relapse rule
(反弹回潮).  Counting rules shared with the boards (done, overdue) come from
``workflow.queries``.  Must not import flask."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session

from workflow.linkage.common import resolve_unit
from workflow.models import Event, Issue, Unit
from workflow.org.scope import path_range
from workflow.queries import done_clause, overdue_clause

BEIJING = timedelta(hours=8)


def relapsed_clause() -> ColumnElement[bool]:
    """An issue relapsed (反弹回潮): a follow-up found it relapsed at least once.

    Read from ``relapse_count`` and, until the definition keeps that count, from the
    ``followup_relapse`` events of the issue.
    """
    relapses = select(Event.issue_id).where(
        Event.action == "followup_relapse", Event.outcome == "ok"
    )
    return or_(Issue.relapse_count > 0, Issue.id.in_(relapses))


@dataclass
class QualityRates:
    """The rectification quality of a unit's subtree (rates are None when undefined)."""

    unit_id: int
    total: int
    closed: int
    ongoing: int
    overdue: int
    relapsed: int
    ever_closed: int
    closed_with_due: int
    closed_on_time: int
    completion_rate: float | None  # closed / total (长期坚持 never counts as closed)
    overdue_rate: float | None  # overdue / total
    relapse_rate: float | None  # relapsed / ever closed
    on_time_rate: float | None  # closed by the promised date / closed with a promised date


def rate(n: int, d: int) -> float | None:
    """n / d rounded to 4 places; None when d is 0 (the rate is undefined)."""
    return round(n / d, 4) if d else None


def rectification_quality(
    session: Session, unit_id: int, now: datetime, round_ids: Sequence[int] | None = None
) -> QualityRates:
    """How well the units in ``unit_id``'s subtree rectify (a higher level's follow-up).

    Over rectification issues (common-problem parents and problem leads excluded):
    completion = closed / all; overdue = open with its earliest running deadline past
    ``now`` (the board's definition) / all; relapse = relapsed / ever closed (closed now
    or relapsed); on time = closed no later than the promised date (``due_on``, Beijing
    calendar day) / closed items that had a promised date.
    """
    unit = resolve_unit(session, unit_id)
    conds = [Issue.kind == "rectification", path_range(Issue.unit_path, unit.path)]
    if round_ids is not None:
        conds.append(Issue.round_id.in_(list(round_ids)))

    def n(cond: ColumnElement[bool]) -> Any:
        """SQL: how many rows meet ``cond``."""
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    row = session.execute(
        select(
            func.count(Issue.id),
            n(done_clause()),
            n(Issue.state_kind == "ongoing"),
            n(overdue_clause(now)),
            n(relapsed_clause()),
            n(or_(done_clause(), relapsed_clause())),
        ).where(*conds)
    ).one()
    total, closed, ongoing, overdue, relapsed, ever = (int(x or 0) for x in row)
    # on time compares a Beijing calendar day with an instant: read the closed pairs
    pairs: list[tuple[datetime, date]] = [
        (c, d)
        for c, d in session.execute(
            select(Issue.closed_at, Issue.due_on).where(
                *conds, done_clause(), Issue.due_on.is_not(None), Issue.closed_at.is_not(None)
            )
        )
        if c is not None and d is not None
    ]
    on_time = sum(1 for closed_at, due in pairs if (closed_at + BEIJING).date() <= due)
    return QualityRates(
        unit.id,
        total,
        closed,
        ongoing,
        overdue,
        relapsed,
        ever,
        len(pairs),
        on_time,
        rate(closed, total),
        rate(overdue, total),
        rate(relapsed, ever),
        rate(on_time, len(pairs)),
    )


def leads_on_time(
    session: Session, unit: Unit, now: datetime, days: int, round_ids: Sequence[int] | None
) -> tuple[int, int]:
    """(handled on time, due): leads whose feedback was due by ``now`` or was sent."""
    conds = [Issue.kind == "problem_lead", path_range(Issue.unit_path, unit.path)]
    if round_ids is not None:
        conds.append(Issue.round_id.in_(list(round_ids)))
    rows = session.execute(
        select(Issue.opened_at, Issue.closed_at, Issue.state_kind).where(*conds)
    ).all()
    due = on_time = 0
    for opened, closed, kind in rows:
        deadline = opened + timedelta(days=days)
        if kind == "closed" or deadline <= now:
            due += 1
            if kind == "closed" and closed is not None and closed <= deadline:
                on_time += 1
    return on_time, due
