"""Deadlines and what fires on them: clock instances, escalations, letters, the calendar, leases."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.models.base import CHECK_NOW, Base

if TYPE_CHECKING:  # the ORM finds these classes through its registry at run time
    from workflow.models.issues import Issue


class ClockInstance(Base):
    """One running (or finished) deadline of an issue, computed from a definition clock."""

    __tablename__ = "clock_instance"
    __table_args__ = (
        Index("ix_clock_running_due", "status", "due_at"),
        Index("ix_clock_check_at", "check_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issue.id"), index=True)
    # as Event.issue: the issue's row goes in before its deadlines in one flush
    issue: Mapped[Issue] = relationship(lazy="raise_on_sql")
    clock: Mapped[str] = mapped_column(String(64))
    generation: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running|paused|stopped
    started_at: Mapped[datetime]
    due_at: Mapped[datetime]
    original_due_at: Mapped[datetime]
    paused_at: Mapped[datetime | None]
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    # how the due instant was computed, so a provisional one can be recomputed later
    basis: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    stopped_at: Mapped[datetime | None]
    # when the sweep must next look at this deadline: the instant its next unfired rung
    # fires, CHECK_NOW when it was started or changed since, NULL when nothing is left to
    # fire (paused, stopped, every rung fired).  See workflow.clock.escalation, "Idle sweeps".
    check_at: Mapped[datetime | None] = mapped_column(default=lambda: CHECK_NOW)


class Escalation(Base):
    """A ladder rung or count rule that fired, once per (issue, clock instance, rung)."""

    __tablename__ = "escalation"
    __table_args__ = (UniqueConstraint("issue_id", "clock_instance_id", "rung"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issue.id"), index=True)
    clock_instance_id: Mapped[int] = mapped_column(ForeignKey("clock_instance.id"))
    clock: Mapped[str] = mapped_column(String(64))
    rung: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime]  # the instant the rung was due
    fired_at: Mapped[datetime]
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letter.id"))


class Letter(Base):
    """A numbered document (督办通知书, 告诫书, ...) issued by a rung."""

    __tablename__ = "letter"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issue.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    issued_at: Mapped[datetime]
    new_final_date: Mapped[date | None] = mapped_column(Date)
    html: Mapped[str] = mapped_column(Text)


class WorkDay(Base):
    """One day of the Chinese working calendar (statutory holidays and 调休 included)."""

    __tablename__ = "work_calendar"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    kind: Mapped[str] = mapped_column(String(16))  # workday | weekend | holiday | makeup
    name: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(128))


class CalendarYear(Base):
    """A year whose working calendar is loaded (official, from a package or the office)."""

    __tablename__ = "calendar_year"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(255))
    loaded_at: Mapped[datetime]


class Lease(Base):
    """A named lease so only one sweep or dispatcher works at a time on SQLite."""

    __tablename__ = "lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]
