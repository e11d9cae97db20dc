"""The graph of a definition: unreachable states, dead ends, actions leaving a final state."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from workflow.definition.model import Action, State
from workflow.definition.reader import YNode


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
