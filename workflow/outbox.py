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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, or_, select
from sqlalchemy.orm import Session

from workflow.db import among, insert_plain
from workflow.models import Event, Issue, Membership, Outbox, UnitRobot, User
from workflow.timezone import office_time

RESTRICTED_RECIPIENTS = {"office", "discipline", "actor"}
LADDER_ROLES = {"supervisor", "office", "leader", "discipline"}

TEMPLATES = {
    "default": ("【整改通】{number} {what}", "问题 {number}：{what}。{due}\n{link}"),
    "escalation": ("【整改通】{number} {what}", "问题 {number} 触发「{what}」。{due}\n{link}"),
}


def _ancestor_ids(issue: Issue) -> list[int]:
    return [int(p) for p in issue.unit_path.strip("/").split("/") if p]


@dataclass(frozen=True)
class Recipient:
    """A user to notify, with what picking their channels needs."""

    id: int
    email: str | None
    preferences: dict[str, Any] | None


def resolve(
    session: Session,
    issue: Issue,
    names: Iterable[str],
    actor_id: int | None = None,
) -> list[int]:
    """User ids for recipient ``names`` of ``issue`` (deduplicated, active users only)."""
    return [r.id for r in recipients(session, issue, names, actor_id)]


def recipients(
    session: Session,
    issue: Issue,
    names: Iterable[str],
    actor_id: int | None = None,
) -> list[Recipient]:
    """The recipients ``names`` of ``issue`` (deduplicated, active users only).

    One query finds the unit roles with their users' channel settings, so
    :func:`enqueue` needs no second read for them.
    """
    return Audience(session, _allowed(issue, names), [issue]).of(issue, actor_id)


class Audience:
    """The recipients ``names`` of many issues, with one membership read for them all.

    The one place the rules live (:func:`recipients` is an audience of one issue): unit
    roles at the issue's own unit; ladder roles at the nearest ancestor level that has one;
    the assigned checker; ``requester`` (who took the latest action) and ``actor`` per issue;
    active users only; a restricted issue tells office, discipline and the actor only.
    """

    def __init__(self, session: Session, names: Iterable[str], issues: Iterable[Issue]) -> None:
        issues = list(issues)
        self.session, self.names = session, frozenset(names)
        self.by_unit = _unit_rows(session, issues, set(self.names))
        checkers = {i.checker_id for i in issues if i.checker_id}
        self.people = _users(session, checkers) if "spot_check" in self.names else {}

    def of(self, issue: Issue, actor_id: int | None = None) -> list[Recipient]:
        """The recipients of ``issue``: unit roles first, then the named individuals."""
        names = _allowed(issue, self.names)
        found = _pick(issue, names, self.by_unit)
        extra: list[int] = []
        if "spot_check" in names and issue.checker_id:
            extra.append(issue.checker_id)
        if "requester" in names:
            requester = self.session.scalar(
                select(Event.actor_id)
                .where(
                    Event.issue_id == issue.id, Event.outcome == "ok", Event.actor_id.is_not(None)
                )
                .order_by(Event.id.desc())
                .limit(1)
            )
            if requester:
                extra.append(requester)
        if "actor" in names and actor_id:
            extra.append(actor_id)
        missing = {uid for uid in extra if uid not in found and uid not in self.people}
        if missing:
            self.people.update(_users(self.session, missing))
        for uid in extra:
            if uid in self.people:
                found.setdefault(uid, self.people[uid])
        return list(found.values())


def _users(session: Session, ids: Iterable[int]) -> dict[int, Recipient]:
    """Active users by id, as recipients."""
    ids = set(ids)
    if not ids:
        return {}
    return {
        uid: Recipient(uid, email, prefs)
        for uid, email, prefs in session.execute(
            select(User.id, User.email, User.preferences).where(
                among(session, User.id, sorted(ids)), User.active
            )
        )
    }


