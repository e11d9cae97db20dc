"""Roll-up of a common problem's tree (三级联动): counts per tree level, the chain above,
and the completion rate of its leaves.  Must not import flask."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from workflow.models import Issue, Unit


@dataclass
class Rollup:
    """Counts of a common problem's tree, level by level (depth 1 = its children)."""

    issue_id: int
    ancestors: list[dict[str, Any]]  # the chain above, root first: id, number, unit, state
    levels: list[dict[str, Any]]  # depth, unit levels, total, by state_kind, by stage
    total: int
    closed: int
    ongoing: int
    open: int
    completion_rate: float | None  # closed leaves / leaves (ongoing items are not closed)


def rollup(session: Session, issue_id: int) -> Rollup:
    """Roll a common problem's descendants up, per tree level (one recursive SQL query).

    Leaves are the descendants that are not themselves common problems: the units'
    rectification issues.  ``completion_rate`` = closed leaves / leaves (长期坚持 items
    never count as closed); None when there are no leaves yet.
    """
    tree = (
        select(Issue.id.label("id"), literal(0).label("depth"))
        .where(Issue.id == issue_id)
        .cte("tree", recursive=True)
    )
    tree = tree.union_all(select(Issue.id, tree.c.depth + 1).where(Issue.parent_id == tree.c.id))
    rows = session.execute(
        select(tree.c.depth, Unit.level, Issue.kind, Issue.state_kind, Issue.stage, func.count())
        .join(Issue, Issue.id == tree.c.id)
        .join(Unit, Unit.id == Issue.unit_id)
        .where(tree.c.depth > 0)
        .group_by(tree.c.depth, Unit.level, Issue.kind, Issue.state_kind, Issue.stage)
    ).all()
    levels: dict[int, dict[str, Any]] = {}
    leaves = {"open": 0, "ongoing": 0, "closed": 0}
    for depth, unit_level, kind, state_kind, stage, n in rows:
        lv = levels.setdefault(
            depth,
            {
                "depth": depth,
                "unit_levels": {},
                "total": 0,
                "by_state_kind": {},
                "by_stage": {},
                "common_problems": 0,
            },
        )
        lv["total"] += n
        lv["unit_levels"][unit_level] = lv["unit_levels"].get(unit_level, 0) + n
        lv["by_state_kind"][state_kind] = lv["by_state_kind"].get(state_kind, 0) + n
        lv["by_stage"][stage] = lv["by_stage"].get(stage, 0) + n
        if kind == "common_problem":
            lv["common_problems"] += n
        else:
            leaves[state_kind] = leaves.get(state_kind, 0) + n
    n_leaves = sum(leaves.values())
    return Rollup(
        issue_id=issue_id,
        ancestors=_ancestors(session, issue_id),
        levels=[levels[d] for d in sorted(levels)],
        total=n_leaves,
        closed=leaves["closed"],
        ongoing=leaves["ongoing"],
        open=leaves["open"],
        completion_rate=round(leaves["closed"] / n_leaves, 4) if n_leaves else None,
    )


def _ancestors(session: Session, issue_id: int) -> list[dict[str, Any]]:
    """The issues above ``issue_id``, the top first (one recursive query)."""
    up = (
        select(Issue.parent_id.label("id"), literal(1).label("height"))
        .where(Issue.id == issue_id)
        .cte("up", recursive=True)
    )
    up = up.union_all(select(Issue.parent_id, up.c.height + 1).where(Issue.id == up.c.id))
    rows = session.execute(
        select(Issue.id, Issue.number, Unit.code, Issue.state, up.c.height)
        .join(up, up.c.id == Issue.id)
        .join(Unit, Unit.id == Issue.unit_id)
        .order_by(up.c.height.desc())
    ).all()
    return [{"id": r[0], "number": r[1], "unit": r[2], "state": r[3]} for r in rows]
