"""The recusal rule of cross inspection (交叉巡察 / 回避): nobody inspects, follows up or
spot-checks the unit they come from.  The same rule guards team members, team targets
and follow-up / spot-check assignments, so the service and the UI refuse with one reason.
Nothing here writes.  Must not import flask.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from workflow.linkage.common import Refused
from workflow.linkage.settings import DEFAULT_SETTINGS, LinkageSettings, RecusalScope
from workflow.models import Issue, Unit, User


def _parent_path(unit: Unit) -> str | None:
    """The path of ``unit``'s direct parent, or None for a root unit."""
    parts = unit.path.strip("/").split("/")
    return "/" + "/".join(parts[:-1]) + "/" if len(parts) > 1 else None


def recusal_reason(
    person: User, person_unit: Unit, target: Unit, scope: RecusalScope = "subtree"
) -> str | None:
    """Why ``person`` (holding a post in ``person_unit``) may not inspect ``target``, or None."""
    why = None
    if person_unit.id == target.id:
        why = "belongs to the inspected unit"
    elif scope in ("subtree", "parent") and person_unit.path.startswith(target.path):
        why = "belongs to a unit inside the inspected unit"
    elif scope == "parent" and person_unit.path == _parent_path(target):
        why = "belongs to the inspected unit's parent unit"
    if why is None:
        return None
    return (
        f"回避: {person.display_name} ({person.username}) of {person_unit.name} "
        f"[{person_unit.code}] {why} {target.name} [{target.code}]"
    )


def first_conflict(person: User, targets: Iterable[Unit], scope: RecusalScope) -> str | None:
    """The recusal reason of ``person``'s first post too close to one of ``targets``, or None."""
    for target in targets:
        for m in person.memberships:
            reason = recusal_reason(person, m.unit, target, scope)
            if reason:
                return reason
    return None


def check_assignment(
    session: Session, user: User, issue: Issue, settings: LinkageSettings = DEFAULT_SETTINGS
) -> None:
    """Refuse (raise :class:`Refused`) if ``user`` may not follow up or spot-check ``issue``.

    Call it before ``assign_checker`` (or any follow-up / spot-check assignment).  The
    person is too close when any of their posts lies in the issue's lead unit, its
    inspected unit or a supporting unit — widened by ``settings.recusal_scope``.
    Nothing is written; the caller decides whether to record the refusal.
    """
    targets = [issue.unit] + [s.unit for s in issue.supporting]
    if issue.inspected_unit is not None:
        targets.append(issue.inspected_unit)
    reason = first_conflict(user, targets, settings.recusal_scope)
    if reason:
        raise Refused(f"{reason} (issue {issue.number})")
