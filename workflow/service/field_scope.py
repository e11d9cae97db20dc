"""Whether the units and people an action's fields name lie inside the actor's reach.

Opening an issue is refused unless the opener holds an inspection-office post at or above
its unit; an action that names a unit (``reassign``'s lead unit, ``fan_out``'s units) or a
checker hands work to them just as opening does, so it is held to the same rule — one
function (:func:`office_member`) for both.  Opening holds the units and the round it names
besides the lead unit (inspected unit, supporting units) to it too (:func:`check_open_scope`).  A refusal is
a :class:`~workflow.service.fields.ValidationFailed` naming the field (422), raised before
anything is written.  Must not import flask.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.definition import Action
from workflow.messages import N_, Message, Text
from workflow.models import Issue, Membership, Round, Team, TeamTarget, Unit, User
from workflow.org.scope import is_recused
from workflow.service.fields import ValidationFailed

UNIT_OUTSIDE = Text(
    "service_field_unit_outside_reach",
    N_("%(code)s lies outside the units your inspection office may assign work to"),
)
UNITS_OUTSIDE = Text(
    "service_field_units_outside_reach",
    N_("%(codes)s lie outside the units your inspection office may assign work to"),
)
CHECKER_OUTSIDE = Text(
    "service_checker_outside_reach",
    N_(
        "%(name)s holds no spot-check post within your reach or above the issue's unit "
        "(a city's office may not send another city's checkers)"
    ),
)


ROUND_OUTSIDE = Text(
    "service_round_outside_reach",
    N_("round %(code)s is neither organised in nor inspecting the units of your inspection office"),
)  # (a round organised above the office — the province's — is the office's too)


def office_member(user: User | None, unit: Unit) -> Membership | None:
    """The user's inspection-office post at or above ``unit``, if any (the opening rule)."""
    if user is None:
        return None
    for m in user.memberships:
        if m.role == "office" and unit.path.startswith(m.unit.path):
            return m
    return None


def check_open_scope(
    session: Session, user: User | None, clean: Mapping[str, Any], rounds: dict[int, bool]
) -> None:
    """The inspected unit, the supporting units and the round of a new issue lie in reach.

    ``rounds`` caches each round's verdict across the rows of one batch (an import names
    the same round on every row).
    """
    if user is None:  # the system opening (imports run as their office, children as parents')
        return
    errors: dict[str, list[str]] = {}  # Messages (a Message is a str)
    inspected = clean.get("inspected_unit")
    if inspected is not None and office_member(user, inspected) is None:
        errors["inspected_unit"] = [UNIT_OUTSIDE(code=inspected.code)]
    outside = sorted(
        u.code for u in clean.get("supporting_units") or [] if office_member(user, u) is None
    )
    if outside:
        errors["supporting_units"] = [UNITS_OUTSIDE(codes=outside)]
    rnd = clean.get("round")
    if rnd is not None and rnd.id not in rounds:
        rounds[rnd.id] = _round_in_reach(session, user, rnd)
    if rnd is not None and not rounds[rnd.id]:
        errors["round"] = [ROUND_OUTSIDE(code=rnd.code)]
    if errors:
        raise ValidationFailed(errors)


def _round_in_reach(session: Session, user: User, rnd: Round) -> bool:
    """A round on the path of one of the user's office posts: organised above it (a province
    round reaches every city), at it or below it, or inspecting a unit at or below it."""
    posts = [m.unit for m in user.memberships if m.role == "office"]
    organiser = rnd.organiser
    if organiser is not None and any(
        p.path.startswith(organiser.path) or organiser.path.startswith(p.path) for p in posts
    ):
        return True
    targets = session.scalars(select(Unit).join(TeamTarget, TeamTarget.unit_id == Unit.id)
                              .join(Team, Team.id == TeamTarget.team_id)
                              .where(Team.round_id == rnd.id))  # fmt: skip
    return any(office_member(user, u) is not None for u in targets)


def check_field_scope(
    session: Session, action: Action, issue: Issue, user: User, clean: Mapping[str, Any]
) -> None:
    """Refuse (ValidationFailed naming the field) a unit or checker outside ``user``'s reach.

    The action's definition has no field type for a round (``fields.clean_value`` knows
    none), so a round is never named by an action; the linkage writers check theirs.
    """
    errors: dict[str, list[str]] = {}
    for name, value in clean.items():
        kind = action.fields[name].type
        reason: Message | None = None
        if kind == "unit":
            reason = _units_reason(session, user, [value])
        elif kind == "units":
            reason = _units_reason(session, user, list(value))
        elif kind == "user" and name == "checker":
            reason = _checker_reason(session, user, issue, value)
        if reason is not None:
            errors[name] = [reason]
    if errors:
        raise ValidationFailed(errors)


def _units_reason(session: Session, user: User, codes: list[str]) -> Message | None:
    """Why some of ``codes`` may not be named by ``user`` (None when all may)."""
    if not codes:
        return None
    units = session.scalars(select(Unit).where(Unit.code.in_(codes))).all()
    outside = sorted(u.code for u in units if office_member(user, u) is None)
    if not outside:
        return None
    if len(codes) == 1:
        return UNIT_OUTSIDE(code=outside[0])
    return UNITS_OUTSIDE(codes=outside)


def _checker_reason(session: Session, user: User, issue: Issue, name: str) -> Message | None:
    """Why ``name`` may not be sent to check ``issue`` by ``user`` (None when they may).

    A checker is sent through a spot-check (专项督查) post that is not recused (回避, see
    ``guards.check_checker``) and that lies either within the actor's reach — a city's
    office may send its own or its counties' spot-check teams — or at a unit above the
    issue's unit: the province's spot-check team may check any unit in the province, so
    a city office may ask for it too.  Another city's team is neither, and is refused.
    """
    checker = session.scalar(select(User).where(User.username == name))
    if checker is None:
        return None  # an unknown name was already refused by clean_data
    for post in checker.memberships:
        if post.role != "spot_check" or is_recused(post.unit, issue):
            continue
        above_issue = issue.unit_path.startswith(post.unit.path)
        if above_issue or office_member(user, post.unit) is not None:
            return None
    return CHECKER_OUTSIDE(name=name)
