"""The outbox dispatcher: at-least-once delivery with retries, backoff and incidents.

Owns moving ``outbox`` rows from ``pending`` to ``sent`` or ``failed``, delivery incidents
and their retry, and the user preferences that delay a delivery (quiet hours) or divert
it into the daily digest.  Must not import flask or ``web``.

One :func:`dispatch` call:

1. **claim** (short write transaction): due ``pending`` rows, oldest first —
   ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so several dispatchers share the outbox
   without taking the same row; ``BEGIN IMMEDIATE`` serialises claims on SQLite.  A
   claimed row gets ``attempts + 1`` and ``next_attempt_at = now + claim timeout``, so a
   dispatcher killed mid-delivery leaves it to be retried once the claim runs out.
2. **deliver** outside any transaction (SMTP, HTTP) — channels raise on failure.
3. **record** (short write transaction): ``sent``, or a retry at
   ``now + backoff(attempts)`` (exponential: base × factor^(attempts-1), capped), or —
   after ``DISPATCH_MAX_ATTEMPTS`` (default 5) or a permanent error — ``failed`` plus a
   ``delivery_failed`` audit event: the *delivery incident* that admins list with
   :func:`incidents` and send again with :func:`retry_incident`.  Transactional channels
   (the in-app inbox) deliver inside this transaction.

A crash between 2 and 3 redelivers the row: at-least-once.  Every receiver dedupes on
the event id (the outbox ``dedupe_key``): the inbox by its unique key, e-mail by
``Message-ID``/``X-Rectiflow-Event``, webhooks by ``X-Rectiflow-Event``.

Statuses: ``pending`` → ``sent`` | ``failed``; ``digest`` (held for the daily digest of
a user who asked for one) → ``digested`` once the digest row that carries it is written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from notifications import channels
from notifications.channels import Context, Delivery, PermanentError
from workflow import audit
from workflow.models import Outbox, UnitRobot, User
from workflow.timezone import OFFICE_TIMEZONE

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "DISPATCH_MAX_ATTEMPTS": 5,
    "DISPATCH_BACKOFF_BASE_SECONDS": 60,
    "DISPATCH_BACKOFF_FACTOR": 4,
    "DISPATCH_BACKOFF_MAX_SECONDS": 6 * 3600,
    "DISPATCH_CLAIM_SECONDS": 300,
    "TIMEZONE": OFFICE_TIMEZONE,
    "DIGEST_HOUR": 8,
}
REMOTE = ("email", "webhook")  # a person's quiet hours hold these; robots post to a group


def setting(config: Mapping[str, Any], key: str) -> Any:
    """``config[key]``, or Rectiflow's default for it."""
    value = config.get(key)
    return DEFAULTS.get(key) if value is None else value


