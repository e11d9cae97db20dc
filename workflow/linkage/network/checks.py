"""Special checks (专项检查 / 回访检查) of a city's or county's inspection work: the
checklist over the target's subtree is stored, and every failed item opens a
rectification issue for the target.  Every check appends an audit event.
Must not import flask."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from workflow import audit, service
from workflow.linkage.common import (
    Refused,
    in_reach,
    office_event,
    require_office,
    require_round,
    resolve_round,
    resolve_unit,
)
from workflow.linkage.network.quality import (
    QualityRates,
    leads_on_time,
    rate,
    rectification_quality,
)
from workflow.linkage.settings import DEFAULT_SETTINGS, LinkageSettings, SpecialCheckThresholds
from workflow.messages import N_, Text
from workflow.models import Issue, Membership, Round, SpecialCheck, Unit, User

CHECKS_ITSELF = Text(
    "linkage_check_recusal", N_("回避: %(checker)s lies inside %(target)s and may not check it")
)

CHECKER_OUTSIDE = Text(
    "linkage_check_checker_outside_reach",
    N_("checker: %(unit)s lies outside your inspection office's reach"),
)


@dataclass
class SpecialCheckResult:
    """A stored special check, its checklist, and the issues its failed items opened."""

    check: SpecialCheck
    items: list[dict[str, Any]]
    issues: list[Issue]

    @property
    def passed(self) -> bool:
        """Whether every checklist item passed."""
        return all(i["passed"] for i in self.items)


CHECKLIST = (
    # key, zh label, rate attribute, threshold attribute, comparison
    ("completion_rate", "整改完成率", "min_completion_rate", ">="),
    ("overdue_rate", "整改逾期率", "max_overdue_rate", "<="),
    ("relapse_rate", "问题反弹率", "max_relapse_rate", "<="),
    ("leads_on_time_rate", "问题线索按期办理率", "min_leads_on_time_rate", ">="),
)
CHECK_CATEGORY = "巡察工作落实不到位"


def run_special_check(
    session: Session,
    target_unit: Unit | int | str,
    checker_unit: Unit | int | str,
    rnd: Round | int | str | None,
    user: User,
    now: datetime,
    thresholds: SpecialCheckThresholds | Mapping[str, float] | None = None,
    settings: LinkageSettings = DEFAULT_SETTINGS,
) -> SpecialCheckResult:
    """专项检查 of a city's or county's inspection work; failed items become issues.

    Computes the checklist over the target's subtree — rectification completion rate,
    overdue rate, relapse rate (:func:`rectification_quality`) and the share of problem
    leads fed back within ``lead_feedback_days`` — compares each with ``thresholds``
    (default ``settings.special_check``; a mapping overrides single marks), stores a
    :class:`~workflow.models.SpecialCheck`, and for every failed item opens a
    ``rectification`` issue for the target unit (category 巡察工作落实不到位), in ``rnd``.
    An item with nothing to measure (no issues) passes and says so.  The checker unit may
    not lie inside the target (a unit does not check itself).
    """
    target = resolve_unit(session, target_unit)
    checker = resolve_unit(session, checker_unit)
    r = resolve_round(session, rnd) if rnd is not None else None
    if checker.path.startswith(target.path):
        raise Refused(CHECKS_ITSELF(checker=checker.name, target=target.name))
    member = require_office(user, target)
    if not in_reach(user, checker):
        # the office checks in its own name or a unit below it, never as another city
        raise Refused(CHECKER_OUTSIDE(unit=checker.name))
    if r is not None:
        require_round(session, user, r)
    marks = _pass_marks(settings, thresholds)
    q = rectification_quality(session, target.id, now)
    on_time, due = leads_on_time(session, target, now, marks.lead_feedback_days, None)
    items = _checklist(q, rate(on_time, due), marks)
    check = _new_check(session, target, checker, r, user, now)
    issues = [
        _open_failed_item(session, item, check, target, checker, r, user, now)
        for item in items
        if not item["passed"]
    ]
    check.results = audit.canonical(
        {
            "items": items,
            "quality": asdict(q),
            "leads": {"on_time": on_time, "due": due},
            "thresholds": asdict(marks),
            "passed": all(i["passed"] for i in items),
        }
    )
    result = SpecialCheckResult(check, items, issues)
    _record_special_check(session, user, member, result, target, checker, r, now)
    session.flush()
    return result


def _new_check(
    session: Session, target: Unit, checker: Unit, r: Round | None, user: User, now: datetime
) -> SpecialCheck:
    """Store an empty special check of ``target`` by ``checker`` (results come later)."""
    check = SpecialCheck(
        target_unit_id=target.id,
        checker_unit_id=checker.id,
        round_id=r.id if r else None,
        checked_at=now,
        results={},
        created_by=user.id,
    )
    session.add(check)
    session.flush()
    return check


def _record_special_check(
    session: Session,
    user: User,
    member: Membership,
    result: SpecialCheckResult,
    target: Unit,
    checker: Unit,
    r: Round | None,
    now: datetime,
) -> None:
    """Append the office's ``special_check`` event: what failed and which issues it opened."""
    office_event(
        session,
        user,
        member,
        "special_check",
        now,
        {
            "special_check_id": result.check.id,
            "target": target.code,
            "checker": checker.code,
            "round": r.code if r else None,
            "failed": [i["key"] for i in result.items if not i["passed"]],
            "issues": [i.number for i in result.issues],
        },
    )


