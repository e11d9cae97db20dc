"""What a reader of the 上下联动 pages reaches: units, rounds and teams inside ``reach``.

``reach`` is a list of top units (a reader's posts of the reading roles, nested ones left
out); a round is in reach when it is organised there or has a target there, a team when
its round is organised there or it inspects a unit there (the clauses themselves are the
read side's, :mod:`workflow.queries`, shared with the admin pages).  Must not import flask.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.models import Issue, Round, Team, Unit, User
from workflow.org.scope import path_range, visible_clause

# re-exported: the linkage package offers them to its pages with the rest of its reach
from workflow.queries.admin import round_clause as round_clause
from workflow.queries.admin import teams_clause as teams_clause
from workflow.queries.common import under as under


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
