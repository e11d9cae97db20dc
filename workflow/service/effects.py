"""What an action does to an issue besides its state: clocks, stored attributes, children."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.clock import deadlines
from workflow.clock.calendar import WorkCalendar
from workflow.definition import Action, Definition, Effect
from workflow.messages import N_, Text
from workflow.models import Event, Issue, Measure, Unit, User
from workflow.service.fields import ValidationFailed, parse_date

NO_REQUESTED_DATE = Text("service_no_requested_date", N_("no requested date to extend to"))

ATTR_TYPES: dict[str, type] = {
    "progress": int,
    "completion": str,
    "grade": str,
    "deadline_type": str,
    "due_on": date,
    "rules_written": int,
    "money_recovered": Decimal,
    "people_handled": int,
    "disposition": str,
    "cadre_level": str,
    "cases_opened": int,
    "sanctions": int,
    "org_measures": int,
    "relapse_count": int,
    "description": str,
}

CLOCK_EFFECTS = frozenset(
    {"start_clock", "stop_clock", "pause_clock", "resume_clock", "extend_clock"}
)


def set_state(issue: Issue, d: Definition, target: str, now: datetime) -> None:
    """Put the issue in state ``target`` (its stage, kind, open flag and closing time)."""
    st = d.states[target]
    issue.state, issue.stage, issue.state_kind = target, st.stage, st.kind
    issue.is_open = st.kind != "closed"
    if st.kind == "closed" and issue.closed_at is None:
        issue.closed_at = now
    elif st.kind != "closed":
        issue.closed_at = None


def calendar_getter(session: Session, given: WorkCalendar | None) -> Callable[[], WorkCalendar]:
    """The working calendar, read only when an effect needs it (most actions do not)."""
    found: list[WorkCalendar] = [given] if given is not None else []

    def get() -> WorkCalendar:
        """The calendar, read on the first call."""
        if not found:
            found.append(WorkCalendar.from_session(session))
        return found[0]

    return get


def store_implicit(
    session: Session, action: Action, issue: Issue, clean: Mapping[str, Any]
) -> None:
    """Fields whose type says where they go: measures, the lead unit, the checker."""
    for name, value in clean.items():
        kind = action.fields[name].type
        if kind == "measures":
            issue.measures.clear()
            session.flush()
            for n, m in enumerate(value, 1):
                issue.measures.append(Measure(seq=n, text=m["text"], due_on=m["due_on"]))
        elif kind == "unit" and name == "unit":
            unit = session.scalar(select(Unit).where(Unit.code == value))
            assert unit is not None  # validated by clean_data
            issue.unit_id, issue.unit_path = unit.id, unit.path
            issue.unit = unit
        elif kind == "user" and name == "checker":
            issue.checker_id = session.scalar(select(User.id).where(User.username == value))


def coerce(attr: str, value: Any) -> Any:
    """``value`` as the Python type of the issue's attribute ``attr``."""
    want = ATTR_TYPES.get(attr)
    if want is date and not isinstance(value, date):
        return parse_date(value)
    if want is Decimal and not isinstance(value, Decimal):
        return Decimal(str(value))
    if want is int and not isinstance(value, int):
        return int(value)
    return value


def apply_effect(
    session: Session,
    d: Definition,
    effect: Effect,
    issue: Issue,
    user: User,
    clean: Mapping[str, Any],
    now: datetime,
    cal: Callable[[], WorkCalendar],
) -> list[Issue]:
    """Apply one non-notify effect; return any child issues it opened."""
    kind, args = effect.kind, effect.args
    if kind in CLOCK_EFFECTS:
        _clock_effect(session, d, kind, args, issue, clean, now, cal)
    elif kind == "set":
        for attr, value in args["values"].items():
            setattr(issue, attr, coerce(attr, value))
    elif kind == "increment":
        for attr in args["attrs"]:
            setattr(issue, attr, (getattr(issue, attr) or 0) + 1)
    elif kind == "store":
        for name in args["fields"]:
            if name in clean and name in ATTR_TYPES:
                setattr(issue, name, coerce(name, clean[name]))
    elif kind == "spawn_children":
        # opening a child runs the child's own on-open effects: the two modules call each
        # other, so this one is imported when a definition spawns children
        from workflow.service.opening import open_child

        codes = clean.get(args["units_field"]) or []
        return [
            open_child(session, issue, args["definition"], code, user, now, cal()) for code in codes
        ]
    return []


def _clock_effect(
    session: Session,
    d: Definition,
    kind: str,
    args: Mapping[str, Any],
    issue: Issue,
    clean: Mapping[str, Any],
    now: datetime,
    cal: Callable[[], WorkCalendar],
) -> None:
    """Start, stop, pause, resume or extend one of the issue's clocks."""
    if kind == "start_clock":
        due_field = args.get("due_field")
        due_on = clean.get(due_field) if due_field else None
        if due_field and due_on is None and due_field in ATTR_TYPES:
            due_on = getattr(issue, due_field, None)
        deadlines.start(session, cal(), d, issue, args["clock"], now, due_on=due_on)
        if d.clocks[args["clock"]].ladder:
            issue.warning_level = "green"  # a fresh deadline starts without a card
    elif kind == "stop_clock":
        deadlines.stop(session, issue, args["clock"], now)
    elif kind == "pause_clock":
        deadlines.pause(session, issue, args["clock"], now)
    elif kind == "resume_clock":
        deadlines.resume(session, d, issue, args["clock"], now)
    elif kind == "extend_clock":
        new_due = clean.get(args["field"]) or requested(session, issue, args["field"])
        if new_due is None:
            raise ValidationFailed({args["field"]: [NO_REQUESTED_DATE()]})
        new_due = coerce("due_on", new_due)
        issue.data = {**(issue.data or {}), "original_due_on": str(issue.due_on or "")}
        issue.due_on = new_due
        deadlines.extend(session, cal(), d, issue, args["clock"], new_due, now)
        issue.warning_level = "green"


def requested(session: Session, issue: Issue, field_name: str) -> Any:
    """The value of ``field_name`` in the latest successful event that supplied it."""
    for data in session.scalars(
        select(Event.data)
        .where(Event.issue_id == issue.id, Event.outcome == "ok")
        .order_by(Event.id.desc())
        .limit(20)
    ):
        value = (data or {}).get("input", {}).get(field_name)
        if value:
            return value
    return None
