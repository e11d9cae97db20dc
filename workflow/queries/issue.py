"""One issue's page data: its evidence, history, escalations, letters and possible checkers."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.models import Escalation, Event, Evidence, Issue, Letter, Membership, User
from workflow.org.scope import is_recused


def evidence_of(session: Session, issue_id: int) -> list[Evidence]:
    """The issue's evidence files, oldest first."""
    return list(
        session.scalars(select(Evidence).where(Evidence.issue_id == issue_id).order_by(Evidence.id))
    )


def escalations_of(session: Session, issue_id: int) -> list[Escalation]:
    """The rungs that fired for the issue, oldest first."""
    return list(
        session.scalars(
            select(Escalation).where(Escalation.issue_id == issue_id).order_by(Escalation.id)
        )
    )


def letters_of(session: Session, issue_id: int) -> list[Letter]:
    """The letters issued for the issue, oldest first."""
    return list(
        session.scalars(select(Letter).where(Letter.issue_id == issue_id).order_by(Letter.id))
    )


def user_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Display names of the given user ids."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict(
        session.execute(select(User.id, User.display_name).where(User.id.in_(wanted))).all()
    )  # type: ignore[arg-type]


def checkers(session: Session, issue: Issue) -> list[User]:
    """Users with a spot-check post that may review ``issue`` (not recused)."""
    # IN, not JOIN + DISTINCT: PostgreSQL cannot compare the JSON preferences for DISTINCT
    posted = select(Membership.user_id).where(Membership.role == "spot_check")
    users = session.scalars(
        select(User).where(User.id.in_(posted), User.active).order_by(User.username).limit(200)
    ).all()
    return [
        u for u in users
        if any(m.role == "spot_check" and not is_recused(m.unit, issue) for m in u.memberships)
    ]  # fmt: skip


def evidence_count(session: Session, issue_id: int) -> int:
    """How many evidence files the issue has."""
    return session.scalar(select(func.count()).where(Evidence.issue_id == issue_id)) or 0


def evidence_on(session: Session, issue_id: int, evidence_id: int) -> Evidence | None:
    """The evidence file ``evidence_id`` if it belongs to the issue, else None."""
    return session.scalar(
        select(Evidence).where(Evidence.id == evidence_id, Evidence.issue_id == issue_id)
    )


def events_of(session: Session, issue_id: int) -> list[Event]:
    """The issue's whole history, oldest first (denied attempts included)."""
    stmt = select(Event).where(Event.issue_id == issue_id).order_by(Event.id)
    return list(session.scalars(stmt))


def timeline(session: Session, issue_id: int, limit: int = 200) -> list[Event]:
    """The issue's successful events, newest first, at most ``limit`` (the page's timeline)."""
    return list(
        session.scalars(
            select(Event)
            .where(Event.issue_id == issue_id, Event.outcome == "ok")
            .order_by(Event.id.desc())
            .limit(limit)
        )
    )
