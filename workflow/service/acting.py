"""Use cases: open an issue, take an action on it.  The only writer of issue state.

One call checks the caller's role and unit scope, the expected version, the action's
fields and guards; computes the new state and deadlines; appends the audit event; and
enqueues notifications — all in the caller's transaction, which the caller commits.
Time always comes from the ``now`` argument (an injected clock), never from the system.
Must not import flask.

Errors, and what the caller should do with them:
- :class:`NotFound` — the issue is outside the caller's scope (answer 404); a denied event
  was appended: commit to keep it.
- :class:`Denied` / :class:`GuardFailed` — role, state or a guard refused; a denied event was
  appended: commit to keep it.  Nothing else was written.
- :class:`Conflict` — the caller's version is stale; nothing was written; ``changes`` lists
  what happened since.
- :class:`~workflow.service.fields.ValidationFailed` — per-field messages; nothing was written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.exc import StaleDataError

from workflow import audit, outbox
from workflow.clock import deadlines
from workflow.clock.calendar import WorkCalendar
from workflow.db import allocate_ids
from workflow.definition import Action, Definition, Effect
from workflow.definition.model import DEADLINE_TYPES
from workflow.definition.registry import definition_for, definition_of, latest
from workflow.models import (
    ClockInstance,
    DefinitionVersion,
    Event,
    Evidence,
    Issue,
    Measure,
    Membership,
    Round,
    SupportingUnit,
    Unit,
    User,
)
from workflow.org.scope import acting_memberships, can_see, is_recused
from workflow.service.fields import ValidationFailed, clean_data, parse_date

__all__ = [
    "ActResult",
    "Conflict",
    "Denied",
    "GuardFailed",
    "NotFound",
    "ValidationFailed",
    "act",
    "allowed_actions",
    "open_issue",
]


class ServiceError(Exception):
    """Base of the errors a service call raises."""


class NotFound(ServiceError):
    """The object does not exist or lies outside the caller's scope."""


class Denied(ServiceError):
    """The caller may not take this action now (role, scope or state)."""


class GuardFailed(Denied):
    """A guard of the action refused (missing evidence, separation of duties, 回避, …)."""


class Conflict(ServiceError):
    """The caller acted on a stale version; ``changes`` lists what happened since."""

    def __init__(self, current_version: int, changes: list[dict[str, Any]]) -> None:
        self.current_version = current_version
        self.changes = changes
        super().__init__(f"the issue changed since version you saw (now version {current_version})")


@dataclass
class ActResult:
    """What an action did."""

    issue: Issue
    event: Event
    from_state: str
    to_state: str
    notified: int = 0
    children: list[Issue] = field(default_factory=list)


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

SNAPSHOT_ATTRS = (
    "state",
    "unit_id",
    "deadline_type",
    "due_on",
    "progress",
    "completion",
    "grade",
    "warning_level",
    "rules_written",
    "money_recovered",
    "people_handled",
    "relapse_count",
    "checker_id",
    "disposition",
    "cases_opened",
    "sanctions",
    "org_measures",
)


def snapshot(issue: Issue) -> dict[str, Any]:
    """The issue's decision-relevant fields as plain JSON values."""
    return audit.canonical({a: getattr(issue, a) for a in SNAPSHOT_ATTRS})


def _diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    return {k: [before[k], after[k]] for k in after if before.get(k) != after[k]}


def get_definition(issue: Issue) -> Definition:
    """The definition version the issue is pinned to."""
    session = object_session(issue)
    return definition_for(session, issue) if session else definition_of(issue.definition)


# ---------------------------------------------------------------------------------- reading


def allowed_actions(issue: Issue, user: User) -> list[Action]:
    """Actions ``user`` could take on ``issue`` in its current state (role, scope, 回避).

    Guards that depend on data (evidence, separation of duties) are checked on submit.
    """
    if not can_see(user, issue):
        return []
    d = get_definition(issue)
    out = []
    for action in d.actions_from(issue.state):
        members = acting_memberships(user, issue, action.roles)
        if _needs_recusal(action):
            members = [m for m in members if not is_recused(m.unit, issue)]
        if members:
            out.append(action)
    return out


def _needs_recusal(action: Action) -> bool:
    return any(g.kind == "recusal" for g in action.guards)


