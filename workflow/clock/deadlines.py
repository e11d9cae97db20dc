"""Clock instances: the deadlines of one issue, started, stopped, paused and extended.

Owns the ``clock_instance`` rows and the issue's denormalised ``due_at`` (its earliest
running deadline).  Deadlines are absolute UTC instants computed from the definition's
clock and the working calendar; a deadline that reaches into a year whose calendar is
not loaded is marked provisional and recomputed by :func:`recompute_provisional` once
the year is loaded.  Must not import flask.

Re-arming: an extension starts a new instance of the clock (so every rung of the ladder
can fire again against the new date, and the original date is kept); a pause followed by
a resume shifts the same instance (rungs already fired stay fired).

Every deadline started, resumed or recomputed here gets ``check_at = CHECK_NOW``: the next
sweep looks at it and schedules its next rung (see "Idle sweeps" in
``workflow.clock.escalation.schedule``).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from workflow.clock.calendar import WorkCalendar, due_instant, end_of_day
from workflow.definition import Clock, Definition
from workflow.models import CHECK_NOW, ClockInstance, Issue

# deadlines started on each issue object in this process, not necessarily flushed yet: what
# refresh_issue_due adds to the stored ones (weak, so they go with their issue object)
_started: weakref.WeakKeyDictionary[Issue, list[ClockInstance]] = weakref.WeakKeyDictionary()


def started_on(issue: Issue) -> list[ClockInstance]:
    """The deadlines this process started on ``issue`` (flushed or not)."""
    return list(_started.get(issue, ()))


def running(session: Session, issue: Issue, clock: str) -> ClockInstance | None:
    """The issue's running or paused instance of ``clock``, if any."""
    return session.scalar(
        select(ClockInstance)
        .where(
            ClockInstance.issue_id == issue.id,
            ClockInstance.clock == clock,
            ClockInstance.status.in_(("running", "paused")),
        )
        .order_by(ClockInstance.generation.desc())
        .limit(1)
    )


def _newest(session: Session, issue: Issue, clock: str) -> ClockInstance | None:
    """The issue's latest generation of ``clock``, whatever its status."""
    if inspect(issue).pending:
        return None  # an issue being opened has no deadlines stored yet
    return session.scalar(
        select(ClockInstance)
        .where(ClockInstance.issue_id == issue.id, ClockInstance.clock == clock)
        .order_by(ClockInstance.generation.desc())
        .limit(1)
    )


def _compute(
    cal: WorkCalendar, spec: Clock, tz: str, basis: dict[str, Any]
) -> tuple[datetime, bool]:
    if "date" in basis:
        # a date someone set (a promised or approved due date) does not move with the calendar
        return end_of_day(date.fromisoformat(basis["date"]), tz), False
    start = datetime.fromisoformat(basis["start"])
    return due_instant(cal, start, spec.counts, spec.amount, tz)


def start(
    session: Session,
    cal: WorkCalendar,
    definition: Definition,
    issue: Issue,
    clock: str,
    now: datetime,
    due_on: date | None = None,
) -> ClockInstance:
    """(Re)start ``clock`` for ``issue``: stop any running instance and open a new one."""
    spec = definition.clocks[clock]
    # the newest generation is the only one that can still run (a start stops the previous)
    newest = _newest(session, issue, clock)
    if newest is not None and newest.status in ("running", "paused"):
        newest.status, newest.stopped_at = "stopped", now
    generation = 1 + (newest.generation if newest is not None else 0)
    basis: dict[str, Any] = (
        {"date": due_on.isoformat()}
        if due_on
        else {"start": now.isoformat(), "counts": spec.counts, "amount": spec.amount}
    )
    due, provisional = _compute(cal, spec, definition.timezone, basis)
    inst = ClockInstance(
        issue_id=issue.id,
        clock=clock,
        generation=generation,
        status="running",
        started_at=now,
        due_at=due,
        original_due_at=due,
        provisional=provisional,
        basis=basis,
    )
    session.add(inst)
    _started.setdefault(issue, []).append(inst)
    return inst


def stop(session: Session, issue: Issue, clock: str, now: datetime) -> None:
    """Stop ``clock`` if it runs."""
    inst = running(session, issue, clock)
    if inst is not None:
        inst.status, inst.stopped_at = "stopped", now


def pause(session: Session, issue: Issue, clock: str, now: datetime) -> None:
    """Pause ``clock`` (暂存待查): its rungs do not fire while paused."""
    inst = running(session, issue, clock)
    if inst is not None and inst.status == "running":
        inst.status, inst.paused_at = "paused", now


def resume(
    session: Session, definition: Definition, issue: Issue, clock: str, now: datetime
) -> None:
    """Resume a paused ``clock``; with ``pause: shift`` the due moves by the time paused."""
    inst = running(session, issue, clock)
    if inst is None or inst.status != "paused" or inst.paused_at is None:
        return
    if definition.clocks[clock].pause == "shift":
        inst.due_at = inst.due_at + (now - inst.paused_at)
    inst.status, inst.paused_at, inst.check_at = "running", None, CHECK_NOW


def extend(
    session: Session,
    cal: WorkCalendar,
    definition: Definition,
    issue: Issue,
    clock: str,
    new_due: date,
    now: datetime,
) -> ClockInstance:
    """Move ``clock`` to ``new_due`` as a new instance that keeps the original date."""
    old = running(session, issue, clock)
    inst = start(session, cal, definition, issue, clock, now, due_on=new_due)
    if old is not None:
        inst.original_due_at = old.original_due_at
    return inst


def refresh_issue_due(session: Session, issue: Issue) -> None:
    """Set the issue's ``due_at`` to its earliest running deadline.

    Reads the instances without flushing, and takes their in-memory status and new
    instances into account, so an action's UPDATE of the issue still goes out once.
    """
    stored: Sequence[ClockInstance] = []
    if not inspect(issue).pending:
        with session.no_autoflush:
            stored = session.scalars(
                select(ClockInstance).where(
                    ClockInstance.issue_id == issue.id,
                    ClockInstance.status.in_(("running", "paused")),
                )
            ).all()
    live = [c for c in dict.fromkeys([*stored, *_started.get(issue, ())]) if c.status == "running"]
    earliest = min(live, key=lambda c: c.due_at) if live else None
    issue.due_at = earliest.due_at if earliest else None
    issue.due_provisional = bool(earliest.provisional) if earliest else False


def recompute_provisional(
    session: Session, cal: WorkCalendar, definitions: dict[int, Definition]
) -> list[tuple[ClockInstance, datetime, datetime]]:
    """Recompute every provisional running deadline against ``cal``; return what moved.

    ``definitions`` maps an issue's definition_id to its parsed definition.
    """
    moved = []
    rows = session.execute(
        select(ClockInstance, Issue)
        .join(Issue, Issue.id == ClockInstance.issue_id)
        .where(ClockInstance.provisional.is_(True), ClockInstance.status.in_(("running", "paused")))
    ).all()
    for inst, issue in rows:
        d = definitions[issue.definition_id]
        spec = d.clocks.get(inst.clock)
        if spec is None:
            continue
        due, provisional = _compute(cal, spec, d.timezone, inst.basis)
        if due != inst.due_at:
            moved.append((inst, inst.due_at, due))
            if inst.original_due_at == inst.due_at:
                inst.original_due_at = due
            inst.due_at = due
            inst.check_at = CHECK_NOW  # its rungs move with it: the sweep reschedules it
        inst.provisional = provisional
    return moved
