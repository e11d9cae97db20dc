"""Workflow definitions: YAML files turned into frozen, validated objects the engine runs.

The public face of the definition modules: re-exports the vocabulary and the frozen
dataclasses of :mod:`workflow.definition.model`, and owns loading (:func:`parse_definition`,
:func:`load_definition`, :func:`load_directory`, :func:`check_paths`) and the schema walk.
A definition with any problem is refused as a whole with a :class:`DefinitionError` listing
*every* problem with its file, line and column, so the office fixes a file in one pass.

Line-aware YAML reading is in :mod:`workflow.definition.reader`; guard/effect argument rules,
graph checks and :func:`migration_report` in :mod:`workflow.definition.checks`.  The format
is documented for office staff in ``definitions/README.md``.  Must not import flask; reads
files only when asked to.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from workflow.definition.checks import (
    ArgsChecker,
    MigrationReport,
    graph_problems,
    migration_report,
)
from workflow.definition.model import (
    CLOCK_COUNTS,
    DEADLINE_TYPES,
    DEFAULT_TIMEZONE,
    DEFINITION_KINDS,
    EFFECT_KINDS,
    FIELD_TYPES,
    GUARD_KINDS,
    ISSUE_ATTRS,
    LETTERS,
    LEVELS,
    PAUSE_MODES,
    RECIPIENTS,
    RESTRICTED_RECIPIENTS,
    RESTRICTED_ROLES,
    ROLES,
    RUNG_UNITS,
    STAGES,
    STATE_KINDS,
    Action,
    Branch,
    Clock,
    CountRule,
    Definition,
    DefinitionError,
    Effect,
    FieldSpec,
    Guard,
    Label,
    Rung,
    State,
    frozen,
)
from workflow.definition.reader import BOOL_TAG, Problem, Reader, YMap, YNode, YScalar

__all__ = [
    "DEADLINE_TYPES", "DEFINITION_KINDS", "EFFECT_KINDS", "FIELD_TYPES", "GUARD_KINDS",
    "ISSUE_ATTRS", "LETTERS", "LEVELS", "RECIPIENTS", "ROLES", "STAGES", "STATE_KINDS",
    "Action", "Branch", "Clock", "CountRule", "Definition", "DefinitionError", "Effect",
    "FieldSpec", "Guard", "Label", "MigrationReport", "Problem", "Rung", "State",
    "check_paths", "load_definition", "load_directory", "migration_report", "parse_definition",
]  # fmt: skip

# ---------------------------------------------------------------------------------- parsing

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


class _Parser:
    """One pass over a composed definition; every problem goes to ``self.r``."""

    def __init__(self, reader: Reader, known_definitions: Collection[str] | None) -> None:
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
        m = self.r.mapping(node, f"{what} label")
        if m is None:
            return None
        k = self.r.keys(m, f"{what} label", ("zh", "en"), ("zh",))
        zh = self.r.string(k["zh"], f"{what} label zh") if "zh" in k else None
        en = self.r.string(k["en"], f"{what} label en") if "en" in k else zh
        # English is optional: office staff write Chinese first; the zh text stands in
        return Label(zh, en or zh) if zh else None

    def names(self, node: YNode, what: str) -> list[tuple[str, YNode]]:
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
        name = self.r.name(node, f"{what} state")
        if name is not None and self.states_ok and name not in self.states:
            self.r.err(node, f"{what}: unknown state {name!r}")
        return name

    def recipients(self, node: YNode, what: str) -> tuple[str, ...]:
        out = []
        for n, item in self.names(node, what):
            if n not in RECIPIENTS:
                self.r.err(item, f"{what}: unknown recipient {n!r} (one of {_one_of(RECIPIENTS)})")
            elif self.restricted and n not in RESTRICTED_RECIPIENTS:
                self.r.err(
                    item,
                    f"{what}: recipient {n!r} may not be told about a restricted issue "
                    f"(only {_one_of(RESTRICTED_RECIPIENTS)})",
                )
            out.append(n)
        return tuple(out)

    # -------------------------------------------------------------- top level

    def parse(self, root: YNode, filename: str) -> dict[str, Any] | None:
        top = self.r.mapping(root, "definition")
        if top is None:
            return None
        k = self.r.keys(top, "definition", TOP_KEYS, ("name", "title", "kind", "initial",
                                                       "states", "actions"))  # fmt: skip
        name = self.r.name(k["name"], "definition name") if "name" in k else None
        stem = Path(filename).stem
        if name and not filename.startswith("<") and name != stem:
            self.r.err(k["name"], f"definition name {name!r} must equal the file name {stem!r}")
        title = self.label(k["title"], "title") if "title" in k else None
        kind = self.r.choice(k["kind"], "kind", DEFINITION_KINDS) if "kind" in k else None
        restricted = self.r.boolean(k["restricted"], "restricted") if "restricted" in k else False
        self.restricted = bool(restricted)
        if kind == "problem_lead" and restricted is False:
            self.r.err(
                k.get("restricted", top), "a problem_lead definition must be restricted: true"
            )
        timezone = DEFAULT_TIMEZONE
        if "timezone" in k and (tz := self.r.string(k["timezone"], "timezone")):
            try:
                ZoneInfo(tz)
                timezone = tz
            except (ZoneInfoNotFoundError, ValueError):
                self.r.err(k["timezone"], f"unknown timezone {tz!r} (e.g. Asia/Shanghai)")
        if "states" in k:
            self.parse_states(k["states"])
        if "actions" in k:
            am = self.r.mapping(k["actions"], "actions")
            if am is not None:
                self.action_names = {str(kn.value) for kn, _ in am.items}
        if "clocks" in k:
            self.parse_clocks(k["clocks"])
        else:
            self.clocks_ok = True
        if "actions" in k:
            self.parse_actions(k["actions"])
        on_open: tuple[Effect, ...] = ()
        if "on_open" in k:
            on_open = self.effects(k["on_open"], "on_open", {})
        initial = self.state_ref(k["initial"], "initial") if "initial" in k else None
        if initial and self.states_ok and initial in self.states and self.action_names is not None:
            for node, message in graph_problems(
                initial, self.states, self.actions, self.state_nodes, self.action_nodes,
                self.from_nodes,
            ):  # fmt: skip
                self.r.err(node, message)
        return {
            "name": name, "title": title, "kind": kind, "restricted": bool(restricted),
            "timezone": timezone, "initial": initial, "on_open": on_open,
        }  # fmt: skip

    # -------------------------------------------------------------- states

    def parse_states(self, node: YNode) -> None:
        m = self.r.mapping(node, "states")
        if m is None:
            return
        self.states_ok = True
        if not m.items:
            self.r.err(m, "states: at least one state is needed")
        for knode, vnode in m.items:
            name = self.r.name(knode, "state name")
            if name is None:
                continue
            self.state_nodes[name] = knode
            what = f"state {name}"
            sm = self.r.mapping(vnode, what)
            if sm is None:
                continue
            k = self.r.keys(sm, what, STATE_KEYS, ("label", "stage"))
            label = self.label(k["label"], what) if "label" in k else None
            kind = self.r.choice(k["kind"], f"{what} kind", STATE_KINDS) if "kind" in k else "open"
            stage = self.r.choice(k["stage"], f"{what} stage", STAGES) if "stage" in k else None
            final = self.r.boolean(k["final"], f"{what} final") if "final" in k else False
            self.states[name] = State(
                name, label or Label(name, name), kind or "open", stage or "", bool(final)
            )

    # -------------------------------------------------------------- clocks

    def parse_clocks(self, node: YNode) -> None:
        m = self.r.mapping(node, "clocks")
        if m is None:
            return
        self.clocks_ok = True
        for knode, vnode in m.items:
            name = self.r.name(knode, "clock name")
            if name is None:
                continue
            what = f"clock {name}"
            cm = self.r.mapping(vnode, what)
            if cm is None:
                self.clocks[name] = Clock(name, Label(name, name), "", 0, "", "none", (), ())
                continue
            k = self.r.keys(cm, what, CLOCK_KEYS, ("label", "counts", "amount", "from"))
            label = self.label(k["label"], what) if "label" in k else None
            counts = (
                self.r.choice(k["counts"], f"{what} counts", CLOCK_COUNTS)
                if "counts" in k
                else None
            )
            amount = self.r.integer(k["amount"], f"{what} amount") if "amount" in k else None
            if amount is not None and amount <= 0:
                self.r.err(k["amount"], f"{what} amount must be greater than 0, got {amount}")
            start = self.r.name(k["from"], f"{what} from") if "from" in k else None
            if (
                start and start != "open" and self.action_names is not None
                and start not in self.action_names
            ):  # fmt: skip
                self.r.err(k["from"], f"{what} from: unknown action {start!r} (or open)")
            pause = (
                self.r.choice(k["pause"], f"{what} pause", PAUSE_MODES) if "pause" in k else "none"
            )
            ladder = self.ladder(k["ladder"], what, counts) if "ladder" in k else ()
            rules = self.count_rules(k["count_rules"], what, ladder) if "count_rules" in k else ()
            self.clocks[name] = Clock(
                name, label or Label(name, name), counts or "", amount or 0, start or "",
                pause or "none", ladder, rules,
            )  # fmt: skip

    def ladder(self, node: YNode, what: str, counts: str | None) -> tuple[Rung, ...]:
        out: list[Rung] = []
        seen: dict[str, YNode] = {}
        for item in self.r.seq(node, f"{what} ladder") or ():
            m = self.r.mapping(item, f"{what} ladder rung")
            if m is None:
                continue
            k = self.r.keys(m, f"{what} rung", RUNG_KEYS, ("rung", "at", "level", "label"))
            name = self.r.name(k["rung"], f"{what} rung name") if "rung" in k else None
            w = f"{what} rung {name or '?'}"
            if name and name in seen:
                self.r.err(k["rung"], f"{w}: duplicate rung name (first at line {seen[name].line})")
            elif name:
                seen[name] = k["rung"]
            at = self.r.integer(k["at"], f"{w} at") if "at" in k else None
            unit = counts
            if "unit" in k and isinstance(k["unit"], YScalar) and k["unit"].value == "months":
                self.r.err(
                    k["unit"],
                    f"{w}: months cannot be a rung unit (use working_days or natural_days)",
                )
                unit = None
            elif "unit" in k:
                unit = self.r.choice(k["unit"], f"{w} unit", RUNG_UNITS)
            elif counts == "months":
                self.r.err(
                    m, f"{w}: the clock counts months, which cannot be a rung unit; "
                    "give unit: working_days or natural_days",
                )  # fmt: skip
                unit = None
            level = self.r.choice(k["level"], f"{w} level", LEVELS) if "level" in k else None
            label = self.label(k["label"], w) if "label" in k else None
            notify = self.notify_list(k, m, w)
            letter = self.r.choice(k["letter"], f"{w} letter", LETTERS) if "letter" in k else None
            if name:
                out.append(Rung(name, at or 0, unit or "", level or "", label or Label(name, name),
                                notify, letter))  # fmt: skip
        return tuple(out)

    def notify_list(self, k: Mapping[str, YNode], m: YMap, what: str) -> tuple[str, ...]:
        if "notify" not in k:
            self.r.err(m, f"{what}: missing notify (at least one recipient)")
            return ()
        return self.recipients(k["notify"], f"{what} notify")

    def count_rules(
        self, node: YNode, what: str, ladder: tuple[Rung, ...]
    ) -> tuple[CountRule, ...]:
        rungs = {r.name for r in ladder}
        out: list[CountRule] = []
        seen: set[str] = set()
        for item in self.r.seq(node, f"{what} count_rules") or ():
            m = self.r.mapping(item, f"{what} count rule")
            if m is None:
                continue
            req = ("rule", "rung", "count", "level", "label")
            k = self.r.keys(m, f"{what} count rule", RULE_KEYS, req)
            name = self.r.name(k["rule"], f"{what} count rule name") if "rule" in k else None
            w = f"{what} count rule {name or '?'}"
            if name in seen:
                self.r.err(k["rule"], f"{w}: duplicate count rule name")
            seen.add(name or "")
            rung = self.r.name(k["rung"], f"{w} rung") if "rung" in k else None
            if rung and rung not in rungs:
                self.r.err(
                    k["rung"], f"{w}: unknown rung {rung!r} (this clock has: {_one_of(rungs)})"
                )
            count = self.r.integer(k["count"], f"{w} count") if "count" in k else None
            if count is not None and count < 1:
                self.r.err(k["count"], f"{w} count must be at least 1, got {count}")
            consecutive = (
                self.r.boolean(k["consecutive"], f"{w} consecutive")
                if "consecutive" in k
                else False
            )
            level = self.r.choice(k["level"], f"{w} level", LEVELS) if "level" in k else None
            label = self.label(k["label"], w) if "label" in k else None
            notify = self.notify_list(k, m, w)
            letter = self.r.choice(k["letter"], f"{w} letter", LETTERS) if "letter" in k else None
            if name:
                out.append(CountRule(name, rung or "", count or 0, bool(consecutive), level or "",
                                     label or Label(name, name), notify, letter))  # fmt: skip
        return tuple(out)

    # -------------------------------------------------------------- actions

    def parse_actions(self, node: YNode) -> None:
        m = self.r.mapping(node, "actions")
        if m is None:
            return
        bodies: list[tuple[str, YNode, dict[str, YNode]]] = []
        # fields first, so extend_clock may name a field another action supplies
        for knode, vnode in m.items:
            name = self.r.name(knode, "action name")
            if name is None:
                continue
            self.action_nodes[name] = knode
            am = self.r.mapping(vnode, f"action {name}")
            if am is None:
                continue
            k = self.r.keys(am, f"action {name}", ACTION_KEYS, ("label", "from", "to", "roles"))
            bodies.append((name, am, k))
        fields_of = {name: self.fields(k["fields"], f"action {name}") if "fields" in k else {}
                     for name, _, k in bodies}  # fmt: skip
        for fs in fields_of.values():
            for fname, spec in fs.items():
                self.all_fields.setdefault(fname, spec)
        for name, _, k in bodies:
            self.action(name, k, fields_of[name])

    def action(self, name: str, k: Mapping[str, YNode], fields: dict[str, FieldSpec]) -> None:
        what = f"action {name}"
        label = self.label(k["label"], what) if "label" in k else None
        sources = []
        self.from_nodes[name] = {}
        for s, snode in self.names(k["from"], f"{what} from") if "from" in k else ():
            if self.state_ref(snode, f"{what} from"):
                sources.append(s)
                self.from_nodes[name][s] = snode
        target = self.state_ref(k["to"], f"{what} to") if "to" in k else None
        roles = set()
        for role, rnode in self.names(k["roles"], f"{what} roles") if "roles" in k else ():
            if role not in ROLES:
                self.r.err(rnode, f"{what}: unknown role {role!r} (one of {_one_of(ROLES)})")
            elif self.restricted and role not in RESTRICTED_ROLES:
                self.r.err(
                    rnode, f"{what}: role {role!r} may not act on a restricted issue "
                    f"(only {_one_of(RESTRICTED_ROLES)})",
                )  # fmt: skip
            roles.add(role)
        guards = self.guards(k["guards"], what) if "guards" in k else ()
        effects = self.effects(k["effects"], what, fields) if "effects" in k else ()
        branches = self.branches(k["branches"], what, fields) if "branches" in k else ()
        self.actions[name] = Action(
            name, label or Label(name, name), tuple(sources), target or "", branches,
            frozenset(roles), frozen(fields), guards, effects,
        )  # fmt: skip

    def fields(self, node: YNode, what: str) -> dict[str, FieldSpec]:
        m = self.r.mapping(node, f"{what} fields")
        out: dict[str, FieldSpec] = {}
        for knode, vnode in m.items if m else ():
            name = self.r.name(knode, f"{what} field name")
            if name is None:
                continue
            w = f"{what} field {name}"
            fm = self.r.mapping(vnode, w)
            if fm is None:
                continue
            k = self.r.keys(fm, w, FIELD_KEYS, ("type",))
            ftype = self.r.string(k["type"], f"{w} type") if "type" in k else None
            if ftype is not None and ftype not in FIELD_TYPES:
                self.r.err(
                    k["type"], f"{w}: unknown field type {ftype!r} (one of {_one_of(FIELD_TYPES)})"
                )
                ftype = None
            only = {"choices": "choice", "max_length": "text", "must_be_true": "bool"}
            for key, needs in only.items():
                if key in k and ftype and ftype != needs:
                    self.r.err(k[key], f"{w}: {key} only applies to {needs} fields")
            for key in ("min", "max"):
                if key in k and ftype and ftype not in ("int", "decimal", "percent"):
                    self.r.err(
                        k[key], f"{w}: {key} only applies to int, decimal and percent fields"
                    )
            choices: list[str] = []
            items = self.r.seq(k["choices"], f"{w} choices") if "choices" in k else None
            for c in items or ():
                if isinstance(c, YScalar) and c.tag == BOOL_TAG:
                    self.r.err(c, f"{w}: choice {c.raw!r} is read as a boolean by YAML; quote it")
                elif (v := self.r.string(c, f"{w} choice")) is not None:
                    choices.append(v)
            if ftype == "choice" and not choices:
                self.r.err(
                    k.get("choices", fm), f"{w}: a choice field needs a non-empty choices list"
                )
            max_length = (
                self.r.integer(k["max_length"], f"{w} max_length") if "max_length" in k else None
            )
            if max_length is not None and max_length <= 0:
                self.r.err(k["max_length"], f"{w}: max_length must be greater than 0")
            low = self.r.number(k["min"], f"{w} min") if "min" in k else None
            high = self.r.number(k["max"], f"{w} max") if "max" in k else None
            if low is not None and high is not None and low > high:
                self.r.err(k["min"], f"{w}: min {low:g} is greater than max {high:g}")
            required = self.r.boolean(k["required"], f"{w} required") if "required" in k else False
            mbt = (
                self.r.boolean(k["must_be_true"], f"{w} must_be_true")
                if "must_be_true" in k
                else False
            )
            label = self.label(k["label"], w) if "label" in k else None
            out[name] = FieldSpec(name, ftype or "", bool(required), label or Label(name, name),
                                  tuple(choices), max_length, low, high, bool(mbt))  # fmt: skip
        return out

    def branches(
        self, node: YNode, what: str, fields: Mapping[str, FieldSpec]
    ) -> tuple[Branch, ...]:
        out = []
        for item in self.r.seq(node, f"{what} branches") or ():
            m = self.r.mapping(item, f"{what} branch")
            if m is None:
                continue
            k = self.r.keys(m, f"{what} branch", ("when", "to", "effects"), ("when", "to"))
            when: dict[str, tuple[str, ...]] = {}
            wm = self.r.mapping(k["when"], f"{what} branch when") if "when" in k else None
            if wm is not None and not wm.items:
                self.r.err(wm, f"{what} branch when: name at least one field")
            for fnode, vnode in wm.items if wm else ():
                fname = self.r.name(fnode, f"{what} branch field")
                if fname is None:
                    continue
                spec = fields.get(fname)
                if spec is None:
                    self.r.err(
                        fnode, f"{what} branch: unknown field {fname!r} (declare it under fields)"
                    )
                elif spec.type != "choice":
                    self.r.err(
                        fnode, f"{what} branch: field {fname!r} must be a choice field to branch on"
                    )
                values = []
                for v in self.r.seq(vnode, f"{what} branch values", single=True) or ():
                    text = self.r.string(v, f"{what} branch value")
                    if (
                        text is not None
                        and spec is not None
                        and spec.choices
                        and text not in spec.choices
                    ):
                        self.r.err(v, f"{what} branch: {text!r} is not a choice of field {fname!r} "
                                      f"({', '.join(spec.choices)})")  # fmt: skip
                    values.append(text or "")
                when[fname] = tuple(values)
            to = self.state_ref(k["to"], f"{what} branch to") if "to" in k else None
            effects = (
                self.effects(k["effects"], f"{what} branch", fields) if "effects" in k else None
            )
            out.append(Branch(frozen(when), to or "", effects))
        return tuple(out)

    # -------------------------------------------------------------- guards and effects

    def _checker(self, fields: Mapping[str, FieldSpec]) -> ArgsChecker:
        return ArgsChecker(
            self.r, fields, self.all_fields,
            set(self.clocks) if self.clocks_ok else None, self.action_names,
            self.known_definitions, self.recipients,
        )  # fmt: skip

    def guards(self, node: YNode, what: str) -> tuple[Guard, ...]:
        checker = self._checker({})
        return tuple(Guard(kind, frozen(args))
                     for kind, args in checker.items(node, f"{what} guards", "guard"))  # fmt: skip

    def effects(
        self, node: YNode, what: str, fields: Mapping[str, FieldSpec]
    ) -> tuple[Effect, ...]:
        checker = self._checker(fields)
        return tuple(Effect(kind, frozen(args))
                     for kind, args in checker.items(node, f"{what} effects", "effect"))  # fmt: skip


def _one_of(names: Iterable[str]) -> str:
    return ", ".join(sorted(names)) or "none"


# ---------------------------------------------------------------------------------- loading


def parse_definition(
    text: str, filename: str = "<string>", known_definitions: Collection[str] | None = None
) -> Definition:
    """Parse and validate ``text``; raise DefinitionError listing every problem found.

    ``known_definitions`` (when given) are the names ``spawn_children`` may refer to.
    """
    reader = Reader(filename)
    root = reader.read(text)
    parser = _Parser(reader, known_definitions)
    top = None
    if root is None and not reader.problems:
        reader.err(None, "the file is empty: a definition is a mapping of name, title, states, …")
    elif root is not None:
        top = parser.parse(root, filename)
    if reader.problems or top is None:
        raise DefinitionError(sorted(set(reader.problems), key=lambda p: (p.line, p.column)))
    return Definition(
        name=top["name"], title=top["title"], kind=top["kind"], restricted=top["restricted"],
        timezone=top["timezone"], initial=top["initial"], on_open=top["on_open"],
        states=frozen(parser.states), actions=frozen(parser.actions),
        clocks=frozen(parser.clocks), source=text, filename=filename,
        version=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )  # fmt: skip


def _read(path: Path) -> str | Problem:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return Problem(str(path), 1, 1, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
    except OSError as exc:
        return Problem(str(path), 1, 1, f"cannot read: {exc.strerror or exc}")


def load_definition(
    path: str | Path, known_definitions: Collection[str] | None = None
) -> Definition:
    """Load and validate one definition file."""
    path = Path(path)
    text = _read(path)
    if isinstance(text, Problem):
        raise DefinitionError([text])
    return parse_definition(text, str(path), known_definitions)


def load_directory(path: str | Path) -> dict[str, Definition]:
    """Load every ``*.yaml`` of a directory; raise one DefinitionError for all files' problems."""
    files = sorted(Path(path).glob("*.yaml"))
    known = {f.stem for f in files}
    out: dict[str, Definition] = {}
    problems: list[Problem] = []
    for f in files:
        try:
            d = load_definition(f, known)
        except DefinitionError as exc:
            problems.extend(exc.problems)
        else:
            out[d.name] = d
    if problems:
        raise DefinitionError(problems)
    return out


def check_paths(paths: list[Path]) -> list[Problem]:
    """Every problem in the given files and directories (each *.yaml of a directory)."""
    problems: list[Problem] = []
    for p in map(Path, paths):
        files, known = ([p], None) if not p.is_dir() else (sorted(p.glob("*.yaml")), None)
        if p.is_dir():
            known = {f.stem for f in files}
        for f in files:
            try:
                load_definition(f, known)
            except DefinitionError as exc:
                problems.extend(exc.problems)
    return problems
