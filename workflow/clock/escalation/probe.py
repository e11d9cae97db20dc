"""Whether, and what, anything is due: the sweep's read-only first statements.

First, one index probe asks whether any deadline is to be looked at now
(:func:`_anything_looked_at`, see "Idle sweeps" in :mod:`.schedule`); when none is, the
sweep stops there: no write transaction, no lock.  Then one read statement
(:class:`_Probe`) says which (version, clock, rung or rule) have anything due: a single
range scan of the deadlines looked at, each checked against its escalation rows on the
unique key, plus one ``GROUP BY … HAVING`` per count rule (``2 yellow → 书面督办``,
``3 consecutive red → 约谈``) over the issues of those deadlines.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from datetime import datetime
from functools import reduce
from typing import Any

from sqlalchemy import Select, and_, bindparam, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from workflow.clock.escalation.bounds import _Bounds
from workflow.clock.escalation.due import _live, _rule_query
from workflow.clock.escalation.partitions import _partition_filter, _scope
from workflow.clock.escalation.plan import _Work
from workflow.definition import Definition
from workflow.models import ClockInstance, Escalation, Issue


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
        ci = ClockInstance
        due_terms, fired_bits = self._assign_bits(rungs)
        due = case(
            *[(ci.clock == c, reduce(operator.add, t)) for c, t in due_terms.items()], else_=0
        )
        scan = (
            select(ci.issue_id, ci.clock, due.label("due"), _fired_mask(fired_bits).label("fired"))
            .where(ci.status == "running", _looked_at(ci))
            .subquery()
        )
        pending = scan.c.due.op("&")(scan.c.fired) != scan.c.due
        return (
            select(Issue.definition_id.label("dv"), scan.c.clock, scan.c.due, scan.c.fired)
            .join(Issue, Issue.id == scan.c.issue_id)
            .where(scan.c.due > 0, pending, _live_any(rungs), *scope)
            .distinct()
        )

    def _assign_bits(
        self, rungs: list[_Work]
    ) -> tuple[dict[str, list[Any]], dict[tuple[str, str], int]]:
        """Give each rung variant of a clock its bit: the ``due`` terms and ``fired`` bits.

        Returns (clock → one due term per rung variant, (clock, rung) → bits of its
        variants); fills :attr:`bits`, :attr:`of` and, past ``MAX_BITS``, :attr:`always`.
        """
        ci = ClockInstance
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
        return due_terms, fired_bits

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


def _fired_mask(fired_bits: dict[tuple[str, str], int]) -> Any:
    """Per deadline, the bits of the rungs with an escalation row (its unique key's prefix)."""
    ci, e = ClockInstance, Escalation
    return (
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


def _live_any(rungs: Sequence[_Work]) -> Any:
    """Issues of any of these rungs' versions that may still escalate (see ``_live``)."""
    finals: dict[tuple[str, ...], set[int]] = {}
    for w in rungs:
        finals.setdefault(w.finals, set()).add(w.dv_id)
    return or_(*[and_(*_live(sorted(dvs), f)) for f, dvs in finals.items()])


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
