"""Taking an action on an issue: the checks in order, then the writes of one action.

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
- :class:`~workflow.service.fields.ValidationFailed` — per-field messages (also a unit or
  checker outside the actor's reach, :mod:`workflow.service.field_scope`); nothing was written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from workflow import audit, outbox
from workflow.clock import deadlines
from workflow.clock.calendar import WorkCalendar
from workflow.definition import Action, Definition, Effect
from workflow.messages import N_, Text
from workflow.models import Event, Issue, Membership, User
from workflow.org.scope import acting_memberships, can_see
from workflow.service.effects import (
    CLOCK_EFFECTS,
    apply_effect,
    calendar_getter,
    set_state,
    store_implicit,
)
from workflow.service.errors import ActResult, Conflict, Denied, GuardFailed, NotFound
from workflow.service.field_scope import check_field_scope
from workflow.service.fields import ValidationFailed, clean_action_data
from workflow.service.guards import (
    OUTSIDE_SCOPE,
    WRONG_ROLE,
    WRONG_STATE,
    check_checker,
    check_guards,
    deny,
)
from workflow.service.opening import open_issue
from workflow.service.reading import (
    allowed_actions,
    changes_since,
    diff,
    get_definition,
    snapshot,
)

# the names this module had before the service was split, for callers that import them here
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

UNKNOWN_ACTION = Text("service_unknown_action", N_("unknown action %(action)r"))


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
        raise deny(session, NotFound, issue, user, action_name, OUTSIDE_SCOPE(), now)
    action = d.actions.get(action_name)
    if action is None:
        raise ValidationFailed({"action": [UNKNOWN_ACTION(action=action_name)]})
    if expected_version is not None and expected_version != issue.version:
        raise Conflict(issue.version, changes_since(session, issue, expected_version))
    members = _members(session, d, action, issue, user, now)
    clean = clean_action_data(session, d, action, data, now)  # bounds, future deadlines
    check_checker(session, action, issue, clean)
    # the units and checker named must lie in the actor's reach, as when opening an issue
    check_field_scope(session, action, issue, user, clean)
    member = check_guards(session, d, action, issue, user, members, clean, now)
    seen = issue.version
    try:
        cal = calendar_getter(session, calendar)
        return _write(session, d, action, issue, user, member, clean, now, cal)
    except StaleDataError:
        # someone else moved the issue since it was read: nothing of ours stays
        session.rollback()
        fresh = session.get(Issue, issue.id)
        current = fresh.version if fresh is not None else seen
        changes = changes_since(session, fresh, seen) if fresh is not None else []
        raise Conflict(current, changes) from None


def _members(
    session: Session, d: Definition, action: Action, issue: Issue, user: User, now: datetime
) -> list[Membership]:
    """The posts ``user`` may take ``action`` through now; else a denied event and Denied."""
    if issue.state not in action.sources:
        label = d.states[issue.state].label.zh if issue.state in d.states else issue.state
        reason = WRONG_STATE(action=action.label.zh, state=label)
        raise deny(session, Denied, issue, user, action.name, reason, now)
    members = acting_memberships(user, issue, action.roles)
    if not members:
        reason = WRONG_ROLE(roles=sorted(action.roles))
        raise deny(session, Denied, issue, user, action.name, reason, now)
    return members


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
    _claim(session, issue)
    set_state(issue, d, target, now)
    issue.updated_at = now  # always dirty the row, so the version check runs in the UPDATE
    children, notify = _run_effects(session, d, action, issue, user, clean, now, cal)
    data = _event_data(action, issue, clean, before)
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
    notified = _enqueue(session, action, issue, told, event, now)
    session.flush()
    return ActResult(issue, event, from_state, target, notified, children)


def _claim(session: Session, issue: Issue) -> None:
    """Bump the issue's version (its UPDATE carries ``WHERE version = :seen``)."""
    issue.version += 1
    if session.get_bind().dialect.name == "postgresql":
        # claim the row first: the UPDATE … WHERE version = :seen takes the row lock before
        # the chain's advisory lock, the order every writer uses (SQLite's BEGIN IMMEDIATE
        # already serialises writers, so there one UPDATE at the end does it)
        session.flush()


def _run_effects(
    session: Session,
    d: Definition,
    action: Action,
    issue: Issue,
    user: User,
    clean: dict[str, Any],
    now: datetime,
    cal: Callable[[], WorkCalendar],
) -> tuple[list[Issue], list[Effect]]:
    """Apply the action's effects; return the children opened and the notify effects left."""
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
            children += apply_effect(session, d, effect, issue, user, clean, now, cal)
        store_implicit(session, action, issue, clean)
    if clocks_touched:
        deadlines.refresh_issue_due(session, issue)
    return children, notify


def _event_data(
    action: Action, issue: Issue, clean: dict[str, Any], before: Mapping[str, Any]
) -> dict[str, Any]:
    """The event's data: the input, what changed, the new version (and what was approved)."""
    after = snapshot(issue)
    data: dict[str, Any] = {"input": clean, "changes": diff(before, after), "v": issue.version}
    if any(g.kind == "not_actor_of" for g in action.guards):
        # a decision keeps a snapshot of exactly what was approved
        data["approved"] = {**after, "measures": [(m.text, m.due_on) for m in issue.measures]}
    return data


def _enqueue(
    session: Session,
    action: Action,
    issue: Issue,
    told: list[tuple[Effect, Any]],
    event: Event,
    now: datetime,
) -> int:
    """The outbox rows of the action's notifications, as one INSERT; how many there were."""
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
    return len(rows)
