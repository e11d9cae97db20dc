"""The daily e-mail digest for users who chose ``preferences["digest"] = true``.

Owns collecting the e-mails the dispatcher held back (outbox status ``digest``) into one
new outbox row per user (template ``digest``), in one transaction with marking the held
rows ``digested`` — so the digest exists if and only if its items left the queue, and it
is then delivered (retried, deduped) like any other e-mail.  In-app notifications are
never held.  The scheduler runs :func:`digest` once a day (``DIGEST_HOUR``, local time).
Must not import flask or ``web``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from notifications.dispatch import setting
from workflow.models import Outbox

MAX_ITEMS = 200


def digest(db: Any, now: datetime, config: Mapping[str, Any]) -> int:
    """Write one digest e-mail per user with held items; returns how many were written."""
    day = now.astimezone(ZoneInfo(setting(config, "TIMEZONE"))).date()
    written = 0
    with db.writing() as session:
        held = list(
            session.scalars(
                select(Outbox)
                .where(Outbox.status == "digest")
                .order_by(Outbox.recipient_id, Outbox.id)
            )
        )
        per_user: dict[int, list[Outbox]] = defaultdict(list)
        for row in held:
            per_user[row.recipient_id].append(row)
        for user_id, rows in per_user.items():
            shown = rows[:MAX_ITEMS]
            lines = [
                f"{n}. {r.subject}\n   {r.body.splitlines()[-1]}" for n, r in enumerate(shown, 1)
            ]
            if len(rows) > len(shown):
                lines.append(f"……另有 {len(rows) - len(shown)} 条，请登录系统查看。")
            session.add(
                Outbox(
                    dedupe_key=f"digest:{user_id}:{day.isoformat()}:{rows[0].id}-{rows[-1].id}",
                    event_id=None,
                    issue_id=None,
                    recipient_id=user_id,
                    channel="email",
                    template="digest",
                    subject=f"【整改通】{day.month}月{day.day}日提醒汇总（{len(rows)}条）",
                    body="\n".join(lines),
                    payload={"items": [r.id for r in rows]},
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            session.execute(
                update(Outbox)
                .where(Outbox.id.in_([r.id for r in rows]), Outbox.status == "digest")
                .values(status="digested", sent_at=now)
                .execution_options(synchronize_session=False)
            )
            written += 1
    return written


def digest_job(database_url: str, config: Mapping[str, Any]) -> int:
    """The scheduler's daily job: write the digests at the current instant."""
    from datetime import UTC

    from workflow.db import shared_database

    return digest(shared_database(database_url), datetime.now(UTC), config)
