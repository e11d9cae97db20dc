"""SQLAlchemy 2 typed models: the whole persistent state of Rectiflow.

Owns the table layout only; behaviour lives in `workflow.service` (the only writer of
issue state), `workflow.audit` (the event chain) and `workflow.clock.escalation` (the sweep).
Must not import flask.

Units form a tree stored as a materialized path (``/1/5/23/``) so that a subtree is one
indexed ``LIKE '/1/5/%'`` range scan, never a recursive walk in Python.  Issues carry a
copy of their responsible unit's path (``unit_path``) for the same reason.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every database (SQLite keeps no offset, so we store UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Rectiflow stores aware UTC instants only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# clock_instance.check_at of a deadline started or changed since the last sweep: "look at
# it on the next sweep, whatever that sweep's instant" (a constant in the past, so one
# index range ``check_at <= :now`` finds every deadline the sweep must look at)
CHECK_NOW = datetime(2000, 1, 1, tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base of every Rectiflow table."""

    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class Unit(Base):
    """A node of the unit tree: province → city → county → township/department → village."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(
        String(16)
    )  # province|city|county|township|department|village
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    path: Mapped[str] = mapped_column(String(512), index=True)  # "/1/5/23/"
    depth: Mapped[int] = mapped_column(Integer, default=0)

    parent: Mapped[Unit | None] = relationship(remote_side=[id])

    def contains(self, other: Unit) -> bool:
        """Whether ``other`` lies in this unit's subtree (itself included)."""
        return other.path.startswith(self.path)


class User(Base):
    """A person who logs in; roles are held per unit through memberships."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # bumped on password or role change: sessions carrying an older value are ended
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    preferences: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )


class Membership(Base):
    """One role a user holds in one unit (a user may hold several)."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "unit_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))

    user: Mapped[User] = relationship(back_populates="memberships")
    unit: Mapped[Unit] = relationship(lazy="joined")


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
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(
        String(32), index=True
    )  # rectification|problem_lead|common_problem
    definition_id: Mapped[int] = mapped_column(ForeignKey("definition_version.id"))
    state: Mapped[str] = mapped_column(String(64))
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


class Event(Base):
    """An append-only audit event, hash-chained to its predecessor (see workflow.audit)."""

    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issue.id"), index=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_role: Mapped[str | None] = mapped_column(String(32))
    actor_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16), default="ok")  # ok | denied
    from_state: Mapped[str | None] = mapped_column(String(64))
    to_state: Mapped[str | None] = mapped_column(String(64))
    definition_version: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # never set or read: it tells the unit of work to insert an issue before its events
    # when both are new in one flush (issues opened in a batch)
    issue: Mapped[Issue | None] = relationship(lazy="raise_on_sql")


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


class Outbox(Base):
    """A notification waiting for delivery; written in the same transaction as its cause."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id"))
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issue.id"), index=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # in_app | email | webhook
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


class ApiToken(Base):
    """An API token of a user for systems integration; only its hash is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the token
    prefix: Mapped[str] = mapped_column(String(12))  # shown in lists to tell tokens apart
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class LoginAttempt(Base):
    """A login attempt, kept in the database so rate limits hold across workers."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_user_at", "username", "at"),
        Index("ix_login_attempt_addr_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    success: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditCheckpoint(Base):
    """A signed checkpoint of the audit chain head (the key lives outside the database)."""

    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]


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