def backoff(config: Mapping[str, Any], attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt."""
    base = float(setting(config, "DISPATCH_BACKOFF_BASE_SECONDS"))
    factor = float(setting(config, "DISPATCH_BACKOFF_FACTOR"))
    cap = float(setting(config, "DISPATCH_BACKOFF_MAX_SECONDS"))
    return timedelta(seconds=min(cap, base * factor ** max(0, attempts - 1)))


def quiet_until(prefs: Mapping[str, Any], now: datetime, tz: str) -> datetime | None:
    """When the user's quiet hours (``"22:00-07:00"``, local) end, if ``now`` is inside them."""
    spec = prefs.get("quiet_hours")
    if not spec:
        return None
    try:
        start_s, end_s = str(spec).split("-")
        start, end = time.fromisoformat(start_s.strip()), time.fromisoformat(end_s.strip())
    except ValueError:
        log.warning("ignoring malformed quiet_hours %r", spec)
        return None
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    t = local.timetz().replace(tzinfo=None)
    if start == end:
        return None
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    if not inside:
        return None
    end_day = local.date() if t < end else local.date() + timedelta(days=1)
    return datetime.combine(end_day, end, zone).astimezone(UTC)


@dataclass
class DispatchReport:
    """What one dispatch call did."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    deferred: int = 0  # quiet hours
    held_for_digest: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass
class _Claim:
    row_id: int
    attempts: int
    delivery: Delivery


def _robot_settings(robot: UnitRobot | None) -> dict[str, Any] | None:
    """What a robot channel needs (None for a robot removed or switched off: it fails)."""
    if robot is None or not robot.active:
        return None
    return {
        "url": robot.url,
        "secret": robot.secret,
        "at": list(robot.at or []),
        "name": robot.name,
    }


def _delivery(row: Outbox, user: User | None, robot: UnitRobot | None = None) -> Delivery:
    return Delivery(
        outbox_id=row.id,
        event_id=row.dedupe_key,
        channel=row.channel,
        template=row.template,
        recipient_id=row.recipient_id or 0,  # 0: a group robot, not a person
        recipient_name=user.display_name if user else "",
        recipient_email=user.email if user else None,
        subject=row.subject,
        body=row.body,
        payload=dict(row.payload or {}),
        issue_id=row.issue_id,
        created_at=row.created_at,
        preferences=dict((user.preferences if user else None) or {}),
        robot=_robot_settings(robot) if row.robot_id else None,
    )


def _claim(
    db: Any, now: datetime, config: Mapping[str, Any], batch: int, report: DispatchReport
) -> list[_Claim]:
    tz = setting(config, "TIMEZONE")
    lease = timedelta(seconds=float(setting(config, "DISPATCH_CLAIM_SECONDS")))
    claims: list[_Claim] = []
    with db.writing() as session:
        q = (
            select(Outbox)
            .where(Outbox.status == "pending", Outbox.next_attempt_at <= now)
            .order_by(Outbox.next_attempt_at, Outbox.id)
            .limit(batch)
        )
        if session.get_bind().dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        rows = list(session.scalars(q))
        users = {
            u.id: u
            for u in session.scalars(
                select(User).where(User.id.in_({r.recipient_id for r in rows}))
            )
        }
        robots = {
            r.id: r
            for r in session.scalars(
                select(UnitRobot).where(UnitRobot.id.in_({r.robot_id for r in rows if r.robot_id}))
            )
        }
        for row in rows:
            user = users.get(row.recipient_id) if row.recipient_id else None
            prefs = (user.preferences if user else None) or {}
            if row.channel == "email" and prefs.get("digest") and row.template != "digest":
                row.status = "digest"
                report.held_for_digest += 1
                continue
            if row.channel in REMOTE:
                until = quiet_until(prefs, now, tz)
                if until is not None:
                    row.next_attempt_at = until
                    report.deferred += 1
                    continue
            row.attempts += 1
            row.next_attempt_at = now + lease
            robot = robots.get(row.robot_id) if row.robot_id else None
            claims.append(_Claim(row.id, row.attempts, _delivery(row, user, robot)))
    report.claimed += len(claims)
    return claims


def dispatch(
    db: Any,
    now: datetime,
    config: Mapping[str, Any],
    batch: int = 100,
    *,
    wall: Callable[[], datetime] | None = None,
) -> DispatchReport:
    """Deliver up to ``batch`` due outbox rows; see the module docstring."""
    report = DispatchReport()
    wall = wall or (lambda: datetime.now(UTC))
    claims = _claim(db, now, config, batch, report)
    if not claims:
        return report
    outcome: dict[int, Exception | None] = {}
    ctx = Context(config=config, now=now, wall=wall)
    for claim in claims:
        channel = channels.get(claim.delivery.channel)
        if channel.transactional:
            continue
        try:
            channel.send(claim.delivery, ctx)
            outcome[claim.row_id] = None
        except Exception as exc:  # recorded below: every failure is kept and retried
            outcome[claim.row_id] = exc
    with db.writing() as session:
        tctx = Context(config=config, now=now, wall=wall, session=session)
        for claim in claims:
            channel = channels.get(claim.delivery.channel)
            if channel.transactional:
                try:
                    with session.begin_nested():
                        channel.send(claim.delivery, tctx)
                    outcome[claim.row_id] = None
                except Exception as exc:
                    outcome[claim.row_id] = exc
            _record(session, claim, outcome[claim.row_id], now, config, report)
    return report


def _record(
    session: Session,
    claim: _Claim,
    error: Exception | None,
    now: datetime,
    config: Mapping[str, Any],
    report: DispatchReport,
) -> None:
    """Write the result of one attempt, unless another dispatcher re-claimed the row."""
    mine = (
        Outbox.id == claim.row_id,
        Outbox.status == "pending",
        Outbox.attempts == claim.attempts,
    )
    if error is None:
        values: dict[str, Any] = {"status": "sent", "sent_at": now, "last_error": None}
        report.sent += 1
    else:
        message = f"{type(error).__name__}: {error}"[:2000]
        report.errors.append(f"outbox {claim.row_id}: {message}")
        last = claim.attempts >= int(setting(config, "DISPATCH_MAX_ATTEMPTS"))
        if last or isinstance(error, PermanentError):
            values = {"status": "failed", "last_error": message}
            report.failed += 1
        else:
            wait = backoff(config, claim.attempts)
            if getattr(
                error, "retry_after", None
            ):  # a rate limit: never sooner than the receiver asked
                wait = max(wait, timedelta(seconds=float(error.retry_after)))  # type: ignore[attr-defined]
            values = {"next_attempt_at": now + wait, "last_error": message}
            report.retried += 1
    result = session.execute(
        update(Outbox).where(*mine).values(**values).execution_options(synchronize_session=False)
    )
    if result.rowcount and values.get("status") == "failed":  # type: ignore[attr-defined]
        row = session.get(Outbox, claim.row_id)
        assert row is not None
        audit.append(
            session,
            issue_id=row.issue_id,
            at=now,
            actor_id=None,
            actor_role="system",
            action="delivery_failed",
            outcome="ok",
            data={
                "outbox_id": row.id,
                "channel": row.channel,
                "recipient_id": row.recipient_id,
                "attempts": claim.attempts,
                "error": values["last_error"],
            },
        )


# ------------------------------------------------------------------------------ incidents


def incidents(session: Session, limit: int = 200) -> list[Outbox]:
    """Delivery incidents: outbox rows that failed after their last attempt, newest first."""
    return list(
        session.scalars(
            select(Outbox).where(Outbox.status == "failed").order_by(Outbox.id.desc()).limit(limit)
        )
    )


def retry_incident(
    session: Session, outbox_id: int, now: datetime, actor_id: int | None = None
) -> Outbox:
    """Send a failed row again from scratch (an admin's decision, audited)."""
    row = session.get(Outbox, outbox_id, with_for_update=True)
    if row is None or row.status != "failed":
        raise ValueError(f"outbox row {outbox_id} is not a delivery incident")
    row.status, row.attempts, row.next_attempt_at = "pending", 0, now
    audit.append(
        session,
        issue_id=row.issue_id,
        at=now,
        actor_id=actor_id,
        actor_role="office" if actor_id else "system",
        action="delivery_retry",
        data={"outbox_id": row.id, "channel": row.channel, "previous_error": row.last_error},
    )
    return row


def dispatch_all(
    db: Any, now: datetime, config: Mapping[str, Any], batch: int = 100, max_batches: int = 100
) -> DispatchReport:
    """Call :func:`dispatch` until nothing due is left (or ``max_batches``)."""
    total = DispatchReport()
    for _ in range(max_batches):
        r = dispatch(db, now, config, batch)
        for key in ("claimed", "sent", "retried", "failed", "deferred", "held_for_digest"):
            setattr(total, key, getattr(total, key) + getattr(r, key))
        total.errors += r.errors
        if r.claimed + r.deferred + r.held_for_digest < batch:
            break
    return total


def dispatch_job(database_url: str, config: Mapping[str, Any], batch: int = 100) -> dict[str, Any]:
    """The scheduler's job: drain the due outbox at the current instant."""
    from workflow.db import shared_database

    report = dispatch_all(shared_database(database_url), datetime.now(UTC), config, batch)
    if report.claimed or report.deferred or report.held_for_digest:
        log.info("dispatch: %s", report.as_dict())
    return report.as_dict()


def config_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Notification settings for processes without Flask (Prefect workers): the one loader.

    The same settings the web app reads (:func:`workflow.config.load`: ``<instance>/config.py``
    then ``RECTIFLOW_*``), so SMTP and webhook settings need not be repeated per worker.
    """
    from workflow import config

    return config.load(environ=environ)