def changes_since(session: Session, issue: Issue, version: int) -> list[dict[str, Any]]:
    """Events that moved ``issue`` past ``version`` (for a conflict answer)."""
    events = session.scalars(
        select(Event)
        .where(Event.issue_id == issue.id, Event.outcome == "ok")
        .order_by(Event.id.desc())
        .limit(50)
    ).all()
    out = []
    for ev in reversed(events):
        if int(ev.data.get("v", 0)) > version:
            actor = session.get(User, ev.actor_id) if ev.actor_id else None
            out.append(
                {
                    "at": ev.at.isoformat(),
                    "action": ev.action,
                    "by": actor.display_name if actor else "system",
                    "from_state": ev.from_state,
                    "to_state": ev.to_state,
                    "changes": ev.data.get("changes", {}),
                }
            )
    return out


# ---------------------------------------------------------------------------------- denial


def _deny(
    session: Session,
    exc_type: type[ServiceError],
    issue: Issue,
    user: User,
    action: str,
    reason: str,
    now: datetime,
    membership: Membership | None = None,
) -> ServiceError:
    """Append a denied event and build the exception to raise."""
    audit.append(
        session,
        issue_id=issue.id,
        at=now,
        actor_id=user.id,
        actor_role=membership.role if membership else None,
        actor_unit_id=membership.unit_id if membership else None,
        action=action,
        outcome="denied",
        from_state=issue.state,
        to_state=None,
        definition_version=get_definition(issue).version,
        data={"reason": reason},
    )
    return exc_type(reason)


# ---------------------------------------------------------------------------------- acting


def act(
    session: Session,
    issue: Issue,
    action_name: str,
    user: User,
    data: Mapping[str, Any],
    expected_version: int | None,
    now: datetime,
    calendar: WorkCalendar | None = None,
) -> ActResult:
    """Take ``action_name`` on ``issue`` as ``user`` with ``data``; see the module docstring."""
    d = get_definition(issue)
    if not can_see(user, issue):
        raise _deny(session, NotFound, issue, user, action_name, "issue outside your scope", now)
    action = d.actions.get(action_name)
    if action is None:
        raise ValidationFailed({"action": [f"unknown action {action_name!r}"]})
    if expected_version is not None and expected_version != issue.version:
        raise Conflict(issue.version, changes_since(session, issue, expected_version))
    if issue.state not in action.sources:
        label = d.states[issue.state].label.zh if issue.state in d.states else issue.state
        raise _deny(
            session,
            Denied,
            issue,
            user,
            action_name,
            f"action {action.label.zh} is not available in state {label}",
            now,
        )
    members = acting_memberships(user, issue, action.roles)
    if not members:
        raise _deny(
            session,
            Denied,
            issue,
            user,
            action_name,
            f"only {', '.join(sorted(action.roles))} of the issue's scope may take this action",
            now,
        )
    clean = clean_data(session, action.fields, data)
    _check_checker(session, action, issue, clean)
    member = _check_guards(session, d, action, issue, user, members, clean, now)
    seen = issue.version
    try:
        return _write(
            session, d, action, issue, user, member, clean, now, _calendar(session, calendar)
        )
    except StaleDataError:
        # someone else moved the issue since it was read: nothing of ours stays
        session.rollback()
        fresh = session.get(Issue, issue.id)
        current = fresh.version if fresh is not None else seen
        changes = changes_since(session, fresh, seen) if fresh is not None else []
        raise Conflict(current, changes) from None


def _calendar(session: Session, given: WorkCalendar | None) -> Callable[[], WorkCalendar]:
    """The working calendar, read only when an effect needs it (most actions do not)."""
    found: list[WorkCalendar] = [given] if given is not None else []

    def get() -> WorkCalendar:
        if not found:
            found.append(WorkCalendar.from_session(session))
        return found[0]

    return get


def _check_checker(
    session: Session, action: Action, issue: Issue, clean: Mapping[str, Any]
) -> None:
    """回避 for assignments: a checker must have a spot-check post outside the issue's unit."""
    for name, value in clean.items():
        if action.fields[name].type != "user" or name != "checker":
            continue
        checker = session.scalar(select(User).where(User.username == value))
        posts = [m for m in (checker.memberships if checker else []) if m.role == "spot_check"]
        if not posts:
            raise ValidationFailed({name: [f"{value} holds no spot-check (专项督查) post"]})
        if all(is_recused(m.unit, issue) for m in posts):
            raise ValidationFailed(
                {name: [f"回避: {value} belongs to the issue's unit and may not review it"]}
            )


