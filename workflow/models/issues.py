"""Issues and what hangs on them: definition versions, supporting units, measures, evidence."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.models.base import Base, UTCDateTime

if TYPE_CHECKING:  # the ORM finds these classes through its registry at run time
    from workflow.models.org import Unit
    from workflow.models.rounds import Round


class DefinitionVersion(Base):
    """One loaded version of a workflow definition, kept forever so pinned issues run on it."""

    __tablename__ = "definition_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the source
    filename: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime]


class Issue(Base):
    """One row of the 整改台账: a problem, a problem lead or a common problem."""

    __tablename__ = "issue"
    __table_args__ = (
        Index("ix_issue_unit_path_state", "unit_path", "state"),
        Index("ix_issue_open_due", "is_open", "due_at"),
        # reverse checks draw closed items in sample_key order from a random point
        Index("ix_issue_stage_sample", "stage", "sample_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(
        String(32), index=True
    )  # rectification|problem_lead|common_problem
    definition_id: Mapped[int] = mapped_column(ForeignKey("definition_version.id"))
    state: Mapped[str] = mapped_column(String(64))
    # a random key fixed at insert: a uniform sample is a seek to random points in it
    sample_key: Mapped[int | None] = mapped_column(Integer, default=lambda: _sample_key())
    stage: Mapped[str] = mapped_column(String(32))
    state_kind: Mapped[str] = mapped_column(String(16))  # open | closed | ongoing
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("issue.id"), index=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("round.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    inspected_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)  # 牵头单位
    unit_path: Mapped[str] = mapped_column(String(512))
    source: Mapped[str | None] = mapped_column(String(16))  # 巡视 | 巡察
    category: Mapped[str | None] = mapped_column(String(100), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    supervising_leader: Mapped[str | None] = mapped_column(String(100))  # 分管领导
    person_in_charge: Mapped[str | None] = mapped_column(String(100))  # 责任人
    deadline_type: Mapped[str] = mapped_column(String(16), default="by_deadline")
    due_on: Mapped[date | None] = mapped_column(Date)  # the date promised in the 台账
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # earliest running deadline
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    completion: Mapped[str] = mapped_column(String(16), default="未完成")
    warning_level: Mapped[str] = mapped_column(String(16), default="green")  # green|yellow|red
    grade: Mapped[str | None] = mapped_column(String(8))
    rules_written: Mapped[int] = mapped_column(Integer, default=0)
    money_recovered: Mapped[Decimal] = mapped_column(Numeric(16, 2), default=Decimal("0"))
    people_handled: Mapped[int] = mapped_column(Integer, default=0)
    relapse_count: Mapped[int] = mapped_column(Integer, default=0)
    checker_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # problem-lead fields (restricted issues only)
    disposition: Mapped[str | None] = mapped_column(String(16))
    cadre_level: Mapped[str | None] = mapped_column(String(32))
    cases_opened: Mapped[int] = mapped_column(Integer, default=0)
    sanctions: Mapped[int] = mapped_column(Integer, default=0)
    org_measures: Mapped[int] = mapped_column(Integer, default=0)
    import_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # relay inspection (接力式巡察): a new check linked to an earlier round's item
    linked_issue_id: Mapped[int | None] = mapped_column(ForeignKey("issue.id"))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]

    # lazy "select": a session loads each (few, large) definition version once
    definition: Mapped[DefinitionVersion] = relationship(lazy="select")
    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id], lazy="joined")
    inspected_unit: Mapped[Unit | None] = relationship(foreign_keys=[inspected_unit_id])
    round: Mapped[Round | None] = relationship()
    measures: Mapped[list[Measure]] = relationship(
        back_populates="issue", order_by="Measure.seq", cascade="all, delete-orphan"
    )
    supporting: Mapped[list[SupportingUnit]] = relationship(cascade="all, delete-orphan")

    # the ORM adds "WHERE version = :loaded" to every UPDATE of an issue; the service bumps
    # the number itself, once per action (version_id_generator=False), see workflow.service
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class SupportingUnit(Base):
    """A 配合单位 of an issue."""

    __tablename__ = "issue_supporting_unit"
    __table_args__ = (UniqueConstraint("issue_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issue.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))

    unit: Mapped[Unit] = relationship(lazy="joined")


class Measure(Base):
    """One 整改措施 of an issue's plan, with its own due date."""

    __tablename__ = "measure"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issue.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date | None] = mapped_column(Date)
    done: Mapped[bool] = mapped_column(Boolean, default=False)

    issue: Mapped[Issue] = relationship(back_populates="measures")


class Evidence(Base):
    """A 佐证材料 file, stored under instance/uploads/ by a random name."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issue.id"), index=True)
    measure_id: Mapped[int | None] = mapped_column(ForeignKey("measure.id"))
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime]


def _sample_key() -> int:
    """A uniformly random key in [0, 2**31) for :attr:`Issue.sample_key`."""
    return secrets.randbelow(2**31)
