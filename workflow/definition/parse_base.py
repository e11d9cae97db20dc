"""The shared core of the definition parser: its state, small readers, guards and effects."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from workflow.definition.checks import ArgsChecker
from workflow.definition.model import (
    RECIPIENTS,
    RESTRICTED_RECIPIENTS,
    Action,
    Clock,
    Effect,
    FieldSpec,
    Guard,
    Label,
    State,
    frozen,
)
from workflow.definition.reader import Reader, YNode

TOP_KEYS = (
    "name", "title", "kind", "restricted", "timezone", "initial", "on_open", "states", "actions",
    "clocks",
)  # fmt: skip
STATE_KEYS = ("label", "kind", "stage", "final")
ACTION_KEYS = ("label", "from", "to", "branches", "roles", "fields", "guards", "effects")
FIELD_KEYS = (
    "type", "required", "label", "choices", "max_length", "min", "max", "must_be_true",
)  # fmt: skip
CLOCK_KEYS = ("label", "counts", "amount", "from", "pause", "ladder", "count_rules")
RUNG_KEYS = ("rung", "at", "unit", "level", "label", "notify", "letter")
RULE_KEYS = ("rule", "rung", "count", "consecutive", "level", "label", "notify", "letter")


class ParserBase:
    """One pass over a composed definition; every problem goes to ``self.r``."""

    def __init__(self, reader: Reader, known_definitions: Collection[str] | None) -> None:
        """Start with nothing parsed; ``known_definitions`` are the names spawn may use."""
        self.r = reader
        self.known_definitions = known_definitions
        self.states: dict[str, State] = {}
        self.clocks: dict[str, Clock] = {}
        self.actions: dict[str, Action] = {}
        self.state_nodes: dict[str, YNode] = {}
        self.action_nodes: dict[str, YNode] = {}
        self.from_nodes: dict[str, dict[str, YNode]] = {}
        self.action_names: set[str] | None = None  # None: the actions section is unreadable
        self.all_fields: dict[str, FieldSpec] = {}  # every action's fields, for extend_clock
        self.restricted = False
        self.states_ok = self.clocks_ok = False

    # -------------------------------------------------------------- small pieces

    def label(self, node: YNode, what: str) -> Label | None:
        """A ``{zh, en}`` label; English defaults to the Chinese."""
        m = self.r.mapping(node, f"{what} label")
        if m is None:
            return None
        k = self.r.keys(m, f"{what} label", ("zh", "en"), ("zh",))
        zh = self.r.string(k["zh"], f"{what} label zh") if "zh" in k else None
        en = self.r.string(k["en"], f"{what} label en") if "en" in k else zh
        # English is optional: office staff write Chinese first; the zh text stands in
        return Label(zh, en or zh) if zh else None

    def names(self, node: YNode, what: str) -> list[tuple[str, YNode]]:
        """A name or a non-empty list of names, each with its node."""
        items = self.r.seq(node, what, single=True)
        out = []
        for item in items or ():
            n = self.r.name(item, what)
            if n is not None:
                out.append((n, item))
        if items is not None and not items:
            self.r.err(node, f"{what}: the list must not be empty")
        return out

    def state_ref(self, node: YNode, what: str) -> str | None:
        """A state name, checked against the states once they are known."""
        name = self.r.name(node, f"{what} state")
        if name is not None and self.states_ok and name not in self.states:
            self.r.err(node, f"{what}: unknown state {name!r}")
        return name

    def recipients(self, node: YNode, what: str) -> tuple[str, ...]:
        """Recipient names, checked against the vocabulary and the restricted rule."""
        out = []
        for n, item in self.names(node, what):
            if n not in RECIPIENTS:
                self.r.err(item, f"{what}: unknown recipient {n!r} (one of {one_of(RECIPIENTS)})")
            elif self.restricted and n not in RESTRICTED_RECIPIENTS:
                self.r.err(
                    item,
                    f"{what}: recipient {n!r} may not be told about a restricted issue "
                    f"(only {one_of(RESTRICTED_RECIPIENTS)})",
                )
            out.append(n)
        return tuple(out)

    # -------------------------------------------------------------- top level

    # -------------------------------------------------------------- guards and effects

    def _checker(self, fields: Mapping[str, FieldSpec]) -> ArgsChecker:
        """An argument checker seeing ``fields`` and what the definition declares."""
        return ArgsChecker(
            self.r, fields, self.all_fields,
            set(self.clocks) if self.clocks_ok else None, self.action_names,
            self.known_definitions, self.recipients,
        )  # fmt: skip

    def guards(self, node: YNode, what: str) -> tuple[Guard, ...]:
        """The guards of an action."""
        checker = self._checker({})
        return tuple(Guard(kind, frozen(args))
                     for kind, args in checker.items(node, f"{what} guards", "guard"))  # fmt: skip

    def effects(
        self, node: YNode, what: str, fields: Mapping[str, FieldSpec]
    ) -> tuple[Effect, ...]:
        """The effects of an action, a branch or on_open."""
        checker = self._checker(fields)
        return tuple(Effect(kind, frozen(args))
                     for kind, args in checker.items(node, f"{what} effects", "effect"))  # fmt: skip


def one_of(names: Iterable[str]) -> str:
    """Names sorted and joined for a message (``none`` when empty)."""
    return ", ".join(sorted(names)) or "none"
