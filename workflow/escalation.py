"""The escalation sweep: every ladder rung and count rule now due fires exactly once.

Owns :func:`sweep` and its report.  It is the only writer of ``escalation`` rows and the
only code that raises ``issue.warning_level`` outside a user action.  Must not import
flask or ``notifications`` (the outbox rows it writes are delivered by ``notifications``;
``web/cli_clock.py`` composes the two for the embedded clock, the Prefect flows for the
distributed one).

How it finds due rungs without looping over open issues
    For each (definition version, clock, rung) the rung's offset is turned into one bound
    on ``clock_instance.due_at``.  ``calendar.rung_instant`` maps a due date to the rung's
    instant and is monotonic in the due date, so the due dates whose rung instant is
    ``<= now`` are exactly those up to some date D*; D* is found by a binary search over a
    few dates (a handful of calendar look-ups per rung, whatever the number of issues),
    and the rung fires for the running instances with ``due_at < start of (D* + 1)`` —
    for ``at: 0``, ``due_at <= now``.  One ``SELECT … LIMIT batch`` per rung and batch
    (running instances, issue not closed, no escalation row yet: an anti-join on the
    unique key) feeds ``INSERT … ON CONFLICT DO NOTHING RETURNING``; only the rows this
    transaction really inserted get their audit event, letter and outbox rows, so two
    sweeps that overlap can never both notify.  Count rules (``2 yellow → 书面督办``,
    ``3 consecutive red → 约谈``) are one ``GROUP BY … HAVING`` per rule.

Transactions
    Each batch is one write transaction (``BEGIN IMMEDIATE`` on SQLite) holding the
    escalation rows, their audit events, their letters, their outbox rows and the warning
    level: a kill -9 at any point loses or duplicates nothing, and the next run carries on.
    Batches keep SQLite's write lock short.

Two sweeps at once
    The work is split into partitions (one per city subtree, plus each root unit's own
    issues); a partition is worked under ``pg_try_advisory_xact_lock`` (PostgreSQL, per
    batch) or a ``lease`` row (SQLite, for the whole partition).  A sweep that finds a
    partition busy skips it and says so.  The unique key is the last line of defence.

Decisions
    - Catch-up: after downtime every rung whose instant has passed fires once, in ladder
      order, reminders included (a late reminder still tells the unit where it stands);
      its event carries ``late: true`` when it fires more than a day after its instant.
    - What fires is decided by the clock instance: a *running* instance fires (paused and
      stopped ones never do); the definition stops clocks when they no longer apply.  The
      issue's state only matters as a safety net: an issue in a *final* state never
      escalates.  (Filtering on ``state_kind != 'closed'`` would be wrong: the follow-up
      clock 回访 runs precisely while the issue is 已销号, a closed state.)
    - Paused instances never fire; a resume shifts the same instance (rungs already fired
      stay fired); an extension starts a new instance, which re-arms the whole ladder.
    - Count rules fire once per issue (their row hangs on the latest instance that fired
      the counted rung).
    - Warning levels only go up here (green < yellow < red).  The raise is a Core
      ``UPDATE issue SET warning_level = :lvl, version = version + 1 WHERE id IN (…) AND
      warning_level IN (<lower>)``: the explicit ``version + 1`` means a form opened
      before the card was shown gets a 409 instead of silently overwriting it, exactly as
      if a person had changed the issue.  Reminders do not touch the issue row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from workflow import audit, lease, letters, outbox
from workflow.calendar import WorkCalendar, rung_instant
from workflow.definition import Clock, CountRule, Definition, Rung
from workflow.models import ClockInstance, DefinitionVersion, Escalation, Issue, Unit
from workflow.registry import definition_of
from workflow.scope import path_range

log = logging.getLogger(__name__)

LEVEL_RANK = {"green": 0, "reminder": 0, "yellow": 1, "red": 2}
CARD_LEVELS = ("yellow", "red")
LATE_AFTER = timedelta(days=1)


class WritableDatabase(Protocol):
    """What the sweep needs of :class:`workflow.db.Database`."""

    @property
    def engine(self) -> Any: ...

    def writing(self) -> Any: ...

    def reading(self) -> Any: ...


# ------------------------------------------------------------------------------- report


@dataclass
class RungOutcome:
    """What one rung (or count rule) of one clock did in this sweep."""

    fired: int = 0
    letters: int = 0
    notifications: int = 0
    raised: int = 0
    provisional: bool = False


@dataclass
class SweepReport:
    """What a sweep did, per ``definition/clock/rung``."""

    now: datetime
    rungs: dict[str, RungOutcome] = field(default_factory=dict)
    partitions: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (partition, why)
    batches: int = 0

    def rung(self, key: str) -> RungOutcome:
        return self.rungs.setdefault(key, RungOutcome())

    @property
    def fired(self) -> int:
        """Escalations recorded by this sweep."""
        return sum(r.fired for r in self.rungs.values())

    @property
    def notifications(self) -> int:
        return sum(r.notifications for r in self.rungs.values())

    @property
    def letters(self) -> int:
        return sum(r.letters for r in self.rungs.values())

    def merge(self, other: SweepReport) -> None:
        """Add ``other``'s counts to this report (partitions swept separately)."""
        for key, r in other.rungs.items():
            mine = self.rung(key)
            mine.fired += r.fired
            mine.letters += r.letters
            mine.notifications += r.notifications
            mine.raised += r.raised
            mine.provisional |= r.provisional
        self.partitions += other.partitions
        self.skipped += other.skipped
        self.batches += other.batches

    def lines(self) -> list[str]:
        """Human-readable lines, one per rung that did something."""
        out = [
            f"{key}: fired {r.fired}, letters {r.letters}, notifications {r.notifications}, "
            f"cards raised {r.raised}" + (" (provisional calendar)" if r.provisional else "")
            for key, r in sorted(self.rungs.items())
            if r.fired
        ]
        for part, why in self.skipped:
            out.append(f"partition {part} skipped: {why}")
        out.append(
            f"total: {self.fired} escalations, {self.letters} letters, "
            f"{self.notifications} notifications in {self.batches} batches over "
            f"{len(self.partitions)} partitions"
        )
        return out

    def as_dict(self) -> dict[str, Any]:
        """Plain data (for Prefect task results and JSON output)."""
        return {
            "now": self.now.isoformat(),
            "rungs": {k: vars(v) for k, v in sorted(self.rungs.items())},
            "partitions": list(self.partitions),
            "skipped": [list(s) for s in self.skipped],
            "batches": self.batches,
            "fired": self.fired,
        }