def _pass_marks(
    settings: LinkageSettings, thresholds: SpecialCheckThresholds | Mapping[str, float] | None
) -> SpecialCheckThresholds:
    """The pass marks to use: the settings', replaced or overridden mark by mark."""
    if isinstance(thresholds, SpecialCheckThresholds):
        return thresholds
    if thresholds:
        return replace(settings.special_check, **dict(thresholds))  # type: ignore[arg-type]
    return settings.special_check


def _checklist(
    q: QualityRates, leads_on_time_rate: float | None, marks: SpecialCheckThresholds
) -> list[dict[str, Any]]:
    """The checklist items: each measured rate against its mark, passed or not."""
    values = {
        "completion_rate": q.completion_rate,
        "overdue_rate": q.overdue_rate,
        "relapse_rate": q.relapse_rate,
        "leads_on_time_rate": leads_on_time_rate,
    }
    items = []
    for key, label, mark_attr, op in CHECKLIST:
        value, mark = values[key], float(getattr(marks, mark_attr))
        passed = value is None or (value >= mark if op == ">=" else value <= mark)
        items.append(
            {
                "key": key,
                "label": label,
                "value": value,
                "threshold": mark,
                "op": op,
                "passed": passed,
                "note": "nothing to measure" if value is None else "",
                "issue_id": None,
            }
        )
    return items


def _open_failed_item(
    session: Session,
    item: dict[str, Any],
    check: SpecialCheck,
    target: Unit,
    checker: Unit,
    r: Round | None,
    user: User,
    now: datetime,
) -> Issue:
    """Open the target's rectification issue for a failed item, and note it on the item."""
    shown = f"{item['value']:.1%}" if item["value"] is not None else "—"
    fields = {
        "title": f"{target.name}{CHECK_CATEGORY}：{item['label']}{shown}，"
        f"{'低于' if item['op'] == '>=' else '高于'}标准{item['threshold']:.0%}",
        "description": f"{checker.name}专项检查（{now.date().isoformat()}）发现："
        f"{item['label']}为{shown}，标准为{item['op']}{item['threshold']:.0%}。",
        "category": CHECK_CATEGORY,
        "unit": target.code,
        "source": "巡视" if checker.level == "province" else "巡察",
    }
    if r is not None:
        fields["round"] = r.code
    issue = service.open_issue(session, "rectification", fields, user, now)
    issue.data = {**(issue.data or {}), "special_check_id": check.id, "item": item["key"]}
    item["issue_id"] = issue.id
    return issue
