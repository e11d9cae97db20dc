"""What can fire: every rung and count rule of every clock of the stored definition versions.

A plan (:func:`_plan`) lists, per version and clock, the ladder in order and then the
count rules, each as a :class:`_Work` carrying its due-date bound for this sweep.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.clock.escalation.bounds import _Bounds
from workflow.definition import Clock, CountRule, Definition, Rung
from workflow.definition.registry import definition_of
from workflow.models import DefinitionVersion


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
