"""Organisation and information linkage: the one information space of a unit inspected by
simultaneous rounds (组织方式联动), and lower levels' earlier findings a higher-level team
reuses (成果运用 / 信息运用联动).  Problem leads (restricted) never enter either: their
details stay with the discipline commission.  Must not import flask.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import Session

from workflow.linkage.common import NO_TEAM, in_subtree, resolve_round, resolve_unit, team_targets
from workflow.linkage.rounds import LEVEL_RANK
from workflow.models import Issue, Round, Team


def simultaneous_rounds(session: Session, round_id: int) -> list[Round]:
    """Other rounds whose dates overlap ``round_id``'s (an open end counts as still running)."""
    rnd = resolve_round(session, round_id)
    if rnd.starts_on is None:
        return []
    q = select(Round).where(
        Round.id != rnd.id,
        Round.starts_on.is_not(None),
        or_(Round.ends_on.is_(None), Round.ends_on >= rnd.starts_on),
    )
    if rnd.ends_on is not None:
        q = q.where(Round.starts_on <= rnd.ends_on)
    return list(session.scalars(q.order_by(Round.starts_on, Round.id)))


def shared_space(session: Session, unit_id: int, round_ids: Sequence[int]) -> list[Issue]:
    """The one information space of a unit inspected by several rounds at once.

    Every finding (problem leads excepted) of ``round_ids`` about ``unit_id`` or any unit
    inside it — e.g. a provincial 巡视 of a unit and the unit's 同步开展内部巡察.
    """
    unit = resolve_unit(session, unit_id)
    return list(
        session.scalars(
            select(Issue)
            .where(
                Issue.round_id.in_(list(round_ids)), in_subtree(unit), Issue.restricted.is_(False)
            )
            .order_by(Issue.round_id, Issue.id)
        )
    )


def visible_findings_clause(session: Session, team_id: int) -> ColumnElement[bool]:
    """SQL condition for the findings a team sees (for paged lists); see the function below."""
    team = session.get(Team, team_id)
    if team is None:
        raise LookupError(NO_TEAM(team=team_id))
    own = [u for _, u in team_targets(session, Team.id == team.id)]
    parts = [
        and_(
            Issue.round_id == team.round_id,
            or_(Issue.team_id == team.id, *[in_subtree(t) for t in own]),
        )
    ]
    sim = [r.id for r in simultaneous_rounds(session, team.round_id)]
    for round_id, other in team_targets(session, Team.round_id.in_(sim)) if sim else []:
        for mine in own:
            if other.path.startswith(mine.path) or mine.path.startswith(other.path):
                shared = mine if other.path.startswith(mine.path) else other
                parts.append(
                    and_(Issue.round_id.in_([round_id, team.round_id]), in_subtree(shared))
                )
    return and_(or_(*parts) if parts else false(), Issue.restricted.is_(False))


def visible_findings_for_team(session: Session, team_id: int) -> list[Issue]:
    """The findings a team sees: its round's, and a shared space with simultaneous rounds.

    = issues of the team's round for its targets (or recorded by the team), plus, for each
    simultaneous round (overlapping dates) with a target on the same branch of the tree as
    one of this team's targets (one contains the other), both rounds' issues in the higher
    of the two units' subtree — so a provincial team and the unit's internal inspection see
    each other's findings, both ways.  Problem leads never appear.
    """
    clause = visible_findings_clause(session, team_id)
    return list(session.scalars(select(Issue).where(clause).order_by(Issue.round_id, Issue.id)))


def earlier_findings(
    session: Session, unit_id: int, before: date, levels: Sequence[str] | None = None
) -> list[Issue]:
    """Findings of inspections of ``unit_id`` (or units inside it) that started before ``before``.

    ``levels`` keeps rounds of those levels only (e.g. the city and county rounds a
    provincial team reuses, 成果运用联动).  Problem leads never appear.
    """
    unit = resolve_unit(session, unit_id)
    q = (
        select(Issue)
        .join(Round, Round.id == Issue.round_id)
        .where(Round.starts_on < before, in_subtree(unit), Issue.restricted.is_(False))
    )
    if levels is not None:
        q = q.where(Round.level.in_(list(levels)))
    return list(session.scalars(q.order_by(Round.starts_on, Issue.id)))


def earlier_findings_for_team(session: Session, team_id: int) -> dict[int, list[Issue]]:
    """Per target unit id: lower levels' findings from rounds before this team's round."""
    team = session.get(Team, team_id)
    if team is None:
        raise LookupError(NO_TEAM(team=team_id))
    rank = LEVEL_RANK.get(team.round.level, 0)
    lower = [lv for lv, r in LEVEL_RANK.items() if r > rank]
    before = team.round.starts_on or date.max
    return {
        u.id: earlier_findings(session, u.id, before, lower)
        for _, u in team_targets(session, Team.id == team.id)
    }
