"""The definition parser: the top-level keys and the states, over the clock and action parsers."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from workflow.definition.graph import graph_problems
from workflow.definition.model import (
    DEFAULT_TIMEZONE,
    DEFINITION_KINDS,
    STAGES,
    STATE_KINDS,
    Effect,
    Label,
    State,
)
from workflow.definition.parse_actions import ActionParser
from workflow.definition.parse_base import STATE_KEYS, TOP_KEYS
from workflow.definition.parse_clocks import ClockParser
from workflow.definition.reader import YMap, YNode


class Parser(ClockParser, ActionParser):
    """One pass over a composed definition: header, states, clocks, actions, then the graph."""

    def parse(self, root: YNode, filename: str) -> dict[str, Any] | None:
        """The top-level values of a definition (the sections fill ``self``), or None."""
        top = self.r.mapping(root, "definition")
        if top is None:
            return None
        k = self.r.keys(top, "definition", TOP_KEYS, ("name", "title", "kind", "initial",
                                                       "states", "actions"))  # fmt: skip
        head = self.header(top, k, filename)
        # states, then the action names (clocks start from one), clocks, then the actions
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
        return {**head, "initial": initial, "on_open": on_open}

    def header(self, top: YMap, k: dict[str, YNode], filename: str) -> dict[str, Any]:
        """Name, title, kind, restricted and timezone of a definition."""
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
        return {
            "name": name, "title": title, "kind": kind, "restricted": bool(restricted),
            "timezone": timezone,
        }  # fmt: skip

    # -------------------------------------------------------------- states

    def parse_states(self, node: YNode) -> None:
        """Every state: label, kind, stage, whether final."""
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
