"""The sweep's entry point, :func:`sweep`, and the write side of one run (:class:`_Run`).

A sweep probes (:mod:`.probe`), then drains each due rung in ladder order (:mod:`.due`,
:mod:`.fire`); a count rule is drained after its clock's rungs when the probe found it due
or its rung fired in this sweep; last, it schedules the deadlines it looked at
(:mod:`.schedule`).

Transactions
    Each batch is one write transaction (``BEGIN IMMEDIATE`` on SQLite) holding the
    escalation rows, their audit events, their letters, their outbox rows and the warning
    level: a kill -9 at any point loses or duplicates nothing, and the next run carries on.
    Batches keep SQLite's write lock short.  Partitions are claimed per batch (see
    :mod:`.partitions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.clock.calendar import WorkCalendar
from workflow.clock.escalation.bounds import _Bounds
from workflow.clock.escalation.due import _due_rows
from workflow.clock.escalation.fire import _fire
from workflow.clock.escalation.partitions import _lock_name, _scope, _try_xact_locks
from workflow.clock.escalation.plan import _plan, _versions, _Work
from workflow.clock.escalation.probe import _anything_looked_at, _probe
from workflow.clock.escalation.report import SweepReport
from workflow.clock.escalation.schedule import _looked_page, _reschedule
from workflow.db import lease
from workflow.definition import Definition
from workflow.models import Lease


class WritableDatabase(Protocol):
    """What the sweep needs of :class:`workflow.db.Database`."""

    @property
    def engine(self) -> Any: ...

    def writing(self) -> Any: ...

    def reading(self) -> Any: ...


def sweep(
    db: WritableDatabase,
    now: datetime,
    *,
    unit_path_prefix: str | None = None,
    batch: int = 500,
    holder: str | None = None,
    lease_ttl: timedelta = lease.DEFAULT_TTL,
) -> SweepReport:
    """Fire every rung and count rule due at ``now``; see :mod:`workflow.clock.escalation`.

    ``unit_path_prefix`` restricts the sweep to one partition (see :func:`partitions`);
    by default every partition is swept.  Commits once per batch.
    """
    report = SweepReport(now)
    with db.reading() as session:
        # the common case: nothing to look at, one index probe, no write transaction
        if not _anything_looked_at(session, now, unit_path_prefix):
            return report
        cal = WorkCalendar.from_session(session)
        bounds = _Bounds(cal, now)
        versions = _versions(session)
        works = _plan(versions, bounds)
        due = _probe(versions, works, unit_path_prefix).due(session, bounds, now)
    options = _Options(unit_path_prefix, batch, holder or lease.new_holder(), lease_ttl)
    run = _Run(db, now, bounds, options, report)
    try:
        fired: set[tuple[int, str, str]] = set()  # (version, clock, rung) fired by this sweep
        for w in works:
            rule = w.spec.rule
            # a rule whose rung fired just now may have become due since the probe
            counted = rule is not None and (w.dv_id, w.clock.name, rule.rung) in fired
            if (w.id in due or counted) and run.drain(w):
                fired.add((w.dv_id, w.clock.name, w.spec.name))
        # last: a sweep killed before this point leaves its deadlines looked at, so the
        # next one finds what it left (count rules included) with its probe
        run.schedule(dict(versions))
    finally:
        run.release()
    return report


@dataclass(frozen=True)
class _Options:
    """How one sweep runs: its partition (if one), batch size and lease holder."""

    prefix: str | None
    batch: int
    holder: str
    ttl: timedelta


class _Run:
    """The write side of one sweep: batches, partition locks and leases, what was skipped."""

    def __init__(
        self,
        db: WritableDatabase,
        now: datetime,
        bounds: _Bounds,
        options: _Options,
        report: SweepReport,
    ) -> None:
        self.db, self.now, self.bounds, self.report = db, now, bounds, report
        self.prefix, self.batch = options.prefix, options.batch
        self.holder, self.ttl = options.holder, options.ttl
        self.on_sqlite = db.engine.dialect.name == "sqlite"
        self.busy: set[str] = set()  # partitions another sweep works in: left to it
        self.held: set[str] = set()  # SQLite leases this sweep holds

    def drain(self, w: _Work) -> bool:
        """Fire ``w`` batch by batch until nothing is due; whether anything fired."""
        outcome = self.report.rung(w.key)
        outcome.provisional |= w.provisional
        before, after = outcome.fired, 0
        while True:
            with self.db.writing() as session:
                scope = _scope(self.prefix, self.busy)
                page = _due_rows(session, w, self.now, scope, self.batch, after)
                mine = self._claim(session, page.rows)
                if mine:
                    self.report.batches += 1
                    _fire(session, w, mine, self.now, self.bounds, outcome)
                    self._worked_in({r["partition"] for r in mine})
                if page.more:  # more may come in the next transaction
                    self._keep(session, {r["partition"] for r in mine})
            if not page.more:
                return outcome.fired > before
            after = page.after

    def schedule(self, definitions: dict[int, Definition]) -> None:
        """Set ``check_at`` of every deadline looked at to its next rung's instant."""
        after = 0
        while True:
            with self.db.writing() as session:
                page = _looked_page(
                    session, self.now, _scope(self.prefix, self.busy), after, self.batch
                )
                _reschedule(session, page, definitions, self.bounds)
            if len(page) < self.batch:
                return
            after = page[-1].id

    def _claim(self, session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The rows of partitions this sweep may work in; the other partitions are skipped."""
        refused = self._refused(session, sorted({r["partition"] for r in rows}))
        for part, why in refused.items():
            self.busy.add(part)
            self.report.skipped.append((part, why))
        return [r for r in rows if r["partition"] not in refused]

    def _refused(self, session: Session, parts: list[str]) -> dict[str, str]:
        """Partitions another sweep holds: why, by partition (locks taken on the rest)."""
        if not parts:
            return {}
        if not self.on_sqlite:
            got = _try_xact_locks(session, [_lock_name(p) for p in parts])
            return {p: "another sweep holds its advisory lock" for p in parts if not got[p]}
        # SQLite: the write lock already excludes every other writer for this transaction;
        # only a lease another sweep keeps between its transactions makes a partition busy
        refused = {}
        names = [_lock_name(p) for p in parts]
        for name, who in session.execute(
            select(Lease.name, Lease.holder).where(Lease.name.in_(names))
        ).all():
            part = name.removeprefix("sweep:")
            if who == self.holder:
                continue
            if lease.acquire(session, name, self.holder, self.ttl):  # expired, or holder died
                self.held.add(part)
            else:
                refused[part] = f"lease held by {who}"
        return refused

    def _keep(self, session: Session, parts: set[str]) -> None:
        """SQLite: lease partitions whose work goes on in a later transaction."""
        if self.on_sqlite:
            for part in sorted(parts):
                if lease.acquire(session, _lock_name(part), self.holder, self.ttl):
                    self.held.add(part)

    def _worked_in(self, parts: set[str]) -> None:
        self.report.partitions += sorted(parts - set(self.report.partitions))

    def release(self) -> None:
        """Give back the SQLite leases this sweep took (none when every batch was its last)."""
        if self.held:
            with self.db.writing() as session:
                for part in sorted(self.held):
                    lease.release(session, _lock_name(part), self.holder)
            self.held.clear()
