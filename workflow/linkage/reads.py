"""What the 上下联动 pages read: rounds and teams in reach, team cards, special checks,
findings to push down and their trees, a team's shared findings.  Nothing here writes.

Scope comes in as ``reach`` (a reader's top units, see ``workflow.linkage.visibility``) or
as the reading ``user`` (issue visibility, ``workflow.org.scope``).  Must not import flask.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from workflow.linkage.shared import visible_findings_clause
from workflow.linkage.visibility import round_clause, teams_clause, under
from workflow.models import (
    Event,
    Issue,
    Round,
    SpecialCheck,
    Team,
    TeamMember,
    TeamTarget,
    Unit,
    User,
)
from workflow.org.scope import visible_clause
from workflow.queries import Page, paginate

PUSHABLE_KINDS = ("common_problem", "rectification")
TEAM_REFUSALS = ("team_member_add", "team_target_add")


def rounds_page(session: Session, reach: Sequence[Unit], page: int) -> Page:
    """One page of the rounds in ``reach``, newest first."""
    return paginate(
        session, select(Round).where(round_clause(reach)).order_by(Round.id.desc()), page
    )


def rounds_by_id(session: Session, ids: Iterable[int | None]) -> dict[int, Round]:
    """The rounds of ``ids`` (None left out), by id."""
    wanted = set(ids) - {None}
    return {r.id: r for r in session.scalars(select(Round).where(Round.id.in_(wanted)))}


def round_by_id(session: Session, round_id: int | None) -> Round | None:
    """The round ``round_id`` (no scope: for a round's own predecessor), or None."""
    return session.get(Round, round_id) if round_id else None


def relay_rounds(session: Session, reach: Sequence[Unit], round_id: int) -> list[Round]:
    """The rounds in ``reach`` that follow ``round_id`` as relay rounds."""
    stmt = select(Round).where(Round.previous_round_id == round_id, round_clause(reach))
    return list(session.scalars(stmt))


def round_teams(session: Session, reach: Sequence[Unit], round_id: int) -> list[Team]:
    """The teams of ``round_id`` a reader with ``reach`` sees, in the order they were formed."""
    stmt = select(Team).where(Team.round_id == round_id, teams_clause(reach)).order_by(Team.id)
    return list(session.scalars(stmt))


def team_members(session: Session, team_ids: Iterable[int]) -> list[tuple[int, User]]:
    """(team id, member) of the teams ``team_ids``, in the order the members were added."""
    rows = session.execute(
        select(TeamMember.team_id, User)
        .join(User, User.id == TeamMember.user_id)
        .where(TeamMember.team_id.in_(list(team_ids)))
        .order_by(TeamMember.id)
    )
    return [(team_id, user) for team_id, user in rows]


def team_target_units(session: Session, team_ids: Iterable[int]) -> list[tuple[TeamTarget, Unit]]:
    """(target row, unit) of the teams ``team_ids``, in unit tree order."""
    rows = session.execute(
        select(TeamTarget, Unit)
        .join(Unit, Unit.id == TeamTarget.unit_id)
        .where(TeamTarget.team_id.in_(list(team_ids)))
        .order_by(Unit.path)
    )
    return [(target, unit) for target, unit in rows]


def team_refusals(session: Session, limit: int = 500) -> list[Event]:
    """The latest refused (回避) team member and target additions, newest first."""
    stmt = (
        select(Event)
        .where(Event.action.in_(TEAM_REFUSALS), Event.outcome == "denied")
        .order_by(Event.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def special_checks_page(session: Session, reach: Sequence[Unit], page: int, size: int) -> Page:
    """One page of the special checks whose target or checker lies in ``reach``, newest first."""
    inside = select(Unit.id).where(under(Unit.path, reach))
    stmt = (
        select(SpecialCheck)
        .where(
            or_(SpecialCheck.target_unit_id.in_(inside), SpecialCheck.checker_unit_id.in_(inside))
        )
        .order_by(SpecialCheck.id.desc())
    )
    return paginate(session, stmt, page, size)


def unit_by_id(session: Session, unit_id: int) -> Unit | None:
    """The unit ``unit_id`` (no scope: the caller checks reach), or None."""
    return session.get(Unit, unit_id)


def units_by_id(session: Session, ids: Iterable[int]) -> dict[int, Unit]:
    """The units of ``ids``, by id."""
    return {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(set(ids))))}


def issue_numbers(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """The numbers of the issues ``ids`` (None left out), by id (no scope: numbers only)."""
    wanted = set(ids) - {None}
    rows = session.execute(select(Issue.id, Issue.number).where(Issue.id.in_(wanted)))
    return {issue_id: number for issue_id, number in rows}


def pushable_finding(session: Session, user: User, number: str) -> Issue | None:
    """The common problem or finding numbered ``number`` that ``user`` may see, or None."""
    return session.scalar(
        select(Issue).where(
            Issue.number == number, Issue.kind.in_(PUSHABLE_KINDS), visible_clause(user)
        )
    )


def pushed_root(session: Session, finding_id: int) -> Issue | None:
    """The first root common problem pushed down from ``finding_id``, or None."""
    return session.scalar(
        select(Issue)
        .where(
            Issue.kind == "common_problem",
            Issue.parent_id.is_(None),
            Issue.data["pushed_down_from"].as_integer() == finding_id,
        )
        .order_by(Issue.id)
        .limit(1)
    )


def recent_pushed_problems(session: Session, user: User, limit: int = 20) -> list[Issue]:
    """The latest root common problems with children that ``user`` may see, newest first."""
    stmt = (
        select(Issue)
        .where(
            Issue.kind == "common_problem",
            Issue.parent_id.is_(None),
            Issue.id.in_(select(Issue.parent_id).where(Issue.parent_id.is_not(None))),
            visible_clause(user),
        )
        .order_by(Issue.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def visible_children(session: Session, user: User, issue_id: int) -> list[Issue]:
    """The children of ``issue_id`` that ``user`` may see, in unit tree order."""
    stmt = (
        select(Issue)
        .where(Issue.parent_id == issue_id, visible_clause(user))
        .order_by(Issue.unit_path)
    )
    return list(session.scalars(stmt))


def shared_findings_page(session: Session, user: User, team_id: int, page: int) -> Page:
    """One page of the team's shared findings (``visible_findings_clause``) ``user`` may see."""
    stmt = (
        select(Issue)
        .where(visible_findings_clause(session, team_id), visible_clause(user))
        .order_by(Issue.round_id, Issue.id)
    )
    return paginate(session, stmt, page)


def user_by_username(session: Session, username: str) -> User | None:
    """The user with ``username`` (surrounding blanks ignored), or None."""
    return session.scalar(select(User).where(User.username == username.strip()))