# ------------------------------------------------------------------------------- partitions


def partitions(session: Session) -> list[str]:
    """The sweep's partitions: each root unit's own issues, then each city subtree.

    ``"=/1/"`` means "issues of exactly unit /1/"; ``"/1/5/"`` means "the subtree /1/5/".
    """
    roots = session.scalars(select(Unit.path).where(Unit.parent_id.is_(None)).order_by(Unit.path))
    tops = session.scalars(select(Unit.path).where(Unit.depth == 1).order_by(Unit.path))
    return [f"={p}" for p in roots] + list(tops)


def _partition_filter(partition: str | None) -> Any:
    if not partition:
        return True
    if partition.startswith("="):
        return Issue.unit_path == partition[1:]
    return path_range(Issue.unit_path, partition)


# ------------------------------------------------------------------------------- bounds


@dataclass(frozen=True)
class _Spec:
    """One thing that can fire: a ladder rung or a count rule of a clock."""

    kind: str  # rung | count_rule
    name: str
    level: str
    label: str
    notify: tuple[str, ...]
    letter: str | None
    rung: Rung | None = None
    rule: CountRule | None = None

    @classmethod
    def of_rung(cls, r: Rung) -> _Spec:
        return cls("rung", r.name, r.level, r.label.zh, tuple(r.notify), r.letter, rung=r)

    @classmethod
    def of_rule(cls, r: CountRule) -> _Spec:
        return cls("count_rule", r.name, r.level, r.label.zh, tuple(r.notify), r.letter, rule=r)


