"""What the 上下联动 pages (and the office's admin pages) reach: units, rounds and teams.

A reader reaches the subtrees of their posts of the given roles (by default office,
supervisor and leader); a round is in reach when it is organised there or has a target
there.  Anything else answers 404 from the views.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import abort

from web.auth import me, roles
from web.database import get_session
from workflow import linkage
from workflow.models import Round, Team, Unit

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement

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


def _reach(reach: list[Unit] | None) -> list[Unit]:
    """``reach``, or the reader's tops when it is None."""
    return tops() if reach is None else reach


def under(path_column: Any, reach: list[Unit] | None = None) -> ColumnElement[bool]:
    """Rows whose unit path lies in ``reach`` (default: the reader's tops)."""
    return linkage.under(path_column, _reach(reach))


def in_reach(unit: Unit, reach: list[Unit] | None = None) -> bool:
    """Whether ``unit`` lies inside ``reach`` (default: the reader's tops)."""
    return any(unit.path.startswith(top.path) for top in _reach(reach))


def manages(unit: Unit) -> bool:
    """Whether the user holds an office post at or above ``unit``."""
    return any(m.role == "office" and unit.path.startswith(m.unit.path) for m in me().memberships)


def office_only() -> None:
    """403 unless the user holds an office post."""
    if "office" not in roles():
        abort(403)


def round_clause(reach: list[Unit] | None = None) -> ColumnElement[bool]:
    """Rounds organised in ``reach`` (default: the reader's tops) or with a target there."""
    return linkage.round_clause(_reach(reach))


def teams_clause(reach: list[Unit] | None = None) -> ColumnElement[bool]:
    """Teams a reader sees: every team of a round organised in ``reach`` (default: the
    reader's tops), and the teams of other rounds that inspect a unit there."""
    return linkage.teams_clause(_reach(reach))


def find_round(round_id: int | None) -> Round | None:
    """The round if it is in reach."""
    return linkage.find_round(get_session(), tops(), round_id)


def round_or_404(round_id: int) -> Round:
    """The round in reach, else 404."""
    return find_round(round_id) or abort(404)


def team_or_404(team_id: int) -> Team:
    """The team of a round in reach, else 404."""
    return linkage.find_team(get_session(), tops(), team_id) or abort(404)


def round_choices() -> list[Round]:
    """Rounds in reach, newest first (for selects)."""
    return linkage.rounds_in_reach(get_session(), tops())


def visible_ids(ids: set[int]) -> set[int]:
    """Those of ``ids`` that are issues the user may see."""
    return linkage.visible_issue_ids(get_session(), me(), ids)


def unit_choices(reach: list[Unit] | None = None) -> list[tuple[Unit, int]]:
    """The top units of ``reach`` (default: the reader's tops) and two levels below them,
    with their depth below their top (for filters)."""
    return linkage.unit_choices(get_session(), _reach(reach))
