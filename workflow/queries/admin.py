"""The office's administration lists: units, users, rounds with their teams, group robots,
definitions.

The ``office_*`` lists show only what lies in the office's reach (the subtrees of its office
posts); the plain :func:`units_page` and :func:`users_page` are unscoped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from workflow.models import (
    DefinitionVersion,
    Issue,
    Membership,
    Round,
    Team,
    TeamMember,
    TeamTarget,
    Unit,
    UnitRobot,
    User,
)
from workflow.queries.common import Page, escape_like, matching, paginate, under

OFFICE_PAGE_SIZE = 50


def units_page(session: Session, page: int = 1, q: str | None = None) -> Page:
    """Units in tree order, one page."""
    stmt = select(Unit)
    if q:
        like = f"%{escape_like(q.strip())}%"
        stmt = stmt.where(
            or_(Unit.code.ilike(like, escape="\\"), Unit.name.ilike(like, escape="\\"))
        )
    return paginate(session, stmt.order_by(Unit.path), page, 50)


def users_page(session: Session, page: int = 1, q: str | None = None) -> Page:
    """Users with their memberships, one page."""
    stmt = select(User)
    if q:
        like = f"%{escape_like(q.strip())}%"
        stmt = stmt.where(
            or_(User.username.ilike(like, escape="\\"), User.display_name.ilike(like, escape="\\"))
        )
    return paginate(session, stmt.order_by(User.username), page, 50)


def office_units(session: Session, reach: Sequence[Unit], page: int, q: str | None) -> Page:
    """Units in ``reach``, in tree order, one page."""
    stmt = select(Unit).where(under(Unit.path, reach))
    if q:
        stmt = stmt.where(matching(q, Unit.code, Unit.name))
    return paginate(session, stmt.order_by(Unit.path), page, OFFICE_PAGE_SIZE)


def office_users(session: Session, reach: Sequence[Unit], page: int, q: str | None) -> Page:
    """Users holding a post in ``reach``, one page (a user without one is not listed)."""
    posted = select(Membership.user_id).join(Unit, Unit.id == Membership.unit_id)
    stmt = select(User).where(User.id.in_(posted.where(under(Unit.path, reach))))
    if q:
        stmt = stmt.where(matching(q, User.username, User.display_name))
    return paginate(session, stmt.order_by(User.username), page, OFFICE_PAGE_SIZE)


def round_clause(reach: Sequence[Unit]) -> ColumnElement[bool]:
    """Rounds organised in ``reach`` or with a target there."""
    inside = select(Unit.id).where(under(Unit.path, reach))
    targeted = (
        select(Team.round_id)
        .join(TeamTarget, TeamTarget.team_id == Team.id)
        .where(TeamTarget.unit_id.in_(inside))
    )
    return or_(Round.organiser_unit_id.in_(inside), Round.id.in_(targeted))


def teams_clause(reach: Sequence[Unit]) -> ColumnElement[bool]:
    """Teams seen from ``reach``: every team of a round organised there, and the teams of
    other rounds that inspect a unit there."""
    inside = select(Unit.id).where(under(Unit.path, reach))
    organised = select(Round.id).where(Round.organiser_unit_id.in_(inside))
    targeting = select(TeamTarget.team_id).where(TeamTarget.unit_id.in_(inside))
    return or_(Team.round_id.in_(organised), Team.id.in_(targeting))


def office_teams(session: Session, reach: Sequence[Unit]) -> Sequence[Any]:
    """(team, members, targets in ``reach``) for each team seen from ``reach``, by round."""
    inside = select(Unit.id).where(under(Unit.path, reach))
    targets = func.count(func.distinct(TeamTarget.id))
    return session.execute(
        select(Team, func.count(func.distinct(TeamMember.id)), targets)
        .outerjoin(TeamMember, TeamMember.team_id == Team.id)
        .outerjoin(TeamTarget, (TeamTarget.team_id == Team.id) & TeamTarget.unit_id.in_(inside))
        .where(teams_clause(reach))
        .group_by(Team.id)
        .order_by(Team.round_id, Team.id)
    ).all()


def office_rounds(session: Session, reach: Sequence[Unit]) -> list[Round]:
    """Rounds organised in or inspecting ``reach``, newest first."""
    stmt = select(Round).where(round_clause(reach)).order_by(Round.id.desc())
    return list(session.scalars(stmt))


def round_issue_counts(
    session: Session, rounds: Sequence[Round], reach: Sequence[Unit]
) -> dict[int, int]:
    """Per round of ``rounds``, how many of its issues lie in ``reach``."""
    counted = select(Issue.round_id, func.count()).where(
        Issue.round_id.in_([r.id for r in rounds]), under(Issue.unit_path, reach)
    )
    return dict(session.execute(counted.group_by(Issue.round_id)).all())  # type: ignore[arg-type]


def definition_versions(session: Session, ordered: bool = True) -> list[DefinitionVersion]:
    """Every stored definition version, by name and newest first (or as stored)."""
    stmt = select(DefinitionVersion)
    if ordered:
        stmt = stmt.order_by(DefinitionVersion.name, DefinitionVersion.id.desc())
    return list(session.scalars(stmt))


def office_robots(session: Session, reach: Sequence[Unit]) -> Sequence[Any]:
    """(robot, unit) for every group robot of a unit in ``reach``, in tree order."""
    return session.execute(
        select(UnitRobot, Unit)
        .join(Unit, Unit.id == UnitRobot.unit_id)
        .where(under(Unit.path, reach))
        .order_by(Unit.path, UnitRobot.id)
    ).all()
