"""The escalation sweep: every ladder rung and count rule now due fires exactly once.

Owns :func:`sweep` and its report.  It is the only writer of ``escalation`` rows and the
only code that raises ``issue.warning_level`` outside a user action.  Must not import
flask or ``notifications`` (the outbox rows it writes are delivered by ``notifications``;
``web/cli/clock.py`` composes the two for the embedded clock, the Prefect flows for the
distributed one).

How it finds due rungs without looping over open issues
    For each (definition version, clock, rung) the rung's offset is turned into one bound
    on ``clock_instance.due_at``.  ``calendar.rung_instant`` maps a due date to the rung's
    instant and is monotonic in the due date, so the due dates whose rung instant is
    ``<= now`` are exactly those up to some date D*; D* is found by a binary search over a
    few dates (a handful of calendar look-ups per rung, whatever the number of issues;
    kept per calendar snapshot and local day), and the rung fires for the running
    instances with ``due_at < start of (D* + 1)`` — for ``at: 0``, ``due_at <= now``.

    First, one index probe asks whether any deadline is to be looked at now (see "Idle
    sweeps"); when none is, the sweep stops there: no write transaction, no lock.  Then
    one read statement (:class:`_Probe`) says which (version, clock, rung or rule) have
    anything due: a single range scan of the deadlines looked at, each checked against
    its escalation rows on the unique key, plus one ``GROUP BY … HAVING`` per count rule
    (``2 yellow → 书面督办``, ``3 consecutive red → 约谈``) over the issues of those
    deadlines.  Then, for each due rung in ladder order, the running instances looked at
    and past its bound (issue not in a final state) are walked in keyset order
    (``clock_instance.id > :last ORDER BY id LIMIT batch``), the ones already fired
    dropped by one ``IN`` probe of the unique key per page; a batch feeds ``INSERT … ON
    CONFLICT DO NOTHING RETURNING``; only the rows this transaction really inserted get
    their audit event, letter and outbox rows, so two sweeps that overlap can never both notify.  A count
    rule is drained after its clock's rungs when the probe found it due or its rung fired
    in this sweep.

Idle sweeps: ``clock_instance.check_at``
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

Batches
    A batch sends a constant number of statements whatever its size (about 16 with
    letters): the issues in one read, recipients for all of them from one membership read
    (:class:`outbox.Audience`: one membership read per batch), letters numbered from one
    count and inserted together (``letters.issue_letters``), events linked by
    ``audit.Chain`` and inserted together, outbox rows as one executemany.

Transactions
    Each batch is one write transaction (``BEGIN IMMEDIATE`` on SQLite) holding the
    escalation rows, their audit events, their letters, their outbox rows and the warning
    level: a kill -9 at any point loses or duplicates nothing, and the next run carries on.
    Batches keep SQLite's write lock short.

Two sweeps at once
    The work is split into partitions (one per city subtree, plus each root unit's own
    issues); a batch may span partitions.  In each batch transaction the partitions of
    its rows are claimed: ``pg_try_advisory_xact_lock`` on each (PostgreSQL, one
    statement), or on SQLite — where the write lock already excludes other writers for the
    transaction — a check that no other live sweep keeps a ``lease`` on them; a sweep
    whose batch was full (more work follows in later transactions) leases its partitions
    until it ends.  A sweep that finds a partition busy skips it for the rest of the run
    and says so.  The unique key is the last line of defence.

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
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, reduce
from typing import Any, Protocol, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Select,
    Table,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.orm import Session, aliased

from workflow import audit, outbox
from workflow.clock import letters
from workflow.clock.calendar import WorkCalendar, rung_instant
from workflow.db import among, insert_returning, lease
from workflow.definition import Clock, CountRule, Definition, Rung
from workflow.definition.registry import definition_of
from workflow.models import (
    ClockInstance,
    DefinitionVersion,
    Escalation,
    Issue,
    Lease,
    Unit,
)
from workflow.org.scope import path_range

log = logging.getLogger(__name__)

LEVEL_RANK = {"green": 0, "reminder": 0, "yellow": 1, "red": 2}
CARD_LEVELS = ("yellow", "red")
LATE_AFTER = timedelta(days=1)
ESCALATION_TABLE = cast(Table, Escalation.__table__)
CLOCK_TABLE = cast(Table, ClockInstance.__table__)


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


_BOUND_CACHE: dict[tuple[Any, ...], tuple[datetime, bool]] = {}


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
            # B moves only at local midnight: kept per calendar snapshot and local day, so
            # sweeps every few minutes search once a day
            today = self.now.astimezone(ZoneInfo(tz)).date()
            key = (self.cal, today, self.now.tzinfo, at, unit, tz)
            found = _BOUND_CACHE.get(key)
            if found is None:
                if len(_BOUND_CACHE) > 1024:
                    _BOUND_CACHE.clear()
                found = _BOUND_CACHE[key] = self._search(at, unit, tz)
            self._bound[(at, unit, tz)] = found
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


# ------------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class _Work:
    """One rung or count rule of one clock of one definition version, with its bound."""

    dv_id: int
    d: Definition
    clock: Clock
    spec: _Spec
    bound: datetime | None  # rungs fire for due_at < bound; None: at 0 (due_at <= now), rules
    provisional: bool = False

    @property
    def key(self) -> str:
        return f"{self.d.name}/{self.clock.name}/{self.spec.name}"

    @property
    def id(self) -> tuple[int, str, str]:
        return (self.dv_id, self.clock.name, self.spec.name)

    @cached_property
    def finals(self) -> tuple[str, ...]:
        return tuple(sorted(name for name, st in self.d.states.items() if st.final))


def _plan(versions: Sequence[tuple[int, Definition]], bounds: _Bounds) -> list[_Work]:
    """Everything that can fire, per version and clock: the ladder in order, then the rules."""
    works: list[_Work] = []
    for dv_id, d in versions:
        for clock in d.clocks.values():
            for r in clock.ladder:
                bound, provisional = (
                    (None, False) if r.at == 0 else bounds.due_bound(r.at, r.unit, d.timezone)
                )
                works.append(_Work(dv_id, d, clock, _Spec.of_rung(r), bound, provisional))
            works += [_Work(dv_id, d, clock, _Spec.of_rule(r), None) for r in clock.count_rules]
    return works


# parsed definitions by version hash: a version's text never changes, so a sweep reads
# only the (id, version) pairs, and a version's (large) source once per process
_DEFINITIONS: dict[str, Definition] = {}


def _versions(session: Session) -> list[tuple[int, Definition]]:
    """Every stored definition version, parsed (one small query when all are known)."""
    rows = session.execute(
        select(DefinitionVersion.id, DefinitionVersion.version).order_by(DefinitionVersion.id)
    ).all()
    missing = [dv_id for dv_id, version in rows if version not in _DEFINITIONS]
    if missing:
        for dv in session.scalars(
            select(DefinitionVersion).where(DefinitionVersion.id.in_(missing))
        ):
            _DEFINITIONS[dv.version] = definition_of(dv)
    return [(dv_id, _DEFINITIONS[version]) for dv_id, version in rows]


# ------------------------------------------------------------------------------- due rows


# (issue_id, cid, due, unit_path, dv): a rung's running instance, or a rule's newest one
_DueSelect = Select[int, int, datetime, str, int]


def _scope(prefix: str | None, busy: Iterable[str]) -> list[Any]:
    """The partition the sweep is restricted to, minus the partitions found busy."""
    conds = [_partition_filter(prefix)] if prefix else []
    return conds + [~_partition_filter(p) for p in sorted(busy)]


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
    has drained the rules (see "Idle sweeps").  Their escalation rows are counted first;
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


class _Probe:
    """The one statement that says what is due, built once per set of definition versions.

    Its rows are ``(version, clock, due, fired)``.  Rungs: *one* range scan of the running
    deadlines looked at (``check_at <= now``) gives, per deadline, two masks with one bit per
    distinct rung of its clock (in any version): ``due`` (bound passed) and ``fired``
    (escalation row present, one read of the unique key's prefix); only deadlines with a
    due bit not fired are joined to their issue (version, final state, partition), so an
    idle sweep reads no issue at all.  Count rules: one ``GROUP BY … HAVING`` each, its
    row tagged ``#<n>`` in the clock column.  The bounds are parameters, so the statement
    is built once per process and set of versions; each sweep binds today's values.
    """

    MAX_BITS = 62  # rung variants per clock that fit a 64-bit mask

    def __init__(self, works: Sequence[_Work], prefix: str | None) -> None:
        self.bits: dict[tuple[str, str, str], int] = {}  # (clock, rung, bound param) → bit
        self.of: dict[tuple[int, str], list[tuple[str, int]]] = {}  # (dv, clock) → rung bits
        self.rules: list[_Work] = []  # rule members, by their clock column "#<n>"
        self.params: dict[tuple[int, str, str], str] = {}  # (at, unit, tz) → bound param
        self.always: set[tuple[int, str, str]] = set()  # rungs past MAX_BITS: always drained
        rungs = [w for w in works if w.spec.rung is not None]
        rules: dict[tuple[Any, ...], list[_Work]] = {}
        for w in works:
            if w.spec.rule is not None:
                r = w.spec.rule
                key = (w.clock.name, w.finals, w.spec.name, r.rung, r.count, r.consecutive)
                rules.setdefault(key, []).append(w)
        scope = _scope(prefix, ())
        members = [self._scan(rungs, scope)] if rungs else []
        members += [self._rule(ws, scope) for ws in rules.values()]
        self.statement: Any = members[0] if len(members) == 1 else union_all(*members)
        self.empty = not members

    def _param(self, w: _Work) -> str:
        """The bound parameter of rung ``w`` (``now`` for ``at: 0``: due_at <= now)."""
        rung = w.spec.rung
        assert rung is not None
        if rung.at == 0:
            return "now"
        key = (rung.at, rung.unit, w.d.timezone)
        return self.params.setdefault(key, f"b{len(self.params)}")

    def _scan(self, rungs: list[_Work], scope: list[Any]) -> Select[Any]:
        """Every rung of every clock from one range scan of the running deadlines.

        Per deadline, ``due`` has a bit for each rung of its clock whose bound has passed
        and ``fired`` one for each rung with an escalation row (one read of the unique
        key's prefix); only deadlines with a due bit not fired are joined to their issue.
        """
        ci, e = ClockInstance, Escalation
        due_terms: dict[str, list[Any]] = {}  # clock → one term per rung variant
        fired_bits: dict[tuple[str, str], int] = {}  # (clock, rung) → bits of its variants
        for w in rungs:
            clock, param = w.clock.name, self._param(w)
            key = (clock, w.spec.name, param)
            if key not in self.bits and len(due_terms.get(clock, ())) >= self.MAX_BITS:
                self.always.add(w.id)  # no bit left: the drain's own query decides
                continue
            if key not in self.bits:
                bit = self.bits[key] = len(due_terms.setdefault(clock, []))
                due_terms[clock].append(case((_passed(ci, param), 1 << bit), else_=0))
                fired_bits[(clock, w.spec.name)] = fired_bits.get((clock, w.spec.name), 0) | (
                    1 << bit
                )
            self.of.setdefault((w.dv_id, clock), []).append((w.spec.name, self.bits[key]))
        due = case(
            *[(ci.clock == c, reduce(operator.add, t)) for c, t in due_terms.items()], else_=0
        )
        fired = (
            select(
                func.coalesce(
                    func.sum(
                        case(
                            *[
                                (and_(e.clock == c, e.rung == r), bits)
                                for (c, r), bits in fired_bits.items()
                            ],
                            else_=0,
                        )
                    ),
                    0,
                )
            )
            .where(e.issue_id == ci.issue_id, e.clock_instance_id == ci.id)
            .scalar_subquery()
        )
        scan = (
            select(ci.issue_id, ci.clock, due.label("due"), fired.label("fired"))
            .where(ci.status == "running", _looked_at(ci))
            .subquery()
        )
        finals: dict[tuple[str, ...], set[int]] = {}
        for w in rungs:
            finals.setdefault(w.finals, set()).add(w.dv_id)
        live = or_(*[and_(*_live(sorted(dvs), f)) for f, dvs in finals.items()])
        pending = scan.c.due.op("&")(scan.c.fired) != scan.c.due
        return (
            select(Issue.definition_id.label("dv"), scan.c.clock, scan.c.due, scan.c.fired)
            .join(Issue, Issue.id == scan.c.issue_id)
            .where(scan.c.due > 0, pending, live, *scope)
            .distinct()
        )

    def _rule(self, works: list[_Work], scope: list[Any]) -> Select[Any]:
        """The versions on which one count rule has an issue due."""
        w0 = works[0]
        assert w0.spec.rule is not None
        now = bindparam("now", type_=ClockInstance.check_at.type)
        q = _rule_query(w0, w0.spec.rule, sorted({w.dv_id for w in works}), scope, now)
        sub = q.order_by(None).subquery()
        tag = f"#{len(self.rules)}"
        self.rules.append(w0)
        return select(
            sub.c.dv,
            literal(tag).label("clock"),
            literal(1).label("due"),
            literal(0).label("fired"),
        ).distinct()

    def due(self, session: Session, bounds: _Bounds, now: datetime) -> set[tuple[int, str, str]]:
        """``(version, clock, spec name)`` of every work with something due at ``now``."""
        if self.empty:
            return set()
        params: dict[str, Any] = {
            name: bounds.due_bound(at, unit, tz)[0] for (at, unit, tz), name in self.params.items()
        }
        params["now"] = now
        rows: dict[tuple[int, str], int] = {}
        found = set(self.always)
        for dv, clock, due, fired in session.execute(self.statement, params):
            if clock.startswith("#"):
                w = self.rules[int(clock[1:])]
                found.add((dv, w.clock.name, w.spec.name))
            else:
                rows[(dv, clock)] = rows.get((dv, clock), 0) | (due & ~fired)
        for (dv, clock), mask in rows.items():
            for rung, bit in self.of.get((dv, clock), ()):
                if mask >> bit & 1:
                    found.add((dv, clock, rung))
        return found


def _anything_looked_at(session: Session, now: datetime, prefix: str | None) -> bool:
    """Whether any deadline (of the partition) has ``check_at <= now``: one index probe.

    ``ORDER BY check_at LIMIT 1`` makes every planner walk the index from its low end,
    whatever its statistics say, and stop at the first row or at ``now``.
    """
    ci = ClockInstance
    q = select(ci.id).where(ci.check_at <= now)
    if prefix:
        q = q.join(Issue, Issue.id == ci.issue_id).where(_partition_filter(prefix))
    return session.scalar(q.order_by(ci.check_at).limit(1)) is not None


# built probes by (versions, partition); a handful per process
_PROBES: dict[tuple[Any, ...], _Probe] = {}


def _probe(
    versions: Sequence[tuple[int, Definition]], works: Sequence[_Work], prefix: str | None
) -> _Probe:
    """The probe for these versions (built on first use)."""
    key = (tuple((dv_id, d.version) for dv_id, d in versions), prefix)
    probe = _PROBES.get(key)
    if probe is None:
        if len(_PROBES) > 64:
            _PROBES.clear()
        probe = _PROBES[key] = _Probe(works, prefix)
    return probe


def _looked_at(ci: Any) -> Any:
    """The deadline is one the sweep looks at now (``check_at <= :now``)."""
    return ci.check_at <= bindparam("now", type_=ci.check_at.type)


def _passed(ci: Any, param: str) -> Any:
    """The deadline is past the bound parameter ``param`` (``now``: due_at <= now)."""
    bound = bindparam(param, type_=ci.due_at.type)
    return ci.due_at <= bound if param == "now" else ci.due_at < bound


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


def _partition_of(unit_path: str) -> str:
    """The partition (see :func:`partitions`) of an issue of the unit at ``unit_path``."""
    segments = unit_path.strip("/").split("/")
    return f"={unit_path}" if len(segments) == 1 else f"/{segments[0]}/{segments[1]}/"


def _lock_name(partition: str) -> str:
    return f"sweep:{partition}"


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


def _try_xact_locks(session: Session, names: list[str]) -> dict[str, bool]:
    """``lease.try_xact_lock`` for several partitions in one statement (PostgreSQL)."""
    keys = {lease.session_key(session, name): name for name in names}
    got = session.execute(
        text(
            "SELECT t.k, pg_try_advisory_xact_lock(t.k) "
            "FROM unnest(CAST(:keys AS bigint[])) AS t(k)"
        ),
        {"keys": list(keys)},
    ).all()
    return {keys[k].removeprefix("sweep:"): bool(ok) for k, ok in got}


# ------------------------------------------------------------------------------- schedule


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
    e = Escalation
    fired: dict[int, set[str]] = {}
    for cid, rung in session.execute(
        select(e.clock_instance_id, e.rung).where(
            among(session, e.issue_id, sorted({r.issue_id for r in page})),
            among(session, e.clock_instance_id, [r.id for r in page]),
        )
    ):
        fired.setdefault(cid, set()).add(rung)
    groups: dict[tuple[datetime | None, str, datetime], list[int]] = {}
    for r in page:
        d = definitions.get(r.dv)
        if d is None:  # a version stored after this sweep read them: the next sweep
            continue
        due = _aware(r.due_at)
        nxt = next_check(d, r.clock, r.status, r.state, due, fired.get(r.id, set()), bounds)
        groups.setdefault((nxt, r.status, due), []).append(r.id)
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


# ------------------------------------------------------------------------------- firing


def _insert_escalations(session: Session, rows: list[dict[str, Any]]) -> list[Any]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: only rows this transaction created."""
    e = Escalation
    inserted = insert_returning(
        session,
        ESCALATION_TABLE,
        rows,
        (e.id, e.issue_id, e.clock_instance_id, e.due_at),
        skip_conflicts_on=("issue_id", "clock_instance_id", "rung"),
    )
    return sorted(inserted, key=lambda esc: esc.id)


def _fire(
    session: Session,
    w: _Work,
    rows: list[dict[str, Any]],
    now: datetime,
    bounds: _Bounds,
    outcome: RungOutcome,
) -> None:
    """Record ``w`` for ``rows`` with its events, letters, outbox rows and warning level.

    A constant number of statements per batch, whatever its size: each kind of row goes
    in with one statement.
    """
    for row in rows:
        row["rung_at"] = (
            bounds.instant(row["clock_due"], w.spec.rung.at, w.spec.rung.unit, w.d.timezone)[0]
            if w.spec.rung is not None
            else row["clock_due"]
        )
    inserted = _insert_escalations(
        session,
        [
            {
                "issue_id": r["issue_id"],
                "clock_instance_id": r["clock_instance_id"],
                "clock": w.clock.name,
                "rung": w.spec.name,
                "level": w.spec.level,
                "due_at": r["rung_at"],
                "fired_at": now,
            }
            for r in rows
        ],
    )
    if not inserted:
        return
    by_issue = {r["issue_id"]: r for r in rows}
    issues = {
        i.id: i
        for i in session.scalars(
            select(Issue).where(among(session, Issue.id, [e.issue_id for e in inserted]))
        )
    }
    raised = _raise_level(session, w.spec, issues.values())
    # the chain's lock (PostgreSQL) comes first: it also serialises the letters' numbering
    # with every other sweep, so the count the numbers start from is never stale
    chain = audit.Chain(session)
    letter_of = _write_letters(session, w, inserted, issues, by_issue, now, bounds)
    fired = _Fired(w, inserted, issues, by_issue, raised, letter_of, now)
    event_of = _write_events(session, chain, fired)
    outcome.notifications += _write_outbox(session, w.spec, inserted, issues, event_of, now)
    outcome.raised += len(raised)
    outcome.letters += len(letter_of)
    outcome.fired += len(inserted)


def _raise_level(session: Session, spec: _Spec, issues: Iterable[Issue]) -> set[int]:
    """Raise (never lower) the warning level and bump the version so open forms get a 409."""
    if spec.level not in CARD_LEVELS:
        return set()
    rank = LEVEL_RANK[spec.level]
    raised = {i.id for i in issues if LEVEL_RANK.get(i.warning_level, 0) < rank}
    if raised:
        lower = [lvl for lvl, r in LEVEL_RANK.items() if r < rank]
        session.execute(
            update(Issue)
            .where(among(session, Issue.id, sorted(raised)), Issue.warning_level.in_(lower))
            .values(warning_level=spec.level, version=Issue.version + 1)
            .execution_options(synchronize_session=False)
        )
    return raised


def _write_letters(
    session: Session,
    w: _Work,
    inserted: list[Any],
    issues: dict[int, Issue],
    by_issue: dict[int, dict[str, Any]],
    now: datetime,
    bounds: _Bounds,
) -> dict[int, letters.Issued]:
    """One numbered letter per escalation (if the rung issues one), linked to it."""
    kind = w.spec.letter
    if not kind:
        return {}
    new_final = _admonition_final_date(bounds, now, w.d.timezone) if kind == "admonition" else None
    issued = letters.issue_letters(
        session,
        [
            letters.LetterRequest(issues[e.issue_id], by_issue[e.issue_id]["clock_due"])
            for e in inserted
        ],
        kind,
        now,
        tz=w.d.timezone,
        rung_label=w.spec.label,
        new_final_date=new_final,
    )
    esc = ESCALATION_TABLE
    session.execute(
        update(esc).where(esc.c.id == bindparam("eid")).values(letter_id=bindparam("lid")),
        [{"eid": e.id, "lid": letter.id} for e, letter in zip(inserted, issued, strict=True)],
    )
    return {e.id: letter for e, letter in zip(inserted, issued, strict=True)}


@dataclass
class _Fired:
    """What one batch recorded, as the event texts need it."""

    w: _Work
    inserted: list[Any]
    issues: dict[int, Issue]
    by_issue: dict[int, dict[str, Any]]
    raised: set[int]
    letter_of: dict[int, letters.Issued]
    now: datetime

    def event_fields(self, esc: Any) -> dict[str, Any]:
        """The audit event of escalation ``esc`` (fields as on :class:`Event`)."""
        w, issue, row = self.w, self.issues[esc.issue_id], self.by_issue[esc.issue_id]
        raised = esc.issue_id in self.raised
        data: dict[str, Any] = {
            "kind": w.spec.kind,
            "clock": w.clock.name,
            "rung": w.spec.name,
            "level": w.spec.level,
            "escalation_id": esc.id,
            "clock_instance_id": esc.clock_instance_id,
            "due_at": row["clock_due"].isoformat(),
            "rung_at": row["rung_at"].isoformat(),
            "v": issue.version + (1 if raised else 0),
        }
        if self.now - row["rung_at"] > LATE_AFTER:
            data["late"] = True
        if raised:
            data["changes"] = {"warning_level": [issue.warning_level, w.spec.level]}
        letter = self.letter_of.get(esc.id)
        if letter is not None:
            data["letter"] = letter.number
            if letter.new_final_date:
                data["new_final_date"] = letter.new_final_date.isoformat()
        return {
            "issue_id": issue.id,
            "at": self.now,
            "actor_id": None,
            "actor_role": "system",
            "actor_unit_id": None,
            "action": f"escalate:{w.spec.name}",
            "from_state": issue.state,
            "to_state": issue.state,
            "definition_version": w.d.version,
            "data": data,
        }


def _write_events(session: Session, chain: audit.Chain, fired: _Fired) -> dict[int, int]:
    """One hash-chained event per escalation, in one INSERT; escalation id → event id."""
    ids = chain.insert([fired.event_fields(esc) for esc in fired.inserted])
    return {esc.id: event_id for esc, event_id in zip(fired.inserted, ids, strict=True)}


def _write_outbox(
    session: Session,
    spec: _Spec,
    inserted: list[Any],
    issues: dict[int, Issue],
    event_of: dict[int, int],
    now: datetime,
) -> int:
    """The rungs' notifications for the whole batch, in one INSERT."""
    audience = outbox.Audience(session, spec.notify, [issues[e.issue_id] for e in inserted])
    rows = []
    for esc in inserted:
        issue = issues[esc.issue_id]
        payload = {
            "issue_id": issue.id,
            "number": issue.number,
            "escalation_id": esc.id,
            "rung": spec.name,
            "level": spec.level,
        }
        rows += outbox.outbox_rows(
            issue,
            audience.of(issue),
            "escalation",
            spec.label,
            now,
            event_of[esc.id],
            key=f"esc{esc.id}",
            payload=payload,
        )
    outbox.insert_rows(session, rows)
    return len(rows)


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