def _check_guards(
    session: Session,
    d: Definition,
    action: Action,
    issue: Issue,
    user: User,
    members: list[Membership],
    clean: Mapping[str, Any],
    now: datetime,
) -> Membership:
    """Run the action's guards; return the membership the user acts through."""
    if _needs_recusal(action):
        eligible = [m for m in members if not is_recused(m.unit, issue)]
        if not eligible:
            raise _deny(
                session,
                GuardFailed,
                issue,
                user,
                action.name,
                "回避: a reviewer may not belong to the issue's unit",
                now,
                members[0],
            )
        members = eligible
    member = members[0]
    for guard in action.guards:
        reason = _guard_reason(session, guard.kind, guard.args, action, issue, user, clean)
        if reason:
            raise _deny(session, GuardFailed, issue, user, action.name, reason, now, member)
    return member


def _guard_reason(
    session: Session,
    kind: str,
    args: Mapping[str, Any],
    action: Action,
    issue: Issue,
    user: User,
    clean: Mapping[str, Any],
) -> str | None:
    """Why a guard refuses, or None when it passes."""
    if kind == "evidence":
        n = session.scalar(select(func.count()).where(Evidence.issue_id == issue.id)) or 0
        if n < args["min"]:
            return f"at least {args['min']} evidence file(s) are required (佐证材料), {n} uploaded"
    elif kind == "measures":
        given = [v for k, v in clean.items() if action.fields[k].type == "measures"]
        n = (
            len(given[0])
            if given
            else (session.scalar(select(func.count()).where(Measure.issue_id == issue.id)) or 0)
        )
        if n < args["min"]:
            return f"at least {args['min']} rectification measure(s) are required"
    elif kind == "not_actor_of":
        # the latest actor of *each* listed action (the requester and the attester), not just
        # of the newest of them: a requester must not decide once someone else has attested
        latest: dict[str, int | None] = {}
        for name, actor_id in session.execute(
            select(Event.action, Event.actor_id)
            .where(
                Event.issue_id == issue.id,
                Event.outcome == "ok",
                Event.action.in_(list(args["actions"])),
            )
            .order_by(Event.id)
        ):
            latest[name] = actor_id
        if user.id in latest.values():
            return "separation of duties: you requested or attested this, someone else must decide"
    elif kind == "children_closed":
        open_children = session.scalar(
            select(func.count()).where(Issue.parent_id == issue.id, Issue.state_kind == "open")
        )
        if open_children:
            return f"{open_children} child issue(s) are not closed yet"
    elif kind == "deadline_type":
        if issue.deadline_type not in args["values"]:
            return f"only for deadline type {', '.join(args['values'])}"
    elif kind == "recusal":
        return None  # handled when choosing the acting membership
    else:
        return f"unknown guard {kind}"
    return None


def _set_state(issue: Issue, d: Definition, target: str, now: datetime) -> None:
    st = d.states[target]
    issue.state, issue.stage, issue.state_kind = target, st.stage, st.kind
    issue.is_open = st.kind != "closed"
    if st.kind == "closed" and issue.closed_at is None:
        issue.closed_at = now
    elif st.kind != "closed":
        issue.closed_at = None


