"""Semantic checks of workflow definitions: guard/effect arguments, the graph, migrations.

Owns the vocabulary the engine interprets (roles, recipients, issue attributes, guard and
effect kinds), :class:`ArgsChecker` (the argument rules of every guard and effect kind),
:func:`graph_problems` (reachability, dead ends, nothing leaves a final state) and
:func:`migration_report` (what moving issues between two versions of a definition would
change, and what blocks it).  Must not import flask.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from workflow.definition.model import (
    COUNTER_ATTRS,
    DEADLINE_TYPES,
    EFFECT_KINDS,
    GUARD_KINDS,
    ISSUE_ATTRS,
    ISSUE_DATE_ATTRS,
    Action,
    Definition,
    FieldSpec,
    State,
)
from workflow.definition.reader import NULL_TAG, Reader, YMap, YNode, YScalar, describe


class ArgsChecker:
    """Reads a guards or effects list, checking each kind's arguments against the definition."""

    def __init__(
        self,
        reader: Reader,
        fields: Mapping[str, FieldSpec],
        all_fields: Mapping[str, FieldSpec],
        clocks: Collection[str] | None,
        actions: Collection[str] | None,
        known_definitions: Collection[str] | None,
        recipients: Callable[[YNode, str], tuple[str, ...]],
    ) -> None:
        self.r = reader
        self.fields = fields
        self.all_fields = all_fields
        self.clocks = clocks  # None: the clocks section is unreadable, skip the reference check
        self.actions = actions
        self.known_definitions = known_definitions
        self.recipients = recipients

    def items(self, node: YNode, what: str, family: str) -> list[tuple[str, dict[str, Any]]]:
        """(kind, args) for every readable item of a guards/effects list."""
        out = []
        for item in self.r.seq(node, what) or ():
            value: YNode | None = None
            if isinstance(item, YMap) and len(item.items) == 1:
                key, value = item.items[0]
                if isinstance(value, YScalar) and value.tag == NULL_TAG:
                    value = None  # `- recusal:` written as a mapping with no value
            elif isinstance(item, YScalar):
                key = item
            else:
                self.r.err(item, f"{what}: each {family} is a name or a one-key mapping, "
                                 f"got {describe(item)}")  # fmt: skip
                continue
            kind = self.r.name(key, f"{what}: {family}")
            if kind is None:
                continue
            handler = getattr(self, f"{family}_{kind}", None)
            if handler is None:
                kinds = GUARD_KINDS if family == "guard" else EFFECT_KINDS
                self.r.err(
                    key, f"{what}: unknown {family} {kind!r} (one of {', '.join(sorted(kinds))})"
                )
                continue
            args = handler(key, value, f"{what}: {kind}")
            if args is not None:
                out.append((kind, args))
        return out

    # -------------------------------------------------------------- helpers

    def _need(self, key: YNode, value: YNode | None, what: str) -> YNode | None:
        if value is None:
            self.r.err(key, f"{what} needs arguments")
        return value

    def _no_args(self, key: YNode, value: YNode | None, what: str) -> dict[str, Any]:
        if value is not None and not (isinstance(value, YMap) and not value.items):
            self.r.err(value, f"{what} takes no arguments")
        return {}

    def _mapping(self, value: YNode, what: str, allowed: tuple[str, ...], required: tuple[str, ...]
                 ) -> dict[str, YNode] | None:  # fmt: skip
        m = self.r.mapping(value, what)
        return self.r.keys(m, what, allowed, required) if m is not None else None

    def _clock(self, node: YNode, what: str) -> str | None:
        name = self.r.name(node, f"{what} clock")
        if name is not None and self.clocks is not None and name not in self.clocks:
            self.r.err(node, f"{what}: unknown clock {name!r} (declare it under clocks)")
        return name

    def _clock_arg(self, key: YNode, value: YNode | None, what: str) -> dict[str, Any] | None:
        if (value := self._need(key, value, what)) is None:
            return None
        if isinstance(value, YMap):
            k = self._mapping(value, what, ("clock",), ("clock",))
            if not k or "clock" not in k:
                return None
            value = k["clock"]
        name = self._clock(value, what)
        return {"clock": name} if name else None

    def _date_field(self, node: YNode, what: str, fields: Mapping[str, FieldSpec], issue_ok: bool
                    ) -> str | None:  # fmt: skip
        name = self.r.name(node, what)
        if name is None:
            return None
        spec = fields.get(name)
        if spec is None and issue_ok and name in ISSUE_DATE_ATTRS:
            return name
        if spec is None:
            also = " or the issue's due_on" if issue_ok else ""
            self.r.err(node, f"{what}: unknown field {name!r} (declare it under fields{also})")
        elif spec.type != "date":
            self.r.err(node, f"{what}: field {name!r} must be a date field, it is {spec.type}")
        return name

    def _min(self, key: YNode, value: YNode | None, what: str) -> dict[str, Any] | None:
        if value is None:
            return {"min": 1}
        k = self._mapping(value, what, ("min",), ("min",))
        if not k or "min" not in k:
            return None
        n = self.r.integer(k["min"], f"{what} min")
        if n is not None and n < 0:
            self.r.err(k["min"], f"{what} min must not be negative")
        return {"min": n} if n is not None else None

    # -------------------------------------------------------------- guards

    def guard_evidence(self, key: YNode, value: YNode | None, what: str) -> dict[str, Any] | None:
        return self._min(key, value, what)

    def guard_measures(self, key: YNode, value: YNode | None, what: str) -> dict[str, Any] | None:
        return self._min(key, value, what)

    def guard_recusal(self, key: YNode, value: YNode | None, what: str) -> dict[str, Any]:
        return self._no_args(key, value, what)

    def guard_children_closed(self, key: YNode, value: YNode | None, what: str) -> dict[str, Any]:
        return self._no_args(key, value, what)

    def guard_not_actor_of(
        self, key: YNode, value: YNode | None, what: str
    ) -> dict[str, Any] | None:
        if (value := self._need(key, value, what)) is None:
            return None
        names = []
        for item in self.r.seq(value, what, single=True) or ():
            name = self.r.name(item, f"{what} action")
            if name is not None and self.actions is not None and name not in self.actions:
                self.r.err(item, f"{what}: unknown action {name!r}")
            if name is not None:
                names.append(name)
        return {"actions": tuple(names)}

    def guard_deadline_type(
        self, key: YNode, value: YNode | None, what: str
    ) -> dict[str, Any] | None:
        if (value := self._need(key, value, what)) is None:
            return None
        values = []
        for item in self.r.seq(value, what, single=True) or ():
            v = self.r.choice(item, f"{what} value", DEADLINE_TYPES)
            if v is not None:
                values.append(v)
        return {"values": tuple(values)}

    # -------------------------------------------------------------- effects

    def effect_start_clock(
        self, key: YNode, value: YNode | None, what: str
    ) -> dict[str, Any] | None:
        if (value := self._need(key, value, what)) is None:
            return None
        if not isinstance(value, YMap):
            name = self._clock(value, what)
            return {"clock": name, "due_field": None} if name else None
        k = self._mapping(value, what, ("clock", "due_field"), ("clock",))
        if not k or "clock" not in k:
            return None
        name = self._clock(k["clock"], what)
        due = self._date_field(k["due_field"], f"{what} due_field", self.fields, issue_ok=True) \
            if "due_field" in k else None  # fmt: skip
        return {"clock": name, "due_field": due} if name else None

    def effect_stop_clock(
        self, key: YNode, value: YNode | None, what: str
    ) -> dict[str, Any] | None:
        return self._clock_arg(key, value, what)

    def effect_pause_clock(
        self, key: YNode, value: YNode | None, what: str
    ) -> dict[str, Any] | None:
        return self._clock_arg(key, value, what)

    def effect_resume_clock(
        self, key: YNode, value: YNode | None, what: str
    ) -> dict[str, Any] | None:
        return self._clock_arg(key, value, what)

    def effect_extend_clock(
        self, key: YNode, value: YNode | None, what: str
    ) -> dict[str, Any] | None:
        if (value := self._need(key, value, what)) is None:
            return None
        k = self._mapping(value, what, ("clock", "field"), ("clock", "field"))
        if not k or "clock" not in k or "field" not in k:
            return None
        name = self._clock(k["clock"], what)
        # the engine takes the date from this action's data, else from the latest event
        # that supplied it (approve_extension uses request_extension's new_due)
        fname = self._date_field(k["field"], f"{what} field", {**self.all_fields, **self.fields},
                                 issue_ok=False)  # fmt: skip
        return {"clock": name, "field": fname} if name and fname else None

    def effect_set(self, key: YNode, value: YNode | None, what: str) -> dict[str, Any] | None:
        if (value := self._need(key, value, what)) is None:
            return None
        m = self.r.mapping(value, what)
        if m is None:
            return None
        values: dict[str, Any] = {}
        for knode, vnode in m.items:
            attr = self.r.name(knode, f"{what} attribute")
            if attr is None:
                continue
            if attr not in ISSUE_ATTRS:
                self.r.err(knode, f"{what}: unknown issue attribute {attr!r} "
                                  f"(one of {', '.join(sorted(ISSUE_ATTRS))})")  # fmt: skip
            if not isinstance(vnode, YScalar):
                self.r.err(vnode, f"{what} {attr}: expected a single value, got {describe(vnode)}")
                continue
            values[attr] = vnode.value
        return {"values": values}

    def effect_increment(self, key: YNode, value: YNode | None, what: str) -> dict[str, Any] | None:
        if (value := self._need(key, value, what)) is None:
            return None
        names = []
        for item in self.r.seq(value, what, single=True) or ():
            name = self.r.name(item, f"{what} attribute")
            if name is None:
                continue
            if name not in COUNTER_ATTRS:
                self.r.err(item, f"{what}: {name!r} is not a counter "
                                 f"(one of {', '.join(sorted(COUNTER_ATTRS))})")  # fmt: skip
                continue
            names.append(name)
        return {"attrs": tuple(names)}

    def effect_store(self, key: YNode, value: YNode | None, what: str) -> dict[str, Any] | None:
        if (value := self._need(key, value, what)) is None:
            return None
        names = []
        for item in self.r.seq(value, what, single=True) or ():
            name = self.r.name(item, f"{what} field")
            if name is None:
                continue
            if name not in self.fields:
                self.r.err(item, f"{what}: unknown field {name!r} (declare it under fields)")
            elif name not in ISSUE_ATTRS:
                self.r.err(item, f"{what}: {name!r} is not an issue attribute "
                                 f"(one of {', '.join(sorted(ISSUE_ATTRS))})")  # fmt: skip
            names.append(name)
        return {"fields": tuple(names)}

    def effect_spawn_children(
        self, key: YNode, value: YNode | None, what: str
    ) -> dict[str, Any] | None:
        if (value := self._need(key, value, what)) is None:
            return None
        req = ("definition", "units_field")
        k = self._mapping(value, what, req, req)
        if not k or len(k) < 2:
            return None
        definition = self.r.name(k["definition"], f"{what} definition")
        known = self.known_definitions
        if definition is not None and known is not None and definition not in known:
            self.r.err(k["definition"], f"{what}: unknown definition {definition!r} "
                                        f"(loaded: {', '.join(sorted(known))})")  # fmt: skip
        units = self.r.name(k["units_field"], f"{what} units_field")
        spec = self.fields.get(units or "")
        if units is not None and spec is None:
            self.r.err(
                k["units_field"], f"{what}: unknown field {units!r} (declare it under fields)"
            )
        elif spec is not None and spec.type != "units":
            self.r.err(k["units_field"], f"{what}: field {units!r} must be a units field")
        return {"definition": definition, "units_field": units} if definition and units else None

    def effect_notify(self, key: YNode, value: YNode | None, what: str) -> dict[str, Any] | None:
        if (value := self._need(key, value, what)) is None:
            return None
        k = self._mapping(value, what, ("to", "template"), ("to",))
        if not k or "to" not in k:
            return None
        to = self.recipients(k["to"], f"{what} to")
        template = self.r.name(k["template"], f"{what} template") if "template" in k else None
        return {"to": to, "template": template}


