"""The rows a due rung or count rule fires on, walked in keyset batches.

For each due rung in ladder order, the running instances looked at and past its bound
(issue not in a final state) are walked in keyset order (``clock_instance.id > :last
ORDER BY id LIMIT batch``), the ones already fired dropped by one ``IN`` probe of the
unique key per page (:func:`_due_rows`).

Decisions
    - What fires is decided by the clock instance: a *running* instance fires (paused and
      stopped ones never do); the definition stops clocks when they no longer apply.  The
      issue's state only matters as a safety net: an issue in a *final* state never
      escalates.  (Filtering on ``state_kind != 'closed'`` would be wrong: the follow-up
      clock 回访 runs precisely while the issue is 已销号, a closed state.)
    - Paused instances never fire; a resume shifts the same instance (rungs already fired
      stay fired); an extension starts a new instance, which re-arms the whole ladder.
    - Count rules fire once per issue (their row hangs on the latest instance that fired
      the counted rung).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session, aliased

from workflow.clock.escalation.partitions import _partition_of
from workflow.clock.escalation.plan import _Work
from workflow.db import among
from workflow.definition import CountRule
from workflow.models import ClockInstance, Escalation, Issue

# (issue_id, cid, due, unit_path, dv): a rung's running instance, or a rule's newest one
_DueSelect = Select[int, int, datetime, str, int]


def _live(dv_ids: Sequence[int], finals: Sequence[str]) -> list[Any]:
    """Issues of these definition versions that may still escalate (not in a final state)."""
    conds: list[Any] = [Issue.definition_id.in_(dv_ids)]
    if finals:
        conds.append(Issue.state.not_in(finals))
    return conds


def _due_query(
    w: _Work, dv_ids: Sequence[int], now: datetime, scope: list[Any], after: int = 0
) -> _DueSelect:
    """Rows (issue_id, cid, due, unit_path, dv) on which ``w`` may be due, in keyset order.

    A rule's rows are those not fired yet.  A rung's rows are the running deadlines past
    its bound with ``clock_instance.id > after``, fired or not: :func:`_due_rows` drops the
    fired ones with one indexed probe.  (An anti-join here was planned by PostgreSQL, on
    statistics that lag the rows the sweep itself inserts, as a nested loop against every
    escalation of the rung: quadratic in the rungs fired.)
    """
    if w.spec.rule is not None:
        return _rule_query(w, w.spec.rule, dv_ids, scope, now, after)
    assert w.spec.rung is not None
    ci = ClockInstance
    due = ci.due_at <= now if w.bound is None else ci.due_at < w.bound
    return (
        select(
            ci.issue_id.label("issue_id"),
            ci.id.label("cid"),
            ci.due_at.label("due"),
            Issue.unit_path,
            Issue.definition_id.label("dv"),
        )
        .join(Issue, Issue.id == ci.issue_id)
        .where(
            ci.clock == w.clock.name,
            ci.status == "running",
            ci.check_at <= now,
            due,
            ci.id > after,
            *_live(dv_ids, w.finals),
            *scope,
        )
        .order_by(ci.id)
    )


def _rule_query(
    w: _Work,
    rule: CountRule,
    dv_ids: Sequence[int],
    scope: list[Any],
    now: Any,
    after: int = 0,
) -> _DueSelect:
    """Issues on which ``rule``'s rung has fired ``count`` times (consecutively if asked).

    Only issues with a deadline the sweep looks at (``check_at <= now``) are counted: the
    rung fires on such a deadline, which stays looked at until the sweep that fired it
    has drained the rules (see "Idle sweeps" in :mod:`.schedule`).  Their escalation rows are counted first;
    only the issues reaching the count are then checked (rule not fired yet, issue live,
    partition).
    """
    e, clock = Escalation, w.clock.name
    looked = select(ClockInstance.issue_id).where(ClockInstance.check_at <= now)
    counted = select(
        e.issue_id.label("issue_id"),
        func.max(e.clock_instance_id).label("cid"),
        func.max(e.due_at).label("due"),
    ).where(e.clock == clock, e.rung == rule.rung, e.issue_id.in_(looked))
    if rule.consecutive:
        # generations of a clock are consecutive integers per issue: the newest generation
        # that fired the rung, and the N-1 before it, must all have fired it
        ci, ci2, e3 = ClockInstance, aliased(ClockInstance), aliased(Escalation)
        newest = (
            select(e3.issue_id.label("issue_id"), func.max(ci2.generation).label("g"))
            .join(ci2, ci2.id == e3.clock_instance_id)
            .where(e3.clock == clock, e3.rung == rule.rung)
            .group_by(e3.issue_id)
            .subquery()
        )
        counted = (
            counted.join(ci, ci.id == e.clock_instance_id)
            .join(newest, newest.c.issue_id == e.issue_id)
            .where(ci.generation > newest.c.g - rule.count)
        )
    c = counted.group_by(e.issue_id).having(func.count() >= rule.count).subquery()
    e2 = aliased(Escalation)
    done = exists().where(e2.issue_id == c.c.issue_id, e2.clock == clock, e2.rung == rule.name)
    return (
        select(c.c.issue_id, c.c.cid, c.c.due, Issue.unit_path, Issue.definition_id.label("dv"))
        .join(Issue, Issue.id == c.c.issue_id)
        .where(~done, c.c.issue_id > after, *_live(dv_ids, w.finals), *scope)
        .order_by(c.c.issue_id)
    )


def _fired_among(session: Session, w: _Work, page: Sequence[Any]) -> set[int]:
    """The clock instances of ``page`` on which rung ``w`` has fired (its unique key)."""
    if w.spec.rung is None:  # a rule's query already leaves out the issues it fired on
        return set()
    e = Escalation
    return set(
        session.scalars(
            select(e.clock_instance_id).where(
                among(session, e.issue_id, sorted({r.issue_id for r in page})),
                among(session, e.clock_instance_id, [r.cid for r in page]),
                e.rung == w.spec.name,
            )
        )
    )


@dataclass
class _Page:
    """Due rows of one batch and where the keyset walk stands."""

    rows: list[dict[str, Any]]
    after: int  # the key of the last candidate read (clock instance id; issue id for rules)
    more: bool  # candidates may follow ``after``


def _due_rows(
    session: Session, w: _Work, now: datetime, scope: list[Any], limit: int, after: int
) -> _Page:
    """About ``limit`` rows past ``after`` on which ``w`` is due and has not fired.

    Candidates are read ``limit`` at a time in key order and the fired ones dropped, until
    ``limit`` rows are found (at most ``2 * limit - 1``) or the candidates run out; each
    candidate is read once per sweep, whatever the plan statistics say.
    """
    rows: list[dict[str, Any]] = []
    while len(rows) < limit:
        page = session.execute(_due_query(w, [w.dv_id], now, scope, after).limit(limit)).all()
        if page:
            after = page[-1].cid if w.spec.rung is not None else page[-1].issue_id
        fired = _fired_among(session, w, page) if page else set()
        rows += [
            {
                "issue_id": r.issue_id,
                "clock_instance_id": r.cid,
                "clock_due": _aware(r.due),
                "partition": _partition_of(r.unit_path),
            }
            for r in page
            if r.cid not in fired
        ]
        if len(page) < limit:
            return _Page(rows, after, more=False)
    return _Page(rows, after, more=True)


def _aware(at: datetime) -> datetime:
    # a bare aggregate may come back from SQLite without the column type's processing
    return at if at.tzinfo else at.replace(tzinfo=UTC)