def _write(
    session: Session,
    d: Definition,
    action: Action,
    issue: Issue,
    user: User,
    member: Membership,
    clean: dict[str, Any],
    now: datetime,
    cal: Callable[[], WorkCalendar],
) -> ActResult:
    """The writes of one action; the issue's UPDATE checks the version it was read at."""
    before = snapshot(issue)
    from_state = issue.state
    target = action.target_for(clean)
    new_version = issue.version + 1
    issue.version = new_version
    if session.get_bind().dialect.name == "postgresql":
        # claim the row first: the UPDATE … WHERE version = :seen takes the row lock before
        # the chain's advisory lock, the order every writer uses (SQLite's BEGIN IMMEDIATE
        # already serialises writers, so there one UPDATE at the end does it)
        session.flush()
    _set_state(issue, d, target, now)
    issue.updated_at = now  # always dirty the row, so the version check runs in the UPDATE
    children: list[Issue] = []
    notify: list[Effect] = []
    clocks_touched = False
    # no autoflush: the effects' reads must not send the issue's UPDATE before it is complete
    with session.no_autoflush:
        for effect in action.effects_for(clean):
            if effect.kind == "notify":
                notify.append(effect)
                continue
            clocks_touched |= effect.kind in CLOCK_EFFECTS
            children += _effect(session, d, effect, issue, user, clean, now, cal)
        _store_implicit(session, action, issue, clean)
    if clocks_touched:
        deadlines.refresh_issue_due(session, issue)
    after = snapshot(issue)
    data: dict[str, Any] = {"input": clean, "changes": _diff(before, after), "v": new_version}
    if any(g.kind == "not_actor_of" for g in action.guards):
        # a decision keeps a snapshot of exactly what was approved
        data["approved"] = {**after, "measures": [(m.text, m.due_on) for m in issue.measures]}
    # who is told is read before the event is chained: on PostgreSQL the chain's lock is
    # then held only for the head, the two INSERTs and the commit
    told = [
        (effect, outbox.recipients(session, issue, effect.args["to"], actor_id=user.id))
        for effect in notify
    ]
    event = audit.append(
        session,
        issue_id=issue.id,
        at=now,
        actor_id=user.id,
        actor_role=member.role,
        actor_unit_id=member.unit_id,
        action=action.name,
        from_state=from_state,
        to_state=target,
        definition_version=d.version,
        data=data,
    )
    rows: list[dict[str, Any]] = []
    for effect, people in told:
        rows += outbox.outbox_rows(
            issue,
            people,
            effect.args.get("template") or action.name,
            action.label.zh,
            now,
            event,
            key=f"ev{event.id}",
        )
    outbox.insert_rows(session, rows)
    session.flush()
    return ActResult(issue, event, from_state, target, len(rows), children)


CLOCK_EFFECTS = frozenset(
    {"start_clock", "stop_clock", "pause_clock", "resume_clock", "extend_clock"}
)