def _allowed(issue: Issue, names: Iterable[str]) -> set[str]:
    """The names that may be told about ``issue`` (problem leads: office and discipline)."""
    allowed = set(names)
    return allowed & RESTRICTED_RECIPIENTS if issue.restricted else allowed


MemberRow = tuple[int, str, int, str | None, dict[str, Any] | None]


def _unit_rows(
    session: Session, issues: list[Issue], names: set[str]
) -> dict[int, list[MemberRow]]:
    """Memberships (user, role, unit, email, preferences) ``names`` may pick from, by unit."""
    own = {i.unit_id for i in issues}
    ancestors = {a for i in issues for a in _ancestor_ids(i)}
    conds = []
    unit_roles = {"unit_user", "unit_head"} if "responsible_unit" in names else set()
    unit_roles |= {"unit_head"} if "unit_head" in names else set()
    if unit_roles:
        conds.append(
            and_(among(session, Membership.unit_id, sorted(own)), Membership.role.in_(unit_roles))
        )
    ladder = sorted(LADDER_ROLES & names)
    if ladder:
        conds.append(
            and_(among(session, Membership.unit_id, sorted(ancestors)), Membership.role.in_(ladder))
        )
    by_unit: dict[int, list[MemberRow]] = {}
    if not conds:
        return by_unit
    for r in session.execute(
        select(
            Membership.user_id,
            Membership.role,
            Membership.unit_id,
            User.email,
            User.preferences,
        )
        .join(User, User.id == Membership.user_id)
        .where(or_(*conds), User.active)
        .order_by(Membership.id)
    ):
        by_unit.setdefault(r[2], []).append(tuple(r))  # type: ignore[arg-type]
    return by_unit


def _pick(
    issue: Issue, names: set[str], rows: Mapping[int, list[MemberRow]]
) -> dict[int, Recipient]:
    """The unit-role recipients of ``issue`` among ``rows``, by user id."""
    ancestors = _ancestor_ids(issue)
    # a role up the tree is told at its nearest level only: the county supervisor of a
    # township's issue, not every supervisor up to the province (rungs widen by naming
    # wider roles, e.g. leader, not by flooding every ancestor)
    depth = {unit_id: n for n, unit_id in enumerate(ancestors)}
    unit_roles = {"unit_user", "unit_head"} if "responsible_unit" in names else set()
    unit_roles |= {"unit_head"} if "unit_head" in names else set()
    mine = [
        r
        for unit_id in depth
        for r in rows.get(unit_id, ())
        if (r[1] in unit_roles and unit_id == issue.unit_id) or (r[1] in LADDER_ROLES & names)
    ]
    nearest: dict[str, int] = {}
    for _uid, role, unit_id, _e, _p in mine:
        if role in LADDER_ROLES:
            nearest[role] = max(nearest.get(role, -1), depth[unit_id])
    found: dict[int, Recipient] = {}
    for uid, role, unit_id, email, prefs in mine:
        if role not in LADDER_ROLES or depth[unit_id] == nearest[role]:
            found.setdefault(uid, Recipient(uid, email, prefs))
    return found


def render(template: str, issue: Issue, what: str, link_base: str = "") -> tuple[str, str]:
    """Subject and body for a notification about ``issue``."""
    subject_t, body_t = TEMPLATES.get(template, TEMPLATES["default"])
    due = f"完成时限：{issue.due_on.isoformat()}。" if issue.due_on else ""
    if issue.due_at and not issue.due_on:
        # offices work in Beijing time: never show a reader UTC
        local = issue.due_at.astimezone(office_time())
        due = f"时限：{local.strftime('%Y-%m-%d %H:%M')}（北京时间）。"
    ctx = {
        "number": issue.number,
        "what": what,
        "due": due,
        "link": f"{link_base}/issues/{issue.id}",
    }
    return subject_t.format(**ctx), body_t.format(**ctx)


