"""Relay inspection (接力式巡察): what a relay round's team inherits from earlier rounds,
carrying items over into the new round, and linking a new check to the item it
re-examines.  Problem leads are never carried or linked.  Must not import flask.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from workflow import service
from workflow.linkage.common import (
    NO_TEAM,
    Refused,
    copy_fields,
    in_subtree,
    resolve_round,
    system_event,
    team_targets,
)
from workflow.linkage.network.quality import relapsed_clause
from workflow.linkage.settings import DEFAULT_SETTINGS, LinkageSettings
from workflow.messages import N_, Text
from workflow.models import Issue, Round, Team, Unit, User

INTO_ITSELF = Text("linkage_carry_into_itself", N_("a round cannot carry items over into itself"))
NOT_AN_ITEM = Text(
    "linkage_carry_not_an_item", N_("issue %(id)s is not an item of round %(round)s")
)
LEAD_NOT_CARRIED = Text(
    "linkage_carry_lead", N_("%(number)s is a problem lead; leads are not carried over")
)
LINK_ITSELF = Text("linkage_link_itself", N_("an issue cannot be linked to itself"))
LINK_LEAD = Text("linkage_link_lead", N_("problem leads are not linked between rounds"))
LINK_NEWER = Text("linkage_link_newer", N_("%(old)s is newer than %(new)s"))
LINK_OTHER_UNIT = Text("linkage_link_other_unit", N_("%(old)s concerns another unit than %(new)s"))
LINK_OFFICE_ONLY = Text(
    "linkage_link_office_only", N_("only the inspection office over the unit may link checks")
)


def _earlier_round_ids(session: Session, rnd: Round) -> set[int]:
    """The rounds before ``rnd``: its chain of previous rounds and rounds that started earlier."""
    ids: set[int] = set()
    prev = rnd.previous_round_id
    while prev is not None and prev not in ids:  # the chain of previous rounds
        ids.add(prev)
        prev = session.scalar(select(Round.previous_round_id).where(Round.id == prev))
    if rnd.starts_on is not None:
        ids |= set(session.scalars(select(Round.id).where(Round.starts_on < rnd.starts_on)))
    ids.discard(rnd.id)
    return ids


def carry_over(
    session: Session,
    from_round: Round | int | str,
    to_round: Round | int | str,
    issue_ids: Sequence[int],
    user: User,
    now: datetime,
) -> list[Issue]:
    """Carry selected items of an earlier round into a later one (接力式巡察); safe to repeat.

    Each item becomes a new issue of the same definition in ``to_round`` whose
    ``linked_issue_id`` points at the old item; its unit is the old one when it lies in
    the new round's organiser subtree, otherwise the organiser itself (a provincial common
    problem becomes the county's focus item).  Both issues get a ``carry_over`` event.
    Problem leads cannot be carried (they are restricted).
    """
    src, dst = resolve_round(session, from_round), resolve_round(session, to_round)
    if src.id == dst.id:
        raise Refused(INTO_ITSELF())
    out = []
    for issue_id in issue_ids:
        old = session.get(Issue, issue_id)
        if old is None or old.round_id != src.id:
            raise Refused(NOT_AN_ITEM(id=issue_id, round=src.code))
        if old.restricted:
            raise Refused(LEAD_NOT_CARRIED(number=old.number))
        done = session.scalar(
            select(Issue).where(Issue.round_id == dst.id, Issue.linked_issue_id == old.id)
        )
        if done is not None:
            out.append(done)
            continue
        org = dst.organiser
        code = old.unit.code if old.unit_path.startswith(org.path) else org.code
        fields = {
            **copy_fields(old, code),
            "round": dst.code,
            "due_on": None,
            "source": "巡视" if dst.kind == "xunshi" else "巡察",
            "supervising_leader": old.supervising_leader,
        }
        new = service.open_issue(session, old.definition.name, fields, user, now)
        new.linked_issue_id = old.id
        new.data = {**(new.data or {}), "carried_over_from": old.id}
        data = {"from_round": src.code, "to_round": dst.code, "old": old.number, "new": new.number}
        system_event(session, user, new, "carry_over", now, data)
        system_event(session, user, old, "carry_over", now, data)
        out.append(new)
    return out


@dataclass
class RelayItem:
    """An earlier round's item a relay team must look at, and the checks linked to it."""

    target: Unit
    issue: Issue
    reason: str  # open | ongoing | relapsed
    checks: list[int] = field(default_factory=list)  # ids of newer issues linked to it