# ---------------------------------------------------------------------------------- graph


def graph_problems(
    initial: str,
    states: Mapping[str, State],
    actions: Mapping[str, Action],
    state_nodes: Mapping[str, YNode],
    action_nodes: Mapping[str, YNode],
    from_nodes: Mapping[str, Mapping[str, YNode]],
) -> list[tuple[YNode, str]]:
    """Unreachable states, dead ends and actions leaving a final state, with their nodes."""
    out: list[tuple[YNode, str]] = []
    seen, queue = {initial}, deque([initial])
    while queue:
        here = queue.popleft()
        for a in actions.values():
            if here in a.sources:
                for t in a.targets():
                    if t in states and t not in seen:
                        seen.add(t)
                        queue.append(t)
    leaving = {s for a in actions.values() for s in a.sources}
    for name, st in states.items():
        if name not in seen:
            out.append((state_nodes[name], f"state {name!r} is unreachable: no chain of actions "
                                           f"leads to it from the initial state {initial!r}"))  # fmt: skip
        if not st.final and name not in leaving:
            out.append((state_nodes[name], f"state {name!r} is a dead end: no action leaves it "
                                           "(add one, or mark it final: true)"))  # fmt: skip
    for name, a in actions.items():
        for s in a.sources:
            if s in states and states[s].final:
                node = from_nodes.get(name, {}).get(s, action_nodes[name])
                out.append((node, f"action {name!r} leaves the final state {s!r}; "
                                  "a final state has no outgoing action"))  # fmt: skip
    return out


