"""The in-app inbox (the bell): delivery writes an ``inbox_message`` row.

Owns the inbox channel and the helpers the web app uses: unread count, list, mark read.
Dedupe: ``inbox_message`` is unique on (user_id, outbox_id), and delivery is
``INSERT … ON CONFLICT DO NOTHING`` inside the dispatcher's result transaction, so a
redelivered row never shows twice.  Must not import flask.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from notifications.channels import Context, Delivery, DeliveryError
from workflow.models import InboxMessage


class InAppChannel:
    """Writes the message into the recipient's inbox."""

    name = "in_app"
    transactional = True

    def send(self, delivery: Delivery, ctx: Context) -> None:
        if ctx.session is None:
            raise DeliveryError("the in-app channel needs the dispatcher's session")
        dialect = ctx.session.get_bind().dialect.name
        ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(InboxMessage)
        ctx.session.execute(
            ins.values(
                user_id=delivery.recipient_id,
                outbox_id=delivery.outbox_id,
                issue_id=delivery.issue_id,
                subject=delivery.subject,
                body=delivery.body,
                created_at=ctx.now,
            ).on_conflict_do_nothing(index_elements=["user_id", "outbox_id"])
        )


CHANNEL = InAppChannel()


def unread_count(session: Session, user_id: int) -> int:
    """How many inbox messages ``user_id`` has not read."""
    return (
        session.scalar(
            select(func.count()).where(
                InboxMessage.user_id == user_id, InboxMessage.read_at.is_(None)
            )
        )
        or 0
    )


def messages(session: Session, user_id: int, limit: int = 50) -> list[InboxMessage]:
    """The newest inbox messages of ``user_id``."""
    return list(
        session.scalars(
            select(InboxMessage)
            .where(InboxMessage.user_id == user_id)
            .order_by(InboxMessage.id.desc())
            .limit(limit)
        )
    )


def mark_read(
    session: Session, user_id: int, now: datetime, ids: Iterable[int] | None = None
) -> int:
    """Mark ``ids`` (or every unread message) of ``user_id`` read; returns how many."""
    stmt = update(InboxMessage).where(
        InboxMessage.user_id == user_id, InboxMessage.read_at.is_(None)
    )
    if ids is not None:
        stmt = stmt.where(InboxMessage.id.in_(list(ids)))
    result = session.execute(stmt.values(read_at=now).execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]
