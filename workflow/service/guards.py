"""What refuses an action: denied events, the action's guards, and 回避 for a named checker."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow import audit
from workflow.definition import Action, Definition
from workflow.messages import N_, Message, Text
from workflow.models import Event, Evidence, Issue, Measure, Membership, User
from workflow.org.scope import is_recused
from workflow.service.errors import GuardFailed, ServiceError
from workflow.service.fields import ValidationFailed
from workflow.service.reading import get_definition, needs_recusal

OUTSIDE_SCOPE = Text("service_denied_scope", N_("issue outside your scope"))
WRONG_STATE = Text(
    "service_denied_state", N_("action %(action)s is not available in state %(state)s")
)
WRONG_ROLE = Text(
    "service_denied_role", N_("only %(roles)s of the issue's scope may take this action")
)
RECUSED = Text("service_denied_recusal", N_("回避: a reviewer may not belong to the issue's unit"))
CHECKER_NO_POST = Text(
    "service_checker_no_post", N_("%(name)s holds no spot-check (专项督查) post")
)
CHECKER_RECUSED = Text(
    "service_checker_recused",
    N_("回避: %(name)s belongs to the issue's unit and may not review it"),
)
EVIDENCE_MISSING = Text(
    "service_guard_evidence",
    N_("at least %(min)s evidence file(s) are required (佐证材料), %(n)s uploaded"),
)
MEASURES_MISSING = Text(
    "service_guard_measures", N_("at least %(min)s rectification measure(s) are required")
)
SAME_ACTOR = Text(
    "service_guard_separation",
    N_("separation of duties: you requested or attested this, someone else must decide"),
)
CHILDREN_OPEN = Text("service_guard_children", N_("%(n)s child issue(s) are not closed yet"))
WRONG_DEADLINE_TYPE = Text("service_guard_deadline_type", N_("only for deadline type %(types)s"))
UNKNOWN_GUARD = Text("service_guard_unknown", N_("unknown guard %(kind)s"))


@dataclass(frozen=True)
class Attempt:
    """The action being attempted, as every guard sees it."""

    session: Session
    action: Action
    issue: Issue
    user: User
    clean: Mapping[str, Any]  # the validated fields


def deny(
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
    data: dict[str, Any] = {"reason": str(reason)}
    if isinstance(reason, Message):
        data["message_data"] = reason.as_data()  # so a timeline can say it in any language
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
        data=data,
    )
    return exc_type(reason)


def check_checker(session: Session, action: Action, issue: Issue, clean: Mapping[str, Any]) -> None:
    """回避 for assignments: a checker must have a spot-check post outside the issue's unit."""
    for name, value in clean.items():
        if action.fields[name].type != "user" or name != "checker":
            continue
        checker = session.scalar(select(User).where(User.username == value))
        posts = [m for m in (checker.memberships if checker else []) if m.role == "spot_check"]
        if not posts:
            raise ValidationFailed({name: [CHECKER_NO_POST(name=value)]})
        if all(is_recused(m.unit, issue) for m in posts):
            raise ValidationFailed({name: [CHECKER_RECUSED(name=value)]})


def check_guards(
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
    if needs_recusal(action):
        eligible = [m for m in members if not is_recused(m.unit, issue)]
        if not eligible:
            raise deny(session, GuardFailed, issue, user, action.name, RECUSED(), now, members[0])
        members = eligible
    member = members[0]
    for guard in action.guards:
        reason = guard_reason(session, guard.kind, guard.args, action, issue, user, clean)
        if reason:
            raise deny(session, GuardFailed, issue, user, action.name, reason, now, member)
    return member


def guard_reason(
    session: Session,
    kind: str,
    args: Mapping[str, Any],
    action: Action,
    issue: Issue,
    user: User,
    clean: Mapping[str, Any],
) -> Message | None:
    """Why a guard refuses, or None when it passes."""
    if kind == "recusal":
        return None  # handled when choosing the acting membership
    check = GUARDS.get(kind)
    if check is None:
        return UNKNOWN_GUARD(kind=kind)
    return check(Attempt(session, action, issue, user, clean), args)


def _evidence(a: Attempt, args: Mapping[str, Any]) -> Message | None:
    """At least ``min`` evidence files uploaded."""
    n = a.session.scalar(select(func.count()).where(Evidence.issue_id == a.issue.id)) or 0
    return EVIDENCE_MISSING(min=args["min"], n=n) if n < args["min"] else None


def _measures(a: Attempt, args: Mapping[str, Any]) -> Message | None:
    """At least ``min`` measures, those given with the action or else those stored."""
    given = [v for k, v in a.clean.items() if a.action.fields[k].type == "measures"]
    n = (
        len(given[0])
        if given
        else (a.session.scalar(select(func.count()).where(Measure.issue_id == a.issue.id)) or 0)
    )
    return MEASURES_MISSING(min=args["min"]) if n < args["min"] else None


def _not_actor_of(a: Attempt, args: Mapping[str, Any]) -> Message | None:
    """Separation of duties: the user did not take the latest of any listed action."""
    # the latest actor of *each* listed action (the requester and the attester), not just
    # of the newest of them: a requester must not decide once someone else has attested
    latest: dict[str, int | None] = {}
    for name, actor_id in a.session.execute(
        select(Event.action, Event.actor_id)
        .where(
            Event.issue_id == a.issue.id,
            Event.outcome == "ok",
            Event.action.in_(list(args["actions"])),
        )
        .order_by(Event.id)
    ):
        latest[name] = actor_id
    return SAME_ACTOR() if a.user.id in latest.values() else None


def _children_closed(a: Attempt, args: Mapping[str, Any]) -> Message | None:
    """Every child issue is closed."""
    open_children = a.session.scalar(
        select(func.count()).where(Issue.parent_id == a.issue.id, Issue.state_kind == "open")
    )
    return CHILDREN_OPEN(n=open_children) if open_children else None


def _deadline_type(a: Attempt, args: Mapping[str, Any]) -> Message | None:
    """The issue's deadline type is one of ``values``."""
    if a.issue.deadline_type not in args["values"]:
        return WRONG_DEADLINE_TYPE(types=list(args["values"]))
    return None


Guard = Callable[[Attempt, Mapping[str, Any]], Message | None]
GUARDS: dict[str, Guard] = {
    "evidence": _evidence,
    "measures": _measures,
    "not_actor_of": _not_actor_of,
    "children_closed": _children_closed,
    "deadline_type": _deadline_type,
}