# ---------------------------------------------------------------------------------- migration


@dataclass
class MigrationReport:
    """What moving issues from one definition version to another changes, and what blocks it."""

    changes: list[str] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)


def _added_removed(kind: str, old: Collection[str], new: Collection[str], out: list[str]) -> None:
    out.extend(f"{kind} {n!r} added" for n in new if n not in old)
    out.extend(f"{kind} {n!r} removed" for n in old if n not in new)


def migration_report(
    old: Definition,
    new: Definition,
    states_in_use: Mapping[str, int],
    state_map: Mapping[str, str] | None = None,
    *,
    allow_clock_changes: bool = False,
) -> MigrationReport:
    """Compare two versions; issues in a vanished state or on a changed clock block the move.

    A state that is gone but mapped (``state_map``) to a state of ``new`` is a change; a clock
    whose counts, amount or pause changed is a blocker unless ``allow_clock_changes``.
    """
    rep = MigrationReport()
    state_map = state_map or {}
    _added_removed("state", old.states, new.states, rep.changes)
    for name, st in old.states.items():
        nst = new.states.get(name)
        if nst is not None and (nst.kind, nst.stage, nst.final) != (st.kind, st.stage, st.final):
            rep.changes.append(f"state {name!r} changed: kind/stage/final "
                               f"{st.kind}/{st.stage}/{st.final} → {nst.kind}/{nst.stage}/{nst.final}")  # fmt: skip
    for name, n in sorted(states_in_use.items()):
        if n <= 0 or name in new.states:
            continue
        target = state_map.get(name)
        if target is None:
            rep.blockers.append(f"{n} issue(s) are in state {name!r}, which the new version "
                                "does not have (map it to another state)")  # fmt: skip
        elif target not in new.states:
            rep.blockers.append(f"state {name!r} is mapped to {target!r}, which the new version "
                                "does not have either")  # fmt: skip
        else:
            rep.changes.append(f"{n} issue(s) move from state {name!r} to {target!r}")
    _added_removed("action", old.actions, new.actions, rep.changes)
    for name, a in old.actions.items():
        na = new.actions.get(name)
        if na is not None and (a.sources, a.targets(), a.roles) != (
            na.sources,
            na.targets(),
            na.roles,
        ):
            rep.changes.append(f"action {name!r} changed (from/to/roles)")
    _added_removed("clock", old.clocks, new.clocks, rep.changes)
    for name, c in old.clocks.items():
        nc = new.clocks.get(name)
        if nc is None:
            continue
        before, after = (c.counts, c.amount, c.pause), (nc.counts, nc.amount, nc.pause)
        if before != after:
            msg = (f"clock {name!r} changed from {c.amount} {c.counts} (pause {c.pause}) "
                   f"to {nc.amount} {nc.counts} (pause {nc.pause})")  # fmt: skip
            (rep.changes if allow_clock_changes else rep.blockers).append(msg)
        old_rungs = {r.name: r for r in c.ladder}
        new_rungs = {r.name: r for r in nc.ladder}
        _added_removed(f"clock {name} rung", old_rungs, new_rungs, rep.changes)
        for rname, r in old_rungs.items():
            if rname in new_rungs and new_rungs[rname] != r:
                rep.changes.append(f"clock {name} rung {rname!r} changed")
        old_rules = {r.name: r for r in c.count_rules}
        new_rules = {r.name: r for r in nc.count_rules}
        _added_removed(f"clock {name} count rule", old_rules, new_rules, rep.changes)
    return rep