def _store_implicit(
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


def _coerce(attr: str, value: Any) -> Any:
    want = ATTR_TYPES.get(attr)
    if want is date and not isinstance(value, date):
        return parse_date(value)
    if want is Decimal and not isinstance(value, Decimal):
        return Decimal(str(value))
    if want is int and not isinstance(value, int):
        return int(value)
    return value


def _effect(
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
        new_due = clean.get(args["field"]) or _requested(session, issue, args["field"])
        if new_due is None:
            raise ValidationFailed({args["field"]: ["no requested date to extend to"]})
        new_due = _coerce("due_on", new_due)
        issue.data = {**(issue.data or {}), "original_due_on": str(issue.due_on or "")}
        issue.due_on = new_due
        deadlines.extend(session, cal(), d, issue, args["clock"], new_due, now)
        issue.warning_level = "green"
    elif kind == "set":
        for attr, value in args["values"].items():
            setattr(issue, attr, _coerce(attr, value))
    elif kind == "increment":
        for attr in args["attrs"]:
            setattr(issue, attr, (getattr(issue, attr) or 0) + 1)
    elif kind == "store":
        for name in args["fields"]:
            if name in clean and name in ATTR_TYPES:
                setattr(issue, name, _coerce(name, clean[name]))
    elif kind == "spawn_children":
        codes = clean.get(args["units_field"]) or []
        return [
            _open_child(session, issue, args["definition"], code, user, now, cal())
            for code in codes
        ]
    return []


def _requested(session: Session, issue: Issue, field_name: str) -> Any:
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


# ---------------------------------------------------------------------------------- opening

OPEN_FIELDS = {
    "title",
    "description",
    "category",
    "unit",
    "inspected_unit",
    "supporting_units",
    "round",
    "deadline_type",
    "due_on",
    "supervising_leader",
    "person_in_charge",
    "source",
    "cadre_level",
    "number",
    "import_key",
}
# the widths of the issue's text columns (workflow.models.Issue)
TEXT_LIMITS = {
    "description": 10_000,
    "category": 100,
    "supervising_leader": 100,
    "person_in_charge": 100,
    "source": 16,
    "cadre_level": 32,
    "number": 64,
    "import_key": 64,
}


def _unit_by_code(
    session: Session, code: Any, units: Mapping[str, Unit] | None = None
) -> Unit | None:
    if not code:
        return None
    code = str(code).strip()
    if units is not None and code in units:
        return units[code]
    return session.scalar(select(Unit).where(Unit.code == code))


def validate_open(
    session: Session,
    fields: Mapping[str, Any],
    units: Mapping[str, Unit] | None = None,
    rounds: dict[str, Round | None] | None = None,
) -> dict[str, Any]:
    """Check the fields of a new issue; raise ValidationFailed naming each bad field.

    ``units`` maps codes to units already read (a batch reads them in one query);
    ``rounds`` remembers the rounds looked up (a batch names a few, on every row).
    """
    errors: dict[str, list[str]] = {}
    for key in fields:
        if key not in OPEN_FIELDS:
            errors.setdefault(key, []).append("unknown field")
    clean: dict[str, Any] = {}
    title = str(fields.get("title") or "").strip()
    if not title:
        errors.setdefault("title", []).append("required")
    elif len(title) > 300:
        errors.setdefault("title", []).append("longer than 300 characters")
    clean["title"] = title
    unit = _unit_by_code(session, fields.get("unit"), units)
    if unit is None:
        errors.setdefault("unit", []).append(
            "required" if not fields.get("unit") else f"no unit with code {fields.get('unit')!r}"
        )
    clean["unit"] = unit
    if fields.get("inspected_unit"):
        clean["inspected_unit"] = _unit_by_code(session, fields["inspected_unit"], units)
        if clean["inspected_unit"] is None:
            errors.setdefault("inspected_unit", []).append("no such unit")
    sup = []
    for code in fields.get("supporting_units") or []:
        u = _unit_by_code(session, code, units)
        if u is None:
            errors.setdefault("supporting_units", []).append(f"no unit with code {code!r}")
        elif unit is not None and u.id != unit.id:
            sup.append(u)
    clean["supporting_units"] = sup
    dt = fields.get("deadline_type") or "by_deadline"
    if dt not in DEADLINE_TYPES:
        errors.setdefault("deadline_type", []).append(f"must be one of {', '.join(DEADLINE_TYPES)}")
    clean["deadline_type"] = dt
    if fields.get("due_on"):
        try:
            clean["due_on"] = parse_date(fields["due_on"])
        except ValueError as exc:
            errors.setdefault("due_on", []).append(str(exc))
    if fields.get("round"):
        code = str(fields["round"])
        seen = rounds if rounds is not None else {}
        if code not in seen:
            seen[code] = session.scalar(select(Round).where(Round.code == code))
        r = seen[code]
        if r is None:
            errors.setdefault("round", []).append(f"no round with code {fields['round']!r}")
        clean["round"] = r
    for key, limit in TEXT_LIMITS.items():
        value = fields.get(key)
        if value is not None and not isinstance(value, str):
            errors.setdefault(key, []).append("text is expected")
        elif value and len(value.strip()) > limit:
            errors.setdefault(key, []).append(f"longer than {limit} characters")
        else:
            clean[key] = (value or "").strip() or None
    if errors:
        raise ValidationFailed(errors)
    return clean


def _office_member(user: User | None, unit: Unit) -> Membership | None:
    if user is None:
        return None
    for m in user.memberships:
        if m.role == "office" and unit.path.startswith(m.unit.path):
            return m
    return None


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
    outcomes: list[Issue | ServiceError | None] = []
    accepted: list[tuple[int, dict[str, Any], Membership | None]] = []
    units = _units_named(session, rows) if len(rows) > 1 else None
    rounds: dict[str, Round | None] = {}
    for n, fields in enumerate(rows):
        try:
            clean = validate_open(session, fields, units, rounds)
            member = _office_member(user, clean["unit"])
            if user is not None and member is None:
                raise Denied("only the inspection office of a unit above may register its issues")
        except ServiceError as exc:
            outcomes.append(exc)
            continue
        outcomes.append(None)  # the issue, once opened
        accepted.append((n, clean, member))
    if not accepted:
        return [o for o in outcomes if o is not None]  # nothing to write, no lock to take
    ids = allocate_ids(session, "issue", len(accepted))
    chain = audit.Chain(session)
    cal = _calendar(session, calendar)
    opened: list[tuple[Issue, Event]] = []
    with session.no_autoflush:
        for (n, clean, member), issue_id in zip(accepted, ids, strict=True):
            issue = _new_issue(d, dv, issue_id, clean, parent, now)
            session.add(issue)
            for effect in d.on_open:
                if effect.kind != "notify":
                    _effect(session, d, effect, issue, user or _system(session), {}, now, cal)
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
            outcomes[n] = issue
            opened.append((issue, event))
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


def _units_named(session: Session, rows: Sequence[Mapping[str, Any]]) -> dict[str, Unit]:
    """The units the rows name (lead, inspected, supporting), by code, in one query."""
    codes: set[str] = set()
    for fields in rows:
        for key in ("unit", "inspected_unit"):
            if fields.get(key):
                codes.add(str(fields[key]).strip())
        codes.update(str(c).strip() for c in fields.get("supporting_units") or [] if c)
    if not codes:
        return {}
    return {u.code: u for u in session.scalars(select(Unit).where(Unit.code.in_(codes)))}


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
    _set_state(issue, d, d.initial, now)
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
    return value.code if isinstance(value, Unit) else value


def _system(session: Session) -> User:
    # effects that need "a user" when the system opens an issue (spawned children)
    return User(id=0, username="system", display_name="system", created_at=datetime.min)


def _open_child(
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


def running_clocks(session: Session, issue: Issue) -> list[ClockInstance]:
    """The issue's running and paused deadlines, earliest first."""
    return list(
        session.scalars(
            select(ClockInstance)
            .where(
                ClockInstance.issue_id == issue.id, ClockInstance.status.in_(("running", "paused"))
            )
            .order_by(ClockInstance.due_at)
        )
    )


# ---------------------------------------------------------------------------------- upkeep


def recompute_deadlines(
    session: Session, now: datetime
) -> list[tuple[Issue, str, datetime, datetime]]:
    """After a calendar year is loaded: recompute provisional deadlines, audit each move."""
    from workflow.models import DefinitionVersion as DV

    cal = WorkCalendar.from_session(session)
    defs = {dv.id: definition_of(dv) for dv in session.scalars(select(DV))}
    moved = deadlines.recompute_provisional(session, cal, defs)
    out = []
    chain = audit.Chain(session)
    for inst, old, new in moved:
        issue = session.get(Issue, inst.issue_id)
        assert issue is not None
        deadlines.refresh_issue_due(session, issue)
        issue.updated_at = now
        issue.version += 1  # an open form must see the moved deadline, not overwrite it
        chain.append(
            issue_id=issue.id,
            at=now,
            action="deadline_recomputed",
            actor_role="system",
            from_state=issue.state,
            to_state=issue.state,
            definition_version=issue.definition.version,
            data={
                "clock": inst.clock,
                "from": old.isoformat(),
                "to": new.isoformat(),
                "v": issue.version,  # already bumped above: the version this event made
            },
        )
        out.append((issue, inst.clock, old, new))
    session.flush()
    return out


def apply_migration(
    session: Session, plan: Any, state_map: Mapping[str, str] | None, now: datetime
) -> int:
    """Move the issues of a non-blocked migration plan to its target version, audited."""
    if plan.blocked:
        raise Denied("the migration has blockers; nothing was moved")
    target = plan.target
    new = definition_of(target)
    chain = audit.Chain(session)
    moved = 0
    for dv, _n, _changes, _blockers in plan.per_version:
        for issue in session.scalars(select(Issue).where(Issue.definition_id == dv.id)):
            old_state = issue.state
            state = (state_map or {}).get(old_state, old_state)
            issue.definition_id, issue.definition = target.id, target
            _set_state(issue, new, state, now)
            issue.updated_at = now
            issue.version += 1
            chain.append(
                issue_id=issue.id,
                at=now,
                action="definition_migrated",
                actor_role="system",
                from_state=old_state,
                to_state=state,
                definition_version=target.version,
                data={"from_version": dv.version, "v": issue.version},
            )
            moved += 1
    session.flush()
    return moved
