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
from workflow.messages import N_, Message, Text
from workflow.models import Issue, Unit, User

# (why, the same said of an issue's follow-up or spot check), per kind of closeness
SAME_UNIT = (
    Text(
        "linkage_recusal_same_unit",
        N_(
            "回避: %(person)s (%(username)s) of %(unit)s [%(unit_code)s] belongs to the "
            "inspected unit %(target)s [%(target_code)s]"
        ),
    ),
    Text(
        "linkage_recusal_same_unit_issue",
        N_(
            "回避: %(person)s (%(username)s) of %(unit)s [%(unit_code)s] belongs to the "
            "inspected unit %(target)s [%(target_code)s] (issue %(issue)s)"
        ),
    ),
)
INSIDE = (
    Text(
        "linkage_recusal_inside",
        N_(
            "回避: %(person)s (%(username)s) of %(unit)s [%(unit_code)s] belongs to a unit "
            "inside the inspected unit %(target)s [%(target_code)s]"
        ),
    ),
    Text(
        "linkage_recusal_inside_issue",
        N_(
            "回避: %(person)s (%(username)s) of %(unit)s [%(unit_code)s] belongs to a unit "
            "inside the inspected unit %(target)s [%(target_code)s] (issue %(issue)s)"
        ),
    ),
)
PARENT = (
    Text(
        "linkage_recusal_parent",
        N_(
            "回避: %(person)s (%(username)s) of %(unit)s [%(unit_code)s] belongs to the "
            "inspected unit's parent unit %(target)s [%(target_code)s]"
        ),
    ),
    Text(
        "linkage_recusal_parent_issue",
        N_(
            "回避: %(person)s (%(username)s) of %(unit)s [%(unit_code)s] belongs to the "
            "inspected unit's parent unit %(target)s [%(target_code)s] (issue %(issue)s)"
        ),
    ),
)


def _parent_path(unit: Unit) -> str | None:
    """The path of ``unit``'s direct parent, or None for a root unit."""
    parts = unit.path.strip("/").split("/")
    return "/" + "/".join(parts[:-1]) + "/" if len(parts) > 1 else None


def _closeness(person_unit: Unit, target: Unit, scope: RecusalScope) -> tuple[Text, Text] | None:
    """How ``person_unit`` is too close to ``target`` under ``scope`` (its texts), or None."""
    if person_unit.id == target.id:
        return SAME_UNIT
    if scope in ("subtree", "parent") and person_unit.path.startswith(target.path):
        return INSIDE
    if scope == "parent" and person_unit.path == _parent_path(target):
        return PARENT
    return None


def recusal_reason(
    person: User,
    person_unit: Unit,
    target: Unit,
    scope: RecusalScope = "subtree",
    issue: str | None = None,
) -> Message | None:
    """Why ``person`` (holding a post in ``person_unit``) may not inspect ``target``, or None.

    ``issue``: the number of the issue whose follow-up or spot check is refused, if any.
    """
    texts = _closeness(person_unit, target, scope)
    if texts is None:
        return None
    params = dict(
        person=person.display_name,
        username=person.username,
        unit=person_unit.name,
        unit_code=person_unit.code,
        target=target.name,
        target_code=target.code,
    )
    return texts[0](**params) if issue is None else texts[1](**params, issue=issue)


def first_conflict(
    person: User, targets: Iterable[Unit], scope: RecusalScope, issue: str | None = None
) -> Message | None:
    """The recusal reason of ``person``'s first post too close to one of ``targets``, or None."""
    for target in targets:
        for m in person.memberships:
            reason = recusal_reason(person, m.unit, target, scope, issue)
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
    reason = first_conflict(user, targets, settings.recusal_scope, issue.number)
    if reason:
        raise Refused(reason)
