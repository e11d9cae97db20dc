"""Notifications: the transactional outbox, the in-app inbox, and the units' group robots."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from workflow.models.base import Base


class Outbox(Base):
    """A notification waiting for delivery; written in the same transaction as its cause."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id"))
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issue.id"), index=True)
    # a person, or (robot channels) the unit group robot the message is posted to
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    robot_id: Mapped[int | None] = mapped_column(ForeignKey("unit_robot.id"))
    channel: Mapped[str] = mapped_column(String(16))  # in_app|email|webhook|dingtalk|wecom|feishu
    template: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class InboxMessage(Base):
    """An in-app notification, shown behind the bell."""

    __tablename__ = "inbox_message"
    __table_args__ = (UniqueConstraint("user_id", "outbox_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issue.id"))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class UnitRobot(Base):
    """A group-chat robot of a unit (DingTalk, WeCom, Feishu) that is told about its issues."""

    __tablename__ = "unit_robot"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # dingtalk | wecom | feishu
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str | None] = mapped_column(String(200))  # DingTalk 加签 / Feishu 签名校验
    at: Mapped[list[str]] = mapped_column(JSON, default=list)  # mobiles or user ids to @
    # the unit's own issues always; with subtree, those of every unit below it too
    subtree: Mapped[bool] = mapped_column(default=True)
    escalations_only: Mapped[bool] = mapped_column(default=True)  # warnings, not every step
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