def relay_view(
    session: Session, team_id: int, settings: LinkageSettings = DEFAULT_SETTINGS
) -> list[RelayItem]:
    """What a relay round's team inherits: every target's open, ongoing and relapsed items.

    Items of earlier rounds (the ``previous_round_id`` chain, and rounds that started
    earlier) about a target unit or any unit inside it, whose state kind is in
    ``settings.relay_states`` or which relapsed at least once (反弹回潮, see
    :func:`~workflow.linkage.network.quality.relapsed_clause`).  Closed items that
    held are left out; problem leads never appear.
    """
    team = session.get(Team, team_id)
    if team is None:
        raise LookupError(NO_TEAM(team=team_id))
    earlier = _earlier_round_ids(session, team.round)
    out: list[RelayItem] = []
    for _, target in team_targets(session, Team.id == team.id):
        rows = session.execute(
            select(Issue, relapsed_clause())
            .where(
                Issue.round_id.in_(earlier),
                in_subtree(target),
                Issue.restricted.is_(False),
                or_(Issue.state_kind.in_(settings.relay_states), relapsed_clause()),
            )
            .order_by(Issue.round_id, Issue.id)
        ).all()
        links: dict[int, list[int]] = {}
        for new_id, old_id in session.execute(
            select(Issue.id, Issue.linked_issue_id).where(
                Issue.linked_issue_id.in_([i.id for i, _ in rows])
            )
        ):
            if old_id is not None:
                links.setdefault(old_id, []).append(new_id)
        out += [
            RelayItem(target, i, "relapsed" if relapsed else i.state_kind, links.get(i.id, []))
            for i, relapsed in rows
        ]
    return out


def link_check(
    session: Session, new_issue: Issue, old_issue: Issue, user: User, now: datetime
) -> Issue:
    """Link a new check to the earlier item it re-examines (``linked_issue_id``), audited.

    The old item must be older, about the same unit or a unit on the same branch, and not
    a problem lead; only an office over the new issue's unit may link.  The new issue's
    version moves on, so an open form sees the change.
    """
    if new_issue.id == old_issue.id:
        raise Refused(LINK_ITSELF())
    if new_issue.restricted or old_issue.restricted:
        raise Refused(LINK_LEAD())
    if old_issue.opened_at > new_issue.opened_at:
        raise Refused(LINK_NEWER(old=old_issue.number, new=new_issue.number))
    if not (
        new_issue.unit_path.startswith(old_issue.unit_path)
        or old_issue.unit_path.startswith(new_issue.unit_path)
    ):
        raise Refused(LINK_OTHER_UNIT(old=old_issue.number, new=new_issue.number))
    if not any(
        m.role == "office" and new_issue.unit_path.startswith(m.unit.path) for m in user.memberships
    ):
        raise Refused(LINK_OFFICE_ONLY())
    if new_issue.linked_issue_id == old_issue.id:
        return new_issue
    before = new_issue.linked_issue_id
    new_issue.linked_issue_id = old_issue.id
    new_issue.version += 1
    new_issue.updated_at = now
    system_event(
        session,
        user,
        new_issue,
        "link_check",
        now,
        {
            "linked_issue_id": old_issue.id,
            "old": old_issue.number,
            "replaced": before,
            "v": new_issue.version,
        },
    )
    return new_issue
