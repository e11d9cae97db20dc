"""The actions section of a definition: sources, target, roles, fields and branches."""

from __future__ import annotations

from collections.abc import Mapping

from workflow.definition.model import (
    FIELD_TYPES,
    RESTRICTED_ROLES,
    ROLES,
    Action,
    Branch,
    FieldSpec,
    Label,
    frozen,
)
from workflow.definition.parse_base import ACTION_KEYS, FIELD_KEYS, ParserBase, one_of
from workflow.definition.reader import BOOL_TAG, YMap, YNode, YScalar


class ActionParser(ParserBase):
    """Reads ``actions:``; the states and clocks must be read first (they are referred to)."""

    def parse_actions(self, node: YNode) -> None:
        """Every action; all fields are read first, so extend_clock may name another's."""
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
        """One action from its keys, with its already-read fields."""
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
                self.r.err(rnode, f"{what}: unknown role {role!r} (one of {one_of(ROLES)})")
            elif self.restricted and role not in RESTRICTED_ROLES:
                self.r.err(
                    rnode, f"{what}: role {role!r} may not act on a restricted issue "
                    f"(only {one_of(RESTRICTED_ROLES)})",
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
        """The fields an action takes, by name."""
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
            out[name] = self.field_spec(name, w, fm)
        return out

    def field_spec(self, name: str, w: str, fm: YMap) -> FieldSpec:
        """One field: its type and the options that type allows."""
        k = self.r.keys(fm, w, FIELD_KEYS, ("type",))
        ftype = self.r.string(k["type"], f"{w} type") if "type" in k else None
        if ftype is not None and ftype not in FIELD_TYPES:
            self.r.err(
                k["type"], f"{w}: unknown field type {ftype!r} (one of {one_of(FIELD_TYPES)})"
            )
            ftype = None
        only = {"choices": "choice", "max_length": "text", "must_be_true": "bool"}
        for key, needs in only.items():
            if key in k and ftype and ftype != needs:
                self.r.err(k[key], f"{w}: {key} only applies to {needs} fields")
        for key in ("min", "max"):
            if key in k and ftype and ftype not in ("int", "decimal", "percent"):
                self.r.err(k[key], f"{w}: {key} only applies to int, decimal and percent fields")
        choices = self.choices(k["choices"], w) if "choices" in k else []
        if ftype == "choice" and not choices:
            self.r.err(k.get("choices", fm), f"{w}: a choice field needs a non-empty choices list")
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
            self.r.boolean(k["must_be_true"], f"{w} must_be_true") if "must_be_true" in k else False
        )
        label = self.label(k["label"], w) if "label" in k else None
        return FieldSpec(name, ftype or "", bool(required), label or Label(name, name),
                         tuple(choices), max_length, low, high, bool(mbt))  # fmt: skip

    def choices(self, node: YNode, w: str) -> list[str]:
        """The choices of a choice field; a bare yes/no is refused (YAML reads it as a bool)."""
        choices: list[str] = []
        for c in self.r.seq(node, f"{w} choices") or ():
            if isinstance(c, YScalar) and c.tag == BOOL_TAG:
                self.r.err(c, f"{w}: choice {c.raw!r} is read as a boolean by YAML; quote it")
            elif (v := self.r.string(c, f"{w} choice")) is not None:
                choices.append(v)
        return choices

    def branches(
        self, node: YNode, what: str, fields: Mapping[str, FieldSpec]
    ) -> tuple[Branch, ...]:
        """The branches of an action: a target chosen by choice-field values."""
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
