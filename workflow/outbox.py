"""Enqueueing notifications: who is told, in which words, through which channels.

Owns resolving a definition's recipient names (``responsible_unit``, ``supervisor``, …) to
users, the short texts, and writing ``outbox`` rows in the caller's transaction (the
transactional outbox: a notification exists if and only if its cause committed).
Delivery is ``notifications/``'s job.  Must not import flask or ``notifications``.

Texts carry the issue number, deadline and a link, never problem-lead details: for a
restricted issue the subject names only the number, and only office and discipline staff
are ever told.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, lazyload

from workflow.models import Event, Issue, Membership, Outbox, User

RESTRICTED_RECIPIENTS = {"office", "discipline", "actor"}
LADDER_ROLES = {"supervisor", "office", "leader", "discipline"}

TEMPLATES = {
    "default": ("【整改通】{number} {what}", "问题 {number}：{what}。{due}\n{link}"),
    "escalation": ("【整改通】{number} {what}", "问题 {number} 触发「{what}」。{due}\n{link}"),
}


def _ancestor_ids(issue: Issue) -> list[int]:
    return [int(p) for p in issue.unit_path.strip("/").split("/") if p]


def resolve(
    session: Session,
    issue: Issue,
    names: Iterable[str],
    actor_id: int | None = None,
) -> list[int]:
    """User ids for recipient ``names`` of ``issue`` (deduplicated, active users only)."""
    names = set(names)
    if issue.restricted:
        names &= RESTRICTED_RECIPIENTS
    ancestors = _ancestor_ids(issue)
    conds = []
    if "responsible_unit" in names:
        conds.append(
            and_(
                Membership.unit_id == issue.unit_id, Membership.role.in_(("unit_user", "unit_head"))
            )
        )
    if "unit_head" in names:
        conds.append(and_(Membership.unit_id == issue.unit_id, Membership.role == "unit_head"))
    for role in ("supervisor", "office", "leader", "discipline"):
        if role in names:
            conds.append(and_(Membership.unit_id.in_(ancestors), Membership.role == role))
    ids: list[int] = []
    if conds:
        rows = session.execute(
            select(Membership.user_id, Membership.role, Membership.unit_id)
            .join(User, User.id == Membership.user_id)
            .where(or_(*conds), User.active)
        ).all()
        # a role up the tree is told at its nearest level only: the county supervisor of a
        # township's issue, not every supervisor up to the province (rungs widen by naming
        # wider roles, e.g. leader, not by flooding every ancestor)
        depth = {unit_id: n for n, unit_id in enumerate(ancestors)}
        nearest: dict[str, int] = {}
        for _uid, role, unit_id in rows:
            if role in LADDER_ROLES:
                nearest[role] = max(nearest.get(role, -1), depth.get(unit_id, -1))
        ids.extend(
            uid
            for uid, role, unit_id in rows
            if role not in LADDER_ROLES or depth.get(unit_id, -1) == nearest[role]
        )
    if "spot_check" in names and issue.checker_id:
        ids.append(issue.checker_id)
    if "requester" in names:
        requester = session.scalar(
            select(Event.actor_id)
            .where(Event.issue_id == issue.id, Event.outcome == "ok", Event.actor_id.is_not(None))
            .order_by(Event.id.desc())
            .limit(1)
        )
        if requester:
            ids.append(requester)
    if "actor" in names and actor_id:
        ids.append(actor_id)
    return list(dict.fromkeys(ids))


def render(template: str, issue: Issue, what: str, link_base: str = "") -> tuple[str, str]:
    """Subject and body for a notification about ``issue``."""
    subject_t, body_t = TEMPLATES.get(template, TEMPLATES["default"])
    due = f"完成时限：{issue.due_on.isoformat()}。" if issue.due_on else ""
    if issue.due_at and not issue.due_on:
        due = f"时限：{issue.due_at.strftime('%Y-%m-%d %H:%M')} UTC。"
    ctx = {
        "number": issue.number,
        "what": what,
        "due": due,
        "link": f"{link_base}/issues/{issue.id}",
    }
    return subject_t.format(**ctx), body_t.format(**ctx)


def channels_for(user: User) -> list[str]:
    """The channels a user receives on (preferences; in-app always)."""
    prefs = user.preferences or {}
    chosen = prefs.get("channels")
    if not chosen:
        chosen = ["in_app"] + (["email"] if user.email else [])
    if "in_app" not in chosen:
        chosen = ["in_app", *chosen]
    return [c for c in chosen if c in {"in_app", "email", "webhook"}]


def enqueue(
    session: Session,
    issue: Issue,
    recipients: Iterable[int],
    template: str,
    what: str,
    now: datetime,
    event: Event | None,
    key: str,
    payload: dict[str, Any] | None = None,
) -> int:
    """Write one outbox row per recipient and channel; ``key`` makes re-enqueueing a no-op."""
    subject, body = render(template, issue, what)
    # lazyload: the recipients' memberships (a selectin load plus their joined units) are
    # not needed to pick channels; they still load on first access if anything asks
    users = session.scalars(
        select(User).where(User.id.in_(list(recipients))).options(lazyload(User.memberships))
    ).all()
    n = 0
    for user in users:
        for channel in channels_for(user):
            dedupe = f"{key}:{user.id}:{channel}"
            session.add(
                Outbox(
                    dedupe_key=dedupe[:160],
                    event_id=event.id if event else None,
                    issue_id=issue.id,
                    recipient_id=user.id,
                    channel=channel,
                    template=template,
                    subject=subject,
                    body=body,
                    payload=payload or {"issue_id": issue.id, "number": issue.number},
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            n += 1
    return n
