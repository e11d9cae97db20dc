"""Migration reports: what moving issues between two versions of a definition changes or blocks."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from workflow.definition.model import Definition


@dataclass
class MigrationReport:
    """What moving issues from one definition version to another changes, and what blocks it."""

    changes: list[str] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)


def _added_removed(kind: str, old: Collection[str], new: Collection[str], out: list[str]) -> None:
    """Append "added" and "removed" lines for the names only one side has."""
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
    _states(old, new, states_in_use, state_map or {}, rep)
    _actions(old, new, rep)
    _clocks(old, new, allow_clock_changes, rep)
    return rep


def _states(
    old: Definition,
    new: Definition,
    states_in_use: Mapping[str, int],
    state_map: Mapping[str, str],
    rep: MigrationReport,
) -> None:
    """States added, removed or changed, and where the issues in vanished states go."""
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


def _actions(old: Definition, new: Definition, rep: MigrationReport) -> None:
    """Actions added, removed, or with other sources, targets or roles."""
    _added_removed("action", old.actions, new.actions, rep.changes)
    for name, a in old.actions.items():
        na = new.actions.get(name)
        if na is not None and (a.sources, a.targets(), a.roles) != (
            na.sources,
            na.targets(),
            na.roles,
        ):
            rep.changes.append(f"action {name!r} changed (from/to/roles)")


def _clocks(old: Definition, new: Definition, allow_changes: bool, rep: MigrationReport) -> None:
    """Clocks added or removed; a changed count blocks (unless allowed); rungs and rules."""
    _added_removed("clock", old.clocks, new.clocks, rep.changes)
    for name, c in old.clocks.items():
        nc = new.clocks.get(name)
        if nc is None:
            continue
        before, after = (c.counts, c.amount, c.pause), (nc.counts, nc.amount, nc.pause)
        if before != after:
            msg = (f"clock {name!r} changed from {c.amount} {c.counts} (pause {c.pause}) "
                   f"to {nc.amount} {nc.counts} (pause {nc.pause})")  # fmt: skip
            (rep.changes if allow_changes else rep.blockers).append(msg)
        old_rungs = {r.name: r for r in c.ladder}
        new_rungs = {r.name: r for r in nc.ladder}
        _added_removed(f"clock {name} rung", old_rungs, new_rungs, rep.changes)
        for rname, r in old_rungs.items():
            if rname in new_rungs and new_rungs[rname] != r:
                rep.changes.append(f"clock {name} rung {rname!r} changed")
        old_rules = {r.name: r for r in c.count_rules}
        new_rules = {r.name: r for r in nc.count_rules}
        _added_removed(f"clock {name} count rule", old_rules, new_rules, rep.changes)