class _Bounds:
    """Rung instants and due-date bounds, cached for one sweep."""

    def __init__(self, cal: WorkCalendar, now: datetime) -> None:
        self.cal, self.now = cal, now
        self._instant: dict[tuple[date, int, str, str], tuple[datetime, bool]] = {}
        self._bound: dict[tuple[int, str, str], tuple[datetime, bool]] = {}

    def instant(self, due: datetime, at: int, unit: str, tz: str) -> tuple[datetime, bool]:
        """The rung's instant for a due instant (cached per local due date)."""
        if at == 0:
            return due, False
        day = due.astimezone(ZoneInfo(tz)).date()
        key = (day, at, unit, tz)
        if key not in self._instant:
            self._instant[key] = rung_instant(self.cal, due, at, unit, tz)
        return self._instant[key]

    def _fires(self, day: date, at: int, unit: str, tz: str) -> bool:
        zone = ZoneInfo(tz)
        representative = datetime.combine(day, time(12), zone)
        return self.instant(representative, at, unit, tz)[0] <= self.now

    def due_bound(self, at: int, unit: str, tz: str) -> tuple[datetime, bool]:
        """``(B, provisional)``: instances with ``due_at < B`` have this rung due now."""
        if (at, unit, tz) not in self._bound:
            self._bound[(at, unit, tz)] = self._search(at, unit, tz)
        return self._bound[(at, unit, tz)]

    def _search(self, at: int, unit: str, tz: str) -> tuple[datetime, bool]:
        zone = ZoneInfo(tz)
        today = self.now.astimezone(zone).date()
        span = timedelta(days=3 * abs(at) + 40)
        lo, hi = today - span, today + span
        while not self._fires(lo, at, unit, tz):
            lo -= span
        while self._fires(hi, at, unit, tz):
            hi += span
        while (hi - lo).days > 1:  # invariant: fires(lo), not fires(hi)
            mid = lo + timedelta(days=(hi - lo).days // 2)
            if self._fires(mid, at, unit, tz):
                lo = mid
            else:
                hi = mid
        provisional = self.instant(datetime.combine(lo, time(12), zone), at, unit, tz)[1]
        return datetime.combine(hi, time(0), zone).astimezone(self.now.tzinfo), provisional


# ------------------------------------------------------------------------------- sweep


def sweep(
    db: WritableDatabase,
    now: datetime,
    *,
    unit_path_prefix: str | None = None,
    batch: int = 500,
    holder: str | None = None,
    lease_ttl: timedelta = lease.DEFAULT_TTL,
) -> SweepReport:
    """Fire every rung and count rule due at ``now``; see the module docstring.

    ``unit_path_prefix`` restricts the sweep to one partition (see :func:`partitions`);
    by default every partition is swept in turn.  Commits once per batch.
    """
    holder = holder or lease.new_holder()
    report = SweepReport(now)
    with db.reading() as session:
        parts = [unit_path_prefix] if unit_path_prefix else partitions(session)
        cal = WorkCalendar.from_session(session)
        versions = [
            (dv.id, definition_of(dv))
            for dv in session.scalars(select(DefinitionVersion).order_by(DefinitionVersion.id))
        ]
    bounds = _Bounds(cal, now)
    for part in parts:
        _sweep_partition(db, now, part, versions, bounds, batch, holder, lease_ttl, report)
    return report


@dataclass
class _Partition:
    """One partition being swept, and whether this sweep holds its SQLite lease."""

    name: str
    holder: str
    ttl: timedelta
    on_sqlite: bool
    leased: bool = False

    @property
    def lock(self) -> str:
        return f"sweep:{self.name}"

    def hold(self, session: Session) -> str | None:
        """Inside a write transaction: make sure we may work; else say who holds it."""
        if not self.on_sqlite:
            if lease.try_xact_lock(session, self.lock):
                return None
            return "another sweep holds its advisory lock"
        if lease.acquire(session, self.lock, self.holder, self.ttl):
            self.leased = True
            return None
        return f"lease held by {lease.holder_of(session, self.lock)}"


def _sweep_partition(
    db: WritableDatabase,
    now: datetime,
    part: str,
    versions: Sequence[tuple[int, Definition]],
    bounds: _Bounds,
    batch: int,
    holder: str,
    ttl: timedelta,
    report: SweepReport,
) -> None:
    p = _Partition(part, holder, ttl, db.engine.dialect.name == "sqlite")
    with db.reading() as session:
        # the earliest running deadline per (definition version, clock) of this partition:
        # (version, clock) pairs without running instances, and rungs whose bound lies
        # before every running deadline, need no query at all
        earliest = {
            (r.definition_id, r.clock): r.first
            for r in session.execute(
                select(
                    Issue.definition_id,
                    ClockInstance.clock,
                    func.min(ClockInstance.due_at).label("first"),
                )
                .join(Issue, Issue.id == ClockInstance.issue_id)
                .where(ClockInstance.status == "running", _partition_filter(part))
                .group_by(Issue.definition_id, ClockInstance.clock)
            )
        }
    try:
        for dv_id, d in versions:
            for clock in d.clocks.values():
                first = earliest.get((dv_id, clock.name))
                if first is None:
                    continue
                specs = [
                    _Spec.of_rung(r) for r in clock.ladder if _may_be_due(r, first, now, bounds, d)
                ]
                specs += [_Spec.of_rule(r) for r in clock.count_rules]
                for spec in specs:
                    if not _drain(db, now, p, dv_id, d, clock, spec, bounds, batch, report):
                        return
        report.partitions.append(part)
    finally:
        if p.leased:
            with db.writing() as session:
                lease.release(session, p.lock, holder)


def _may_be_due(rung: Rung, first: datetime, now: datetime, bounds: _Bounds, d: Definition) -> bool:
    """Whether any running deadline (the earliest is ``first``) can have ``rung`` due."""
    if first.tzinfo is None:  # SQLite aggregates come back without the type's processing
        first = first.replace(tzinfo=now.tzinfo)
    if rung.at == 0:
        return first <= now
    return first < bounds.due_bound(rung.at, rung.unit, d.timezone)[0]


def _drain(
    db: WritableDatabase,
    now: datetime,
    p: _Partition,
    dv_id: int,
    d: Definition,
    clock: Clock,
    spec: _Spec,
    bounds: _Bounds,
    batch: int,
    report: SweepReport,
) -> bool:
    """Fire ``spec`` batch by batch until nothing is due; False when the partition is busy.

    A cheap read (``LIMIT 1``) comes first, so a sweep with nothing to do never opens a
    write transaction (no lock, no fsync); the authoritative selection is repeated inside
    the write transaction.
    """
    key = f"{d.name}/{clock.name}/{spec.name}"
    bound: datetime | None = None
    if spec.rung is not None and spec.rung.at != 0:
        bound, provisional = bounds.due_bound(spec.rung.at, spec.rung.unit, d.timezone)
        if provisional:
            report.rung(key).provisional = True

    def due(session: Session, limit: int) -> list[dict[str, Any]]:
        if spec.rung is not None:
            return _due_rung_rows(session, p.name, dv_id, d, clock, spec.rung, now, bound, limit)
        assert spec.rule is not None
        return _due_rule_rows(session, p.name, dv_id, d, clock, spec.rule, limit)

    while True:
        with db.reading() as session:
            if not due(session, 1):
                return True
        with db.writing() as session:
            busy = p.hold(session)
            if busy:
                report.skipped.append((p.name, busy))
                return False
            rows = due(session, batch)
            if not rows:
                return True
            report.batches += 1
            _fire(session, d, clock, spec, rows, now, bounds, report.rung(key))
        if len(rows) < batch:
            return True


def _live_issue_filter(part: str, dv_id: int, d: Definition) -> Any:
    """Issues of this definition version and partition that may still escalate."""
    final = sorted(name for name, st in d.states.items() if st.final)
    conds: list[Any] = [Issue.definition_id == dv_id, _partition_filter(part)]
    if final:
        conds.append(Issue.state.not_in(final))
    return and_(*conds)


def _due_rung_rows(
    session: Session,
    part: str,
    dv_id: int,
    d: Definition,
    clock: Clock,
    rung: Rung,
    now: datetime,
    bound: datetime | None,
    batch: int,
) -> list[dict[str, Any]]:
    """Running instances of ``clock`` whose ``rung`` is due and has no escalation yet."""
    ci = ClockInstance
    due = ci.due_at <= now if bound is None else ci.due_at < bound
    fired = exists().where(
        Escalation.issue_id == ci.issue_id,
        Escalation.clock_instance_id == ci.id,
        Escalation.rung == rung.name,
    )
    q = (
        select(ci.id, ci.issue_id, ci.due_at)
        .join(Issue, Issue.id == ci.issue_id)
        .where(
            ci.clock == clock.name,
            ci.status == "running",
            due,
            ~fired,
            _live_issue_filter(part, dv_id, d),
        )
        .order_by(ci.id)
        .limit(batch)
    )
    return [
        {"issue_id": r.issue_id, "clock_instance_id": r.id, "clock_due": r.due_at}
        for r in session.execute(q)
    ]


def _due_rule_rows(
    session: Session,
    part: str,
    dv_id: int,
    d: Definition,
    clock: Clock,
    rule: CountRule,
    batch: int,
) -> list[dict[str, Any]]:
    """Issues on which ``rule``'s rung has fired ``count`` times (consecutively if asked)."""
    e, ci = Escalation, ClockInstance
    e2 = aliased(Escalation)
    done = exists().where(e2.issue_id == e.issue_id, e2.clock == clock.name, e2.rung == rule.name)
    base = [e.clock == clock.name, e.rung == rule.rung, ~done, _live_issue_filter(part, dv_id, d)]
    q = select(
        e.issue_id, func.max(e.clock_instance_id).label("cid"), func.max(e.due_at).label("due")
    ).join(Issue, Issue.id == e.issue_id)
    if rule.consecutive:
        # generations of a clock are consecutive integers per issue: the newest generation
        # that fired the rung, and the N-1 before it, must all have fired it
        ci2, e3 = aliased(ClockInstance), aliased(Escalation)
        newest = (
            select(e3.issue_id.label("issue_id"), func.max(ci2.generation).label("g"))
            .join(ci2, ci2.id == e3.clock_instance_id)
            .where(e3.clock == clock.name, e3.rung == rule.rung)
            .group_by(e3.issue_id)
            .subquery()
        )
        q = (
            q.join(ci, ci.id == e.clock_instance_id)
            .join(newest, newest.c.issue_id == e.issue_id)
            .where(*base, ci.generation > newest.c.g - rule.count)
        )
    else:
        q = q.where(*base)
    q = q.group_by(e.issue_id).having(func.count() >= rule.count).order_by(e.issue_id).limit(batch)
    return [
        {"issue_id": r.issue_id, "clock_instance_id": r.cid, "clock_due": r.due}
        for r in session.execute(q)
    ]


def _insert_escalations(session: Session, rows: list[dict[str, Any]]) -> list[Any]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: only rows this transaction created."""
    dialect = session.get_bind().dialect.name
    ins: Any
    if dialect == "postgresql":
        ins = postgresql.insert(Escalation)
    elif dialect == "sqlite":
        ins = sqlite.insert(Escalation)
    else:  # pragma: no cover - Rectiflow runs on SQLite and PostgreSQL only
        ins = insert(Escalation)
    stmt = ins.values(rows)
    if hasattr(stmt, "on_conflict_do_nothing"):
        stmt = stmt.on_conflict_do_nothing(index_elements=["issue_id", "clock_instance_id", "rung"])
    stmt = stmt.returning(
        Escalation.id, Escalation.issue_id, Escalation.clock_instance_id, Escalation.due_at
    )
    return list(session.execute(stmt))


class _Recipients:
    """``outbox.resolve`` with a per-batch cache (recipients depend on the unit, not the issue)."""

    PER_ISSUE = {"requester", "actor"}

    def __init__(self, session: Session) -> None:
        self.session = session
        self.cache: dict[tuple[Any, ...], list[int]] = {}

    def __call__(self, issue: Issue, names: Iterable[str]) -> list[int]:
        names = tuple(sorted(names))
        if self.PER_ISSUE & set(names):
            return outbox.resolve(self.session, issue, names)
        key = (issue.unit_id, issue.unit_path, issue.restricted, issue.checker_id, names)
        if key not in self.cache:
            self.cache[key] = outbox.resolve(self.session, issue, names)
        return self.cache[key]


def _fire(
    session: Session,
    d: Definition,
    clock: Clock,
    spec: _Spec,
    rows: list[dict[str, Any]],
    now: datetime,
    bounds: _Bounds,
    outcome: RungOutcome,
) -> None:
    """Record ``spec`` for ``rows`` with its events, letters, outbox rows and warning level."""
    for row in rows:
        if spec.rung is not None:
            instant, _prov = bounds.instant(
                row["clock_due"], spec.rung.at, spec.rung.unit, d.timezone
            )
        else:
            instant = row["clock_due"]
        row["rung_at"] = instant
    values = [
        {
            "issue_id": r["issue_id"],
            "clock_instance_id": r["clock_instance_id"],
            "clock": clock.name,
            "rung": spec.name,
            "level": spec.level,
            "due_at": r["rung_at"],
            "fired_at": now,
        }
        for r in rows
    ]
    inserted = _insert_escalations(session, values)
    if not inserted:
        return
    by_issue = {r["issue_id"]: r for r in rows}
    issues = {
        i.id: i
        for i in session.scalars(select(Issue).where(Issue.id.in_([r.issue_id for r in inserted])))
    }
    # the warning level: raise (never lower) and bump the version so open forms get a 409
    raised: set[int] = set()
    if spec.level in CARD_LEVELS:
        lower = [lvl for lvl, rank in LEVEL_RANK.items() if rank < LEVEL_RANK[spec.level]]
        raised = {
            i.id
            for i in issues.values()
            if LEVEL_RANK.get(i.warning_level, 0) < LEVEL_RANK[spec.level]
        }
        if raised:
            session.execute(
                update(Issue)
                .where(Issue.id.in_(sorted(raised)), Issue.warning_level.in_(lower))
                .values(warning_level=spec.level, version=Issue.version + 1)
                .execution_options(synchronize_session=False)
            )
    outcome.raised += len(raised)
    # letters first, so the event can name the letter's number
    letter_of: dict[int, letters.Letter] = {}
    if spec.letter:
        for esc in inserted:
            issue = issues[esc.issue_id]
            new_final = None
            if spec.letter == "admonition":
                new_final = _admonition_final_date(bounds, now, d.timezone)
            letter_of[esc.id] = letters.issue_letter(
                session,
                issue,
                spec.letter,
                now,
                tz=d.timezone,
                due_at=by_issue[esc.issue_id]["clock_due"],
                rung_label=spec.label,
                new_final_date=new_final,
            )
        session.flush()
        session.execute(
            update(Escalation),
            [{"id": eid, "letter_id": letter.id} for eid, letter in letter_of.items()],
        )
        outcome.letters += len(letter_of)
    chain = audit.Chain(session)
    events = {}
    for esc in inserted:
        issue = issues[esc.issue_id]
        rung_at = by_issue[esc.issue_id]["rung_at"]
        letter = letter_of.get(esc.id)
        data: dict[str, Any] = {
            "kind": spec.kind,
            "clock": clock.name,
            "rung": spec.name,
            "level": spec.level,
            "escalation_id": esc.id,
            "clock_instance_id": esc.clock_instance_id,
            "due_at": by_issue[esc.issue_id]["clock_due"].isoformat(),
            "rung_at": rung_at.isoformat(),
            "v": issue.version + (1 if esc.issue_id in raised else 0),
        }
        if now - rung_at > LATE_AFTER:
            data["late"] = True
        if esc.issue_id in raised:
            data["changes"] = {"warning_level": [issue.warning_level, spec.level]}
        if letter is not None:
            data["letter"] = letter.number
            if letter.new_final_date:
                data["new_final_date"] = letter.new_final_date.isoformat()
        events[esc.id] = chain.append(
            issue_id=issue.id,
            at=now,
            actor_id=None,
            actor_role="system",
            actor_unit_id=None,
            action=f"escalate:{spec.name}",
            from_state=issue.state,
            to_state=issue.state,
            definition_version=d.version,
            data=data,
        )
    session.flush()
    recipients = _Recipients(session)
    for esc in inserted:
        issue = issues[esc.issue_id]
        payload = {
            "issue_id": issue.id,
            "number": issue.number,
            "escalation_id": esc.id,
            "rung": spec.name,
            "level": spec.level,
        }
        outcome.notifications += outbox.enqueue(
            session,
            issue,
            recipients(issue, spec.notify),
            "escalation",
            spec.label,
            now,
            events[esc.id],
            key=f"esc{esc.id}",
            payload=payload,
        )
    outcome.fired += len(inserted)
    session.flush()


def _admonition_final_date(bounds: _Bounds, now: datetime, tz: str) -> date:
    """The 告诫书's new final date: ADMONITION_WORKING_DAYS working days after issuing."""
    day, _provisional = bounds.cal.add(
        now.astimezone(ZoneInfo(tz)).date(), letters.ADMONITION_WORKING_DAYS, "working_days"
    )
    return day


# ------------------------------------------------------------------------------- reading


def escalations_of(session: Session, issue_id: int) -> list[Escalation]:
    """The escalations of one issue, oldest first (for the issue page)."""
    return list(
        session.scalars(
            select(Escalation).where(Escalation.issue_id == issue_id).order_by(Escalation.id)
        )
    )


SweepFn = Callable[..., SweepReport]
