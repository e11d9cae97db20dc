"""What a reader of the 上下联动 pages reaches: units, rounds and teams inside ``reach``.

``reach`` is a list of top units (a reader's posts of the reading roles, nested ones left
out); a round is in reach when it is organised there or has a target there, a team when
its round is organised there or it inspects a unit there.  Must not import flask.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from workflow.models import Issue, Round, Team, TeamTarget, Unit, User
from workflow.org.scope import path_range, visible_clause


def under(path_column: Any, reach: Sequence[Unit]) -> ColumnElement[bool]:
    """SQL condition: the unit path in ``path_column`` lies inside one of ``reach``."""
    parts = [path_range(path_column, u.path) for u in reach]
    return or_(*parts) if parts else false()


def round_clause(reach: Sequence[Unit]) -> ColumnElement[bool]:
    """SQL condition: rounds organised in ``reach`` or with a target there."""
    inside = select(Unit.id).where(under(Unit.path, reach))
    targeted = (
        select(Team.round_id)
        .join(TeamTarget, TeamTarget.team_id == Team.id)
        .where(TeamTarget.unit_id.in_(inside))
    )
    return or_(Round.organiser_unit_id.in_(inside), Round.id.in_(targeted))


def teams_clause(reach: Sequence[Unit]) -> ColumnElement[bool]:
    """SQL condition: teams of rounds organised in ``reach``, and teams inspecting a unit there."""
    inside = select(Unit.id).where(under(Unit.path, reach))
    organised = select(Round.id).where(Round.organiser_unit_id.in_(inside))
    targeting = select(TeamTarget.team_id).where(TeamTarget.unit_id.in_(inside))
    return or_(Team.round_id.in_(organised), Team.id.in_(targeting))


def find_round(session: Session, reach: Sequence[Unit], round_id: int | None) -> Round | None:
    """The round ``round_id`` if it is in ``reach``, else None."""
    if round_id is None:
        return None
    return session.scalar(select(Round).where(Round.id == round_id, round_clause(reach)))


def find_team(session: Session, reach: Sequence[Unit], team_id: int) -> Team | None:
    """The team ``team_id`` if its round is in ``reach``, else None."""
    team = session.get(Team, team_id)
    if team is None or find_round(session, reach, team.round_id) is None:
        return None
    return team


def rounds_in_reach(session: Session, reach: Sequence[Unit]) -> list[Round]:
    """The rounds in ``reach``, newest first (for selects)."""
    return list(session.scalars(select(Round).where(round_clause(reach)).order_by(Round.id.desc())))


def visible_issue_ids(session: Session, user: User, ids: set[int]) -> set[int]:
    """Those of ``ids`` that are issues ``user`` may see."""
    if not ids:
        return set()
    return set(session.scalars(select(Issue.id).where(Issue.id.in_(ids), visible_clause(user))))


def unit_choices(session: Session, reach: Sequence[Unit]) -> list[tuple[Unit, int]]:
    """The units of ``reach`` and two levels below, each with its depth below its top (≤ 300)."""
    out: list[tuple[Unit, int]] = []
    for top in reach:
        rows = session.scalars(
            select(Unit)
            .where(path_range(Unit.path, top.path), Unit.depth <= top.depth + 2)
            .order_by(Unit.path)
            .limit(300)
        )
        out += [(u, u.depth - top.depth) for u in rows]
    return out[:300]
