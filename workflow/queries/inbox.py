"""The in-app inbox: the bell's unread count and latest messages, the message list, read marks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from workflow.models import InboxMessage, User
from workflow.queries.common import Page, paginate


def unread_count(session: Session, user: User) -> int:
    """How many in-app messages ``user`` has not read."""
    return (
        session.scalar(
            select(func.count()).where(
                InboxMessage.user_id == user.id, InboxMessage.read_at.is_(None)
            )
        )
        or 0
    )


def bell(session: Session, user: User, size: int = 6) -> tuple[int, list[InboxMessage]]:
    """The unread count and the newest ``size`` messages of ``user``, in one query (the bell
    is on every page: the count rides along as a window over all of the user's messages)."""
    unread = func.count().filter(InboxMessage.read_at.is_(None)).over()
    rows = session.execute(
        select(InboxMessage, unread)
        .where(InboxMessage.user_id == user.id)
        .order_by(InboxMessage.read_at.is_not(None), InboxMessage.id.desc())
        .limit(size)
    ).all()
    return (int(rows[0][1]) if rows else 0), [r[0] for r in rows]


def inbox(session: Session, user: User, page: int = 1, size: int = 10) -> Page:
    """``user``'s in-app messages, newest first."""
    stmt = (
        select(InboxMessage)
        .where(InboxMessage.user_id == user.id)
        .order_by(InboxMessage.read_at.is_not(None), InboxMessage.id.desc())
    )
    return paginate(session, stmt, page, size)


def message_of(session: Session, user: User, message_id: int) -> InboxMessage | None:
    """The message ``message_id`` if it is addressed to ``user``, else None."""
    msg = session.get(InboxMessage, message_id)
    return msg if msg is not None and msg.user_id == user.id else None


def mark_read(session: Session, user: User, message_id: int, at: datetime) -> bool:
    """The inbox's read marker (not issue state): mark one of ``user``'s messages read.

    A message already read keeps its first reading time; False when the message is not
    ``user``'s (callers answer 404).  The caller commits.
    """
    msg = message_of(session, user, message_id)
    if msg is None:
        return False
    msg.read_at = msg.read_at or at
    return True


def mark_all_read(session: Session, user: User, at: datetime) -> None:
    """The inbox's read marker (not issue state): mark every unread message of ``user`` read."""
    session.execute(
        update(InboxMessage)
        .where(InboxMessage.user_id == user.id, InboxMessage.read_at.is_(None))
        .values(read_at=at)
    )