def channels_for(user: User | Recipient) -> list[str]:
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
    recipients: Iterable[int] | Iterable[Recipient],
    template: str,
    what: str,
    now: datetime,
    event: Event | None,
    key: str,
    payload: dict[str, Any] | None = None,
) -> int:
    """Write one outbox row per recipient and channel; ``key`` makes re-enqueueing a no-op.

    ``recipients`` are user ids or :class:`Recipient` (from :func:`recipients`, saving the
    read of their channel settings).  The rows go in as one multi-row INSERT.
    """
    people = [r for r in recipients if isinstance(r, Recipient)]
    ids = [r for r in recipients if isinstance(r, int)]
    if ids:
        people += [
            Recipient(uid, email, prefs)
            for uid, email, prefs in session.execute(
                select(User.id, User.email, User.preferences).where(User.id.in_(ids))
            )
        ]
    rows = outbox_rows(issue, people, template, what, now, event, key, payload)
    insert_rows(session, rows)
    return len(rows)


def outbox_rows(
    issue: Issue,
    people: Iterable[Recipient],
    template: str,
    what: str,
    now: datetime,
    event: Event | int | None,
    key: str,
    payload: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The outbox rows (as column values) telling ``people`` about ``issue``."""
    people = list(people)
    if not people:
        return []
    subject, body = render(template, issue, what)
    event_id = event.id if isinstance(event, Event) else event
    data = payload or {"issue_id": issue.id, "number": issue.number}
    return [
        {
            "dedupe_key": f"{key}:{person.id}:{channel}"[:160],
            "event_id": event_id,
            "issue_id": issue.id,
            "recipient_id": person.id,
            "channel": channel,
            "template": template,
            "subject": subject,
            "body": body,
            "payload": data,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "robot_id": None,
            "_issue": issue,  # for the robots' rows (insert_rows); not a column
            "_key": key,
        }
        for person in people
        for channel in channels_for(person)
    ]


OUTBOX_TABLE = cast(Table, Outbox.__table__)


def insert_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert outbox rows built by :func:`outbox_rows` in one ``executemany``.

    As plain tuples (``db.insert_plain``): the sweep writes six rows per rung, and
    SQLAlchemy's per-row parameter processing was a sixth of its time.  The group robots
    of the issues' units get their rows here too (:func:`robot_rows`), so every path that
    tells people about an issue tells its units' groups as well.
    """
    rows = rows + robot_rows(session, rows)
    insert_plain(session, OUTBOX_TABLE, [_columns(r) for r in rows])


def _columns(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` without the keys that are not columns, ``robot_id`` always present."""
    out = {k: v for k, v in row.items() if not k.startswith("_")}
    out.setdefault("robot_id", None)
    return out


def robot_rows(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (notification, robot) for the active robots of the issues' units.

    A robot on the issue's own unit is told; one on a unit above it only with ``subtree``;
    a robot with ``escalations_only`` only of warnings; problem leads never (a group chat
    is not a need-to-know audience).  One query for all the rows' issues.
    """
    told: dict[tuple[int, str], dict[str, Any]] = {}
    for row in rows:
        issue = row.get("_issue")
        if issue is not None and not issue.restricted:
            told.setdefault((issue.id, str(row["_key"])), row)
    if not told:
        return []
    units = {a for row in told.values() for a in _ancestor_ids(row["_issue"])}
    robots = session.execute(
        select(UnitRobot.id, UnitRobot.unit_id, UnitRobot.kind, UnitRobot.subtree,
               UnitRobot.escalations_only)
        .where(among(session, UnitRobot.unit_id, sorted(units)), UnitRobot.active)
    ).all()  # fmt: skip
    if not robots:
        return []
    out = []
    for (_issue_id, key), row in told.items():
        issue = row["_issue"]
        above = set(_ancestor_ids(issue))
        for robot_id, unit_id, kind, subtree, escalations_only in robots:
            near = unit_id == issue.unit_id or (subtree and unit_id in above)
            if near and not (escalations_only and row["template"] != "escalation"):
                out.append({**row, "dedupe_key": f"{key}:robot{robot_id}"[:160],
                            "recipient_id": None, "robot_id": robot_id, "channel": kind})  # fmt: skip
    return out
