"""Semantic checks of guard and effect arguments in workflow definitions.

Owns :class:`ArgsChecker`, the argument rules of every guard and effect kind the engine
interprets.  The graph checks (:func:`graph_problems`) live in
:mod:`workflow.definition.graph` and :func:`migration_report` in
:mod:`workflow.definition.migration`; both are re-exported here for older callers.
Must not import flask.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from workflow.definition.graph import graph_problems
from workflow.definition.migration import MigrationReport, migration_report
from workflow.definition.model import (
    COUNTER_ATTRS,
    DEADLINE_TYPES,
    EFFECT_KINDS,
    GUARD_KINDS,
    ISSUE_ATTRS,
    ISSUE_DATE_ATTRS,
    FieldSpec,
)
from workflow.definition.reader import NULL_TAG, Reader, YMap, YNode, YScalar, describe

__all__ = ["ArgsChecker", "MigrationReport", "graph_problems", "migration_report"]


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
        """Check against ``fields`` (this action's) and the definition's names; None skips a check."""
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
        """``value``, or a problem when the kind was given no arguments."""
        if value is None:
            self.r.err(key, f"{what} needs arguments")
        return value

    def _no_args(self, key: YNode, value: YNode | None, what: str) -> dict[str, Any]:
        """No arguments: a problem when some were given."""
        if value is not None and not (isinstance(value, YMap) and not value.items):
            self.r.err(value, f"{what} takes no arguments")
        return {}

    def _mapping(self, value: YNode, what: str, allowed: tuple[str, ...], required: tuple[str, ...]
                 ) -> dict[str, YNode] | None:  # fmt: skip
        """The keys of a mapping argument, unknown and missing ones reported."""
        m = self.r.mapping(value, what)
        return self.r.keys(m, what, allowed, required) if m is not None else None

    def _clock(self, node: YNode, what: str) -> str | None:
        """A clock name, checked against the declared clocks."""
        name = self.r.name(node, f"{what} clock")
        if name is not None and self.clocks is not None and name not in self.clocks:
            self.r.err(node, f"{what}: unknown clock {name!r} (declare it under clocks)")
        return name

    def _clock_arg(self, key: YNode, value: YNode | None, what: str) -> dict[str, Any] | None:
        """``{clock}`` from ``name`` or ``{clock: name}``."""
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
        """A date field name (or, where allowed, the issue's due_on)."""
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
        """``{min}`` (default 1), never negative."""
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
        """At least ``min`` evidence files."""
        return self._min(key, value, what)

    def guard_measures(self, key: YNode, value: YNode | None, what: str) -> dict[str, Any] | None:
        """At least ``min`` measures in the plan."""
        return self._min(key, value, what)

    def guard_recusal(self, key: YNode, value: YNode | None, what: str) -> dict[str, Any]:
        """The actor is not recused from the issue (回避); no arguments."""
        return self._no_args(key, value, what)

    def guard_children_closed(self, key: YNode, value: YNode | None, what: str) -> dict[str, Any]:
        """Every child issue is closed; no arguments."""
        return self._no_args(key, value, what)

    def guard_not_actor_of(
        self, key: YNode, value: YNode | None, what: str
    ) -> dict[str, Any] | None:
        """The actor did not do any of the named actions (separation of duties)."""
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
        """The issue's deadline type is one of the values."""
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
        """Start a clock, optionally due on a date field."""
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
        """Stop a clock."""
        return self._clock_arg(key, value, what)

    def effect_pause_clock(
        self, key: YNode, value: YNode | None, what: str
    ) -> dict[str, Any] | None:
        """Pause a clock."""
        return self._clock_arg(key, value, what)

    def effect_resume_clock(
        self, key: YNode, value: YNode | None, what: str
    ) -> dict[str, Any] | None:
        """Resume a paused clock."""
        return self._clock_arg(key, value, what)

    def effect_extend_clock(
        self, key: YNode, value: YNode | None, what: str
    ) -> dict[str, Any] | None:
        """Extend a clock to the date of a field."""
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
        """Set issue attributes to fixed values."""
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
        """Add one to counter attributes."""
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
        """Store this action's fields on the issue."""
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
        """Open child issues of a definition, one per unit of a units field."""
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
        """Tell recipients, with an optional template."""
        if (value := self._need(key, value, what)) is None:
            return None
        k = self._mapping(value, what, ("to", "template"), ("to",))
        if not k or "to" not in k:
            return None
        to = self.recipients(k["to"], f"{what} to")
        template = self.r.name(k["template"], f"{what} template") if "template" in k else None
        return {"to": to, "template": template}
