"""What the 上下联动 pages (and the office's admin pages) reach: units, rounds and teams.

A reader reaches the subtrees of their posts of the given roles (by default office,
supervisor and leader); a round is in reach when it is organised there or has a target
there.  Anything else answers 404 from the views.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import abort
from sqlalchemy import ColumnElement, false, or_, select

from web.auth import me, roles
from web.database import get_session
from workflow.models import Issue, Round, Team, TeamTarget, Unit
from workflow.org.scope import path_range, visible_clause

READERS = ("office", "supervisor", "leader")


def tops(held: Iterable[str] = READERS) -> list[Unit]:
    """The top units of the user's posts of the ``held`` roles (nested ones left out)."""
    wanted = set(held)
    units = sorted(
        {m.unit.id: m.unit for m in me().memberships if m.role in wanted}.values(),
        key=lambda u: u.path,
    )
    out: list[Unit] = []
    for unit in units:
        if not any(unit.path.startswith(top.path) for top in out):
            out.append(unit)
    return out


def under(path_column: Any, reach: list[Unit] | None = None) -> ColumnElement[bool]:
    """Rows whose unit path lies in ``reach`` (default: the reader's tops)."""
    units = tops() if reach is None else reach
    parts = [path_range(path_column, u.path) for u in units]
    return or_(*parts) if parts else false()


def in_reach(unit: Unit, reach: list[Unit] | None = None) -> bool:
    """Whether ``unit`` lies inside ``reach`` (default: the reader's tops)."""
    return any(unit.path.startswith(top.path) for top in (tops() if reach is None else reach))


def manages(unit: Unit) -> bool:
    """Whether the user holds an office post at or above ``unit``."""
    return any(m.role == "office" and unit.path.startswith(m.unit.path) for m in me().memberships)


def office_only() -> None:
    """403 unless the user holds an office post."""
    if "office" not in roles():
        abort(403)


def round_clause(reach: list[Unit] | None = None) -> ColumnElement[bool]:
    """Rounds organised in ``reach`` (default: the reader's tops) or with a target there."""
    inside = select(Unit.id).where(under(Unit.path, reach))
    targeted = (
        select(Team.round_id)
        .join(TeamTarget, TeamTarget.team_id == Team.id)
        .where(TeamTarget.unit_id.in_(inside))
    )
    return or_(Round.organiser_unit_id.in_(inside), Round.id.in_(targeted))


def teams_clause(reach: list[Unit] | None = None) -> ColumnElement[bool]:
    """Teams a reader sees: every team of a round organised in ``reach`` (default: the
    reader's tops), and the teams of other rounds that inspect a unit there."""
    inside = select(Unit.id).where(under(Unit.path, reach))
    organised = select(Round.id).where(Round.organiser_unit_id.in_(inside))
    targeting = select(TeamTarget.team_id).where(TeamTarget.unit_id.in_(inside))
    return or_(Team.round_id.in_(organised), Team.id.in_(targeting))


def find_round(round_id: int | None) -> Round | None:
    """The round if it is in reach."""
    if round_id is None:
        return None
    return get_session().scalar(select(Round).where(Round.id == round_id, round_clause()))


def round_or_404(round_id: int) -> Round:
    """The round in reach, else 404."""
    return find_round(round_id) or abort(404)


def team_or_404(team_id: int) -> Team:
    """The team of a round in reach, else 404."""
    team = get_session().get(Team, team_id)
    if team is None or find_round(team.round_id) is None:
        abort(404)
    return team


def round_choices() -> list[Round]:
    """Rounds in reach, newest first (for selects)."""
    return list(
        get_session().scalars(select(Round).where(round_clause()).order_by(Round.id.desc()))
    )


def visible_ids(ids: set[int]) -> set[int]:
    """Those of ``ids`` that are issues the user may see."""
    if not ids:
        return set()
    return set(
        get_session().scalars(select(Issue.id).where(Issue.id.in_(ids), visible_clause(me())))
    )


def unit_choices(reach: list[Unit] | None = None) -> list[tuple[Unit, int]]:
    """The top units of ``reach`` (default: the reader's tops) and two levels below them,
    with their depth below their top (for filters)."""
    out: list[tuple[Unit, int]] = []
    for top in tops() if reach is None else reach:
        rows = get_session().scalars(
            select(Unit)
            .where(path_range(Unit.path, top.path), Unit.depth <= top.depth + 2)
            .order_by(Unit.path)
            .limit(300)
        )
        out += [(u, u.depth - top.depth) for u in rows]
    return out[:300]
