"""Inspection rounds and teams, and the network's hand-entered figures and special checks."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.models.base import Base

if TYPE_CHECKING:  # the ORM resolves these names through its registry at run time
    from workflow.models.org import Unit


class Round(Base):
    """An inspection round, e.g. 十四届省委第六轮巡视 or 八届县委第一轮巡察."""

    __tablename__ = "round"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # xunshi (巡视, province) | xuncha (巡察)
    level: Mapped[str] = mapped_column(String(16))  # province | city | county
    organiser_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    previous_round_id: Mapped[int | None] = mapped_column(ForeignKey("round.id"))

    organiser: Mapped[Unit] = relationship(foreign_keys=[organiser_unit_id])


class Team(Base):
    """An inspection team (巡视组) of a round."""

    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    round: Mapped[Round] = relationship()


class TeamMember(Base):
    """A user serving on a team."""

    __tablename__ = "team_member"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)


class TeamTarget(Base):
    """A unit a team inspects, over a period."""

    __tablename__ = "team_target"
    __table_args__ = (UniqueConstraint("team_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)


class NetworkFigure(Base):
    """A network statistic entered by hand with its source (巡视巡察上下联动 figures)."""

    __tablename__ = "network_figure"
    __table_args__ = (UniqueConstraint("round_id", "unit_id", "metric"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("round.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    metric: Mapped[str] = mapped_column(String(64))
    value: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(255))
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    entered_at: Mapped[datetime]


class SpecialCheck(Base):
    """A 专项检查 / 回访检查 of a lower level's inspection office, with its checklist results."""

    __tablename__ = "special_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    checker_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("round.id"))
    checked_at: Mapped[datetime]
    results: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
