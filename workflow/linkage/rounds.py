"""Inspection rounds (轮次): registering a round organised by a unit, with
``previous_round_id`` for relay inspection, and the kinds and levels a round may have.

Every round appends a ``round_created`` audit event.  Must not import flask.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.limits import text_limit
from workflow.linkage.common import (
    linkage_event,
    require_office,
    require_round,
    resolve_round,
    resolve_unit,
    several,
)
from workflow.messages import N_, Message, Text
from workflow.models import Membership, Round, Unit, User

ROUND_KINDS = ("xunshi", "xuncha")
ROUND_LEVELS = ("province", "city", "county")
# how high a round's level is: province inspects cities, which inspect counties
LEVEL_RANK = {"province": 0, "city": 1, "county": 2, "township": 3, "department": 3, "village": 4}

ONLY_REGISTER = Text(
    "linkage_office_only_register_rounds",
    N_("only the inspection office of %(unit)s or above may register its rounds"),
)
CODE_REQUIRED = Text("linkage_round_code_required", N_("code: required, at most 64 characters"))
CODE_TAKEN = Text("linkage_round_code_taken", N_("code %(code)r is taken"))
NAME_REQUIRED = Text("linkage_round_name_required", N_("name: required"))
NAME_TOO_LONG = Text("linkage_round_name_too_long", N_("name: at most %(limit)s characters"))
BAD_KIND = Text("linkage_round_bad_kind", N_("kind %(kind)r: one of %(kinds)s"))
BAD_LEVEL = Text("linkage_round_bad_level", N_("level %(level)r: one of %(levels)s"))
PREVIOUS_OUTSIDE = Text(
    "linkage_round_previous_outside_reach",
    N_("previous_round: round %(round)s lies outside your inspection office's reach"),
)
ENDS_BEFORE = Text("linkage_round_ends_before_start", N_("ends_on is before starts_on"))


def create_round(
    session: Session,
    code: str,
    name: str,
    kind: str,
    level: str,
    organiser: Unit | int | str,
    user: User,
    now: datetime,
    starts_on: date | None = None,
    ends_on: date | None = None,
    previous_round: Round | int | str | None = None,
) -> Round:
    """Register a round (轮次) organised by ``organiser``; ``previous_round`` makes it a relay.

    ``kind`` is ``xunshi`` (巡视, by a province) or ``xuncha`` (巡察, by a city or county);
    ``level`` the organiser's level.  Only an office at or above the organiser may do it.
    """
    org = resolve_unit(session, organiser)
    member = require_office(user, org, ONLY_REGISTER)
    errors = _round_errors(session, code, name, kind, level, starts_on, ends_on)
    prev = resolve_round(session, previous_round) if previous_round is not None else None
    if errors:
        raise ValueError(several(errors))
    if prev is not None:
        # a relay follows a round the office can see, never another city's (Refused)
        require_round(session, user, prev, PREVIOUS_OUTSIDE)
    rnd = Round(
        code=code.strip(),
        name=name.strip(),
        kind=kind,
        level=level,
        organiser_unit_id=org.id,
        starts_on=starts_on,
        ends_on=ends_on,
        previous_round_id=prev.id if prev else None,
    )
    session.add(rnd)
    session.flush()
    _record_round_created(session, user, member, rnd, org, prev, now)
    return rnd


def _round_errors(
    session: Session,
    code: str,
    name: str,
    kind: str,
    level: str,
    starts_on: date | None,
    ends_on: date | None,
) -> list[Message]:
    """What is wrong with a new round's fields (an empty list when nothing is)."""
    errors = []
    if not (code or "").strip() or len(code) > 64:
        errors.append(CODE_REQUIRED())
    elif session.scalar(select(Round.id).where(Round.code == code)):
        errors.append(CODE_TAKEN(code=code))
    if not (name or "").strip():
        errors.append(NAME_REQUIRED())
    elif len(name.strip()) > text_limit(Round.name):
        errors.append(NAME_TOO_LONG(limit=text_limit(Round.name)))
    if kind not in ROUND_KINDS:
        errors.append(BAD_KIND(kind=kind, kinds=ROUND_KINDS))
    if level not in ROUND_LEVELS:
        errors.append(BAD_LEVEL(level=level, levels=ROUND_LEVELS))
    if starts_on and ends_on and ends_on < starts_on:
        errors.append(ENDS_BEFORE())
    return errors


def _record_round_created(
    session: Session,
    user: User,
    member: Membership,
    rnd: Round,
    org: Unit,
    prev: Round | None,
    now: datetime,
) -> None:
    """Append the ``round_created`` event of a newly registered round."""
    linkage_event(
        session,
        user,
        member,
        "round_created",
        now,
        {
            "round": rnd.code,
            "name": rnd.name,
            "kind": rnd.kind,
            "level": rnd.level,
            "organiser": org.code,
            "starts_on": rnd.starts_on,
            "ends_on": rnd.ends_on,
            "previous_round": prev.code if prev else None,
        },
    )
