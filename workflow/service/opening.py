"""Opening issues (the office's 移交): one, a batch (the Excel import), or a child (举一反三)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import audit, outbox
from workflow.clock import deadlines
from workflow.clock.calendar import WorkCalendar
from workflow.db import allocate_ids
from workflow.definition import Definition
from workflow.definition.registry import definition_of, latest
from workflow.messages import N_, Text
from workflow.models import (
    DefinitionVersion,
    Event,
    Issue,
    Membership,
    Round,
    SupportingUnit,
    Unit,
    User,
)
from workflow.service.effects import apply_effect, calendar_getter, set_state
from workflow.service.errors import Denied, ServiceError
from workflow.service.field_scope import check_open_scope, office_member
from workflow.service.open_fields import units_named, validate_open

NOT_OFFICE = Text(
    "service_open_not_office",
    N_("only the inspection office of a unit above may register its issues"),
)

Accepted = tuple[int, dict[str, Any], Membership | None]


def open_issue(
    session: Session,
    definition_name: str,
    fields: Mapping[str, Any],
    user: User | None,
    now: datetime,
    parent: Issue | None = None,
    calendar: WorkCalendar | None = None,
) -> Issue:
    """Register a new issue (the office's 移交); ``user`` None means the system itself."""
    (outcome,) = open_issues(
        session, definition_name, [fields], user, now, parent=parent, calendar=calendar
    )
    if isinstance(outcome, ServiceError):
        raise outcome
    return outcome


def open_issues(
    session: Session,
    definition_name: str,
    rows: Sequence[Mapping[str, Any]],
    user: User | None,
    now: datetime,
    parent: Issue | None = None,
    calendar: WorkCalendar | None = None,
) -> list[Issue | ServiceError]:
    """Register several new issues at once; per row the issue, or the error that refused it.

    A refused row writes nothing.  The accepted rows go in with a handful of statements
    in all: their ids are drawn first, so each issue's number, first deadline and first
    event are complete when inserted; recipients are resolved once per unit; the outbox
    rows are one INSERT.  The caller commits.
    """
    dv: DefinitionVersion = latest(session, definition_name)
    d = definition_of(dv)
    outcomes, accepted = _accept(session, rows, user)
    if not accepted:
        return [o for o in outcomes if o is not None]  # nothing to write, no lock to take
    cal = calendar_getter(session, calendar)
    chain = audit.Chain(session)
    opened = _insert(session, d, dv, chain, accepted, rows, user, parent, now, cal)
    for (n, _clean, _member), (issue, _event) in zip(accepted, opened, strict=True):
        outcomes[n] = issue
    # ids up front for the deadlines and events too: the flush then inserts each table with
    # one multi-row statement instead of one INSERT … RETURNING per row
    started = [c for issue, _e in opened for c in deadlines.started_on(issue) if c.id is None]
    for inst, inst_id in zip(
        started, allocate_ids(session, "clock_instance", len(started), flush=False), strict=True
    ):
        inst.id = inst_id
    chain.number()
    session.flush()
    _notify_opened(session, d, opened, user, now)
    return [o for o in outcomes if o is not None]


def _accept(
    session: Session, rows: Sequence[Mapping[str, Any]], user: User | None
) -> tuple[list[Issue | ServiceError | None], list[Accepted]]:
    """Validate each row: its error, or None and the row's clean fields and office post."""
    outcomes: list[Issue | ServiceError | None] = []
    accepted: list[Accepted] = []
    units = units_named(session, rows) if len(rows) > 1 else None
    rounds: dict[str, Round | None] = {}
    in_reach: dict[int, bool] = {}  # round id → whether the opener reaches it
    for n, fields in enumerate(rows):
        try:
            clean = validate_open(session, fields, units, rounds)
            member = office_member(user, clean["unit"])
            if user is not None and member is None:
                raise Denied(NOT_OFFICE())
            check_open_scope(session, user, clean, in_reach)
        except ServiceError as exc:
            outcomes.append(exc)
            continue
        outcomes.append(None)  # the issue, once opened
        accepted.append((n, clean, member))
    return outcomes, accepted


def _insert(
    session: Session,
    d: Definition,
    dv: DefinitionVersion,
    chain: audit.Chain,
    accepted: list[Accepted],
    rows: Sequence[Mapping[str, Any]],
    user: User | None,
    parent: Issue | None,
    now: datetime,
    cal: Callable[[], WorkCalendar],
) -> list[tuple[Issue, Event]]:
    """Add the accepted issues with their on-open effects and open events (not numbered)."""
    ids = allocate_ids(session, "issue", len(accepted))
    opened: list[tuple[Issue, Event]] = []
    with session.no_autoflush:
        for (n, clean, member), issue_id in zip(accepted, ids, strict=True):
            issue = _new_issue(d, dv, issue_id, clean, parent, now)
            session.add(issue)
            for effect in d.on_open:
                if effect.kind != "notify":
                    apply_effect(session, d, effect, issue, user or _system(), {}, now, cal)
            deadlines.refresh_issue_due(session, issue)
            event = chain.append(
                issue_id=issue.id,
                at=now,
                actor_id=user.id if user else None,
                actor_role=member.role if member else "system",
                actor_unit_id=member.unit_id if member else None,
                action="open",
                from_state=None,
                to_state=issue.state,
                definition_version=d.version,
                data={"input": {k: _plain(v) for k, v in rows[n].items()}, "v": 1},
            )
            opened.append((issue, event))
    return opened


def _new_issue(
    d: Definition,
    dv: DefinitionVersion,
    issue_id: int,
    clean: Mapping[str, Any],
    parent: Issue | None,
    now: datetime,
) -> Issue:
    """The row of a new issue in the definition's initial state (not yet added)."""
    unit: Unit = clean["unit"]
    prefix = {"problem_lead": "XS", "common_problem": "GX"}.get(d.kind, "ZG")
    issue = Issue(
        id=issue_id,
        number=clean.get("number") or f"{prefix}{now.year}-{issue_id:06d}",
        kind=d.kind,
        definition_id=dv.id,
        definition=dv,
        restricted=d.restricted,
        parent_id=parent.id if parent else None,
        round_id=clean["round"].id if clean.get("round") else (parent.round_id if parent else None),
        inspected_unit_id=clean["inspected_unit"].id if clean.get("inspected_unit") else unit.id,
        unit_id=unit.id,
        unit=unit,
        unit_path=unit.path,
        source=clean.get("source"),
        category=clean.get("category"),
        title=clean["title"],
        description=clean.get("description") or "",
        supervising_leader=clean.get("supervising_leader"),
        person_in_charge=clean.get("person_in_charge"),
        deadline_type=clean["deadline_type"],
        due_on=clean.get("due_on"),
        cadre_level=clean.get("cadre_level"),
        import_key=clean.get("import_key"),
        opened_at=now,
        updated_at=now,
        data={},
    )
    set_state(issue, d, d.initial, now)
    for u in clean["supporting_units"]:
        issue.supporting.append(SupportingUnit(unit_id=u.id, unit=u))
    return issue


def _notify_opened(
    session: Session,
    d: Definition,
    opened: list[tuple[Issue, Event]],
    user: User | None,
    now: datetime,
) -> None:
    """The on-open notifications of freshly opened issues, as one outbox INSERT."""
    effects = [e for e in d.on_open if e.kind == "notify"]
    if not effects or not opened:
        return
    actor_id = user.id if user else None
    rows: list[dict[str, Any]] = []
    for effect in effects:
        # one membership read for the whole batch
        audience = outbox.Audience(session, effect.args["to"], [i for i, _e in opened])
        per_issue = {i.id: audience.of(i, actor_id) for i, _e in opened}
        for issue, event in opened:
            rows += outbox.outbox_rows(
                issue,
                per_issue[issue.id],
                effect.args.get("template") or "opened",
                "新问题已移交",
                now,
                event,
                key=f"ev{event.id}",
            )
    outbox.insert_rows(session, rows)


def _plain(value: Any) -> Any:
    """An input value as kept in the open event (a unit by its code)."""
    return value.code if isinstance(value, Unit) else value


def _system() -> User:
    """The "user" effects need when the system opens an issue (spawned children)."""
    return User(id=0, username="system", display_name="system", created_at=datetime.min)


def open_child(
    session: Session,
    parent: Issue,
    definition_name: str,
    unit_code: str,
    user: User,
    now: datetime,
    cal: WorkCalendar,
) -> Issue:
    """Open one child of a common problem for ``unit_code`` (举一反三 fan-out)."""
    exists = session.scalar(
        select(Issue)
        .join(Unit, Unit.id == Issue.unit_id)
        .where(Issue.parent_id == parent.id, Unit.code == unit_code)
    )
    if exists is not None:
        return exists  # adding the same unit twice opens nothing new
    fields = {
        "title": parent.title,
        "description": parent.description,
        "category": parent.category,
        "unit": unit_code,
        "deadline_type": parent.deadline_type,
        "due_on": parent.due_on.isoformat() if parent.due_on else None,
        "source": parent.source,
    }
    if parent.round is not None:
        fields["round"] = parent.round.code
    actor = user if user.id else None
    return open_issue(session, definition_name, fields, actor, now, parent=parent, calendar=cal)
