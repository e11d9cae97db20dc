"""When the sweep must next look at each deadline: ``clock_instance.check_at``.

Idle sweeps
    Each deadline says when the sweep must next look at it: the instant its earliest
    unfired rung fires (:func:`next_check`).  A deadline started, resumed or recomputed
    (``workflow.clock.deadlines``), and every running one when a calendar year is loaded, gets
    ``CHECK_NOW`` (a constant in the past): the next sweep looks at it.  Every sweep
    ends by scheduling the deadlines it looked at (``check_at <= now``): the next
    rung's instant, or ``NULL`` when nothing can fire on it any more.  So the probe and
    the drains read only the deadlines looked at — one index range that is empty when
    nothing is due, however many issues are open (the watermark of #7: an idle sweep
    over 1,000,000 issues reads no deadline).  Why it is exact: a rung can only fire on
    a deadline whose ``check_at`` is at or before its instant; a count rule can only
    become due when its rung fires, on a deadline that stays looked at until the sweep
    that fired it has drained the rules and scheduled it (a sweep killed in between
    leaves it looked at, and the next sweep's probe counts that issue's rules).  The
    schedule's ``UPDATE`` is guarded by the status and due instant it read, so a resume
    committed meanwhile is never overwritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from workflow.clock.escalation.bounds import _Bounds
from workflow.clock.escalation.due import _aware
from workflow.db import among
from workflow.definition import Definition
from workflow.models import ClockInstance, Escalation, Issue

CLOCK_TABLE = cast(Table, ClockInstance.__table__)


def next_check(
    d: Definition,
    clock: str,
    status: str,
    state: str,
    due: datetime,
    fired: set[str],
    bounds: _Bounds,
) -> datetime | None:
    """When the sweep must next look at a deadline: its earliest unfired rung's instant.

    ``None`` when nothing can fire on it any more (not running, issue in a final state,
    every rung fired).  An instant already past keeps it looked at.
    """
    spec = d.clocks.get(clock)
    if spec is None or status != "running" or d.states[state].final:
        return None
    instants = [
        bounds.instant(due, r.at, r.unit, d.timezone)[0] for r in spec.ladder if r.name not in fired
    ]
    return min(instants, default=None)


def _looked_page(
    session: Session, now: datetime, scope: list[Any], after: int, limit: int
) -> Sequence[Any]:
    """Up to ``limit`` deadlines looked at (``check_at <= now``) past ``after``, by id."""
    ci = ClockInstance
    return session.execute(
        select(
            ci.id,
            ci.issue_id,
            ci.clock,
            ci.status,
            ci.due_at,
            Issue.definition_id.label("dv"),
            Issue.state,
        )  # fmt: skip
        .join(Issue, Issue.id == ci.issue_id)
        .where(ci.check_at <= now, ci.id > after, *scope)
        .order_by(ci.id)
        .limit(limit)
    ).all()


def _reschedule(
    session: Session, page: Sequence[Any], definitions: dict[int, Definition], bounds: _Bounds
) -> None:
    """Write each deadline's :func:`next_check`; a deadline changed meanwhile is left alone.

    The ``UPDATE`` is guarded by the status and due instant read, so a resume committed
    since (it sets ``check_at = CHECK_NOW``) is not overwritten with a stale instant.  Rows
    sharing a new instant and due instant go in one statement (a date-based deadline ends
    at the same instant for every issue due that day); the rest in one executemany.
    """
    if not page:
        return
    fired = _fired_rungs(session, page)
    groups: dict[tuple[datetime | None, str, datetime], list[int]] = {}
    for r in page:
        d = definitions.get(r.dv)
        if d is None:  # a version stored after this sweep read them: the next sweep
            continue
        due = _aware(r.due_at)
        nxt = next_check(d, r.clock, r.status, r.state, due, fired.get(r.id, set()), bounds)
        groups.setdefault((nxt, r.status, due), []).append(r.id)
    _write_checks(session, groups)


def _fired_rungs(session: Session, page: Sequence[Any]) -> dict[int, set[str]]:
    """The rungs fired on each deadline of ``page``: clock instance id → rung names."""
    e = Escalation
    fired: dict[int, set[str]] = {}
    for cid, rung in session.execute(
        select(e.clock_instance_id, e.rung).where(
            among(session, e.issue_id, sorted({r.issue_id for r in page})),
            among(session, e.clock_instance_id, [r.id for r in page]),
        )
    ):
        fired.setdefault(cid, set()).add(rung)
    return fired


def _write_checks(
    session: Session, groups: dict[tuple[datetime | None, str, datetime], list[int]]
) -> None:
    """Set ``check_at``, guarded by the status and due instant read: one statement per group.

    Groups of one deadline go together in one executemany.
    """
    ci = CLOCK_TABLE.c
    singles = []
    for (nxt, status, due), ids in groups.items():
        if len(ids) == 1:
            singles.append({"cid": ids[0], "st": status, "due": due, "nxt": nxt})
            continue
        session.execute(
            update(CLOCK_TABLE)
            .where(among(session, ci.id, ids), ci.status == status, ci.due_at == due)
            .values(check_at=nxt)
        )
    if singles:
        session.execute(
            update(CLOCK_TABLE)
            .where(
                ci.id == bindparam("cid"),
                ci.status == bindparam("st"),
                ci.due_at == bindparam("due", type_=ci.due_at.type),
            )
            .values(check_at=bindparam("nxt", type_=ci.check_at.type)),
            singles,
        )
