"""The workflow definition vocabulary and the frozen objects a definition is made of.

Owns the names the engine interprets (roles, recipients, issue attributes, field types,
guard and effect kinds, letters, stages, levels) and the dataclasses :class:`Definition`,
:class:`State`, :class:`Action`, :class:`Clock` and their parts, read-only all the way
down (tuples, frozensets and ``MappingProxyType``).  Building them from YAML is
:mod:`workflow.definition`'s job; import everything from there.  Must not import flask.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from workflow.definition.reader import Problem
from workflow.timezone import OFFICE_TIMEZONE

ROLES = frozenset(
    {"office", "unit_user", "unit_head", "supervisor", "spot_check", "discipline", "leader"}
)
RECIPIENTS = frozenset(
    {"responsible_unit", "unit_head", "supervisor", "office", "leader", "discipline",
     "spot_check", "requester", "actor"}
)  # fmt: skip
# who may act on, or be told about, a restricted issue (问题线索): the outbox enforces it too
RESTRICTED_ROLES = frozenset({"discipline", "office"})
RESTRICTED_RECIPIENTS = frozenset({"discipline", "office", "actor"})
ISSUE_ATTRS = frozenset(
    {"progress", "completion", "grade", "deadline_type", "due_on", "rules_written",
     "money_recovered", "people_handled", "disposition", "cadre_level", "cases_opened",
     "sanctions", "org_measures", "checker", "relapse_count", "description", "measures_text"}
)  # fmt: skip
# the three kinds of deadline (整改类型), in the order forms offer them, and their names
DEADLINE_TYPES = ("fix_now", "by_deadline", "ongoing")
DEADLINE_LABELS = {"fix_now": "立行立改", "by_deadline": "限期整改", "ongoing": "长期坚持"}
EFFECT_KINDS = frozenset(
    {"start_clock", "stop_clock", "pause_clock", "resume_clock", "extend_clock", "set", "store",
     "increment", "spawn_children", "notify"}
)  # fmt: skip
# counters an `increment` effect may add one to
COUNTER_ATTRS = frozenset({"relapse_count", "rules_written", "people_handled", "cases_opened",
                           "sanctions", "org_measures"})  # fmt: skip
ISSUE_DATE_ATTRS = frozenset({"due_on"})  # issue attributes a clock may take its due date from

FIELD_TYPES = frozenset(
    {"text", "date", "int", "decimal", "percent", "choice", "bool", "measures", "unit", "units",
     "user"}
)  # fmt: skip
LETTERS = frozenset(
    {"reminder", "supervision_notice", "admonition", "talk_notice", "circulated_notice"}
)
STAGES = frozenset(
    {"transfer", "handling", "correction", "verification", "closed", "followup", "archived"}
)
LEVELS = frozenset({"reminder", "yellow", "red"})
STATE_KINDS = frozenset({"open", "closed", "ongoing"})
DEFINITION_KINDS = frozenset({"rectification", "problem_lead", "common_problem"})
CLOCK_COUNTS = frozenset({"working_days", "natural_days", "months"})
RUNG_UNITS = frozenset({"working_days", "natural_days"})
PAUSE_MODES = frozenset({"shift", "none"})
GUARD_KINDS = frozenset(
    {"evidence", "measures", "not_actor_of", "recusal", "children_closed", "deadline_type"}
)
DEFAULT_TIMEZONE = OFFICE_TIMEZONE


# ---------------------------------------------------------------------------------- objects


@dataclass(frozen=True)
class Label:
    """A UI text in Chinese (the default) and English."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        """The text in ``lang`` ("zh" or "en"); Chinese for anything else."""
        return self.en if lang == "en" else self.zh


class DefinitionError(Exception):
    """A definition (or several) failed validation; ``problems`` lists every finding."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class FieldSpec:
    """One input an action takes."""

    name: str
    type: str
    required: bool
    label: Label
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    min: float | None = None
    max: float | None = None
    must_be_true: bool = False


@dataclass(frozen=True)
class Guard:
    """A condition that must hold for an action to be taken."""

    kind: str
    args: Mapping[str, Any]


@dataclass(frozen=True)
class Effect:
    """Something an action (or opening an issue) does after the state change."""

    kind: str
    args: Mapping[str, Any]


@dataclass(frozen=True)
class Branch:
    """An alternative target chosen by choice-field values.

    ``effects`` (an addition to the base format) replaces the action's effects when this
    branch is taken; ``None`` means the action's own effects apply.
    """

    when: Mapping[str, tuple[str, ...]]
    to: str
    effects: tuple[Effect, ...] | None = None

    def matches(self, data: Mapping[str, Any]) -> bool:
        """Whether every tested field of ``data`` holds one of the listed values."""
        return all(data.get(name) in values for name, values in self.when.items())


@dataclass(frozen=True)
class Action:
    """A transition: who may take it, from where, to where, with what data and effects."""

    name: str
    label: Label
    sources: tuple[str, ...]
    target: str
    branches: tuple[Branch, ...]
    roles: frozenset[str]
    fields: Mapping[str, FieldSpec]
    guards: tuple[Guard, ...]
    effects: tuple[Effect, ...]

    def _branch(self, data: Mapping[str, Any]) -> Branch | None:
        return next((b for b in self.branches if b.matches(data)), None)

    def target_for(self, data: Mapping[str, Any]) -> str:
        """The state ``data`` leads to: the first matching branch, else ``target``."""
        branch = self._branch(data)
        return branch.to if branch else self.target

    def effects_for(self, data: Mapping[str, Any]) -> tuple[Effect, ...]:
        """The effects to apply for ``data``: a matching branch's own effects, if it has any."""
        branch = self._branch(data)
        return branch.effects if branch and branch.effects is not None else self.effects

    def targets(self) -> tuple[str, ...]:
        """Every state this action can lead to (``target`` first, no duplicates)."""
        return tuple(dict.fromkeys((self.target, *(b.to for b in self.branches))))


@dataclass(frozen=True)
class State:
    """A state of the issue and where it shows on the board."""

    name: str
    label: Label
    kind: str
    stage: str
    final: bool


@dataclass(frozen=True)
class Rung:
    """One step of an escalation ladder, relative to a clock's due instant."""

    name: str
    at: int
    unit: str
    level: str
    label: Label
    notify: tuple[str, ...]
    letter: str | None


@dataclass(frozen=True)
class CountRule:
    """Escalation when a rung has fired ``count`` times (across clock instances)."""

    name: str
    rung: str
    count: int
    consecutive: bool
    level: str
    label: Label
    notify: tuple[str, ...]
    letter: str | None


@dataclass(frozen=True)
class Clock:
    """A deadline kind with its default length and escalation ladder."""

    name: str
    label: Label
    counts: str
    amount: int
    start: str
    pause: str
    ladder: tuple[Rung, ...]
    count_rules: tuple[CountRule, ...]


@dataclass(frozen=True)
class Definition:
    """A validated workflow definition; ``version`` is the SHA-256 of its source text."""

    name: str
    title: Label
    kind: str
    restricted: bool
    timezone: str
    initial: str
    on_open: tuple[Effect, ...]
    states: Mapping[str, State]
    actions: Mapping[str, Action]
    clocks: Mapping[str, Clock]
    source: str = field(repr=False)
    filename: str
    version: str

    def actions_from(self, state: str) -> list[Action]:
        """Actions that can be taken in ``state``, in file order."""
        return [a for a in self.actions.values() if state in a.sources]

    def state(self, name: str) -> State:
        """The state called ``name`` (KeyError when there is none)."""
        return self.states[name]


def frozen(d: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only copy of ``d``."""
    return MappingProxyType(dict(d))
