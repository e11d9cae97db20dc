"""Statistics of the 巡视巡察上下联动监督网, rectification quality, and special checks.

Owns:

- :data:`METRICS`, the one written definition of every network figure (zh and en label,
  definition text, and whether it is *computed* from data or *entered* with its source);
- :func:`enter_figure`, the audited entry of a figure that has no data behind it
  (个别谈话, 来信来电来访, 个人有关事项抽查, 提请协助) with its source;
- :func:`network_statistics`, every figure per round and per level, plus what the lower
  levels handed up;
- :func:`rectification_quality`, the rates a higher level checks a lower level's
  rectification by (完成率, 逾期率, 反弹率, 按期完成率);
- :func:`run_special_check` (专项检查 / 回访检查 of a lower level's inspection work), which
  stores the checklist and opens a rectification issue for every failed item.

Counting rules shared with the boards (done, overdue) come from ``workflow.queries``.
Every write appends an audit event.  Must not import flask.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, case, distinct, func, or_, select
from sqlalchemy.orm import Session

from workflow import audit, service
from workflow.models import (
    Event,
    Issue,
    NetworkFigure,
    Round,
    SpecialCheck,
    Team,
    TeamTarget,
    Unit,
    User,
)
from workflow.queries import done_clause, overdue_clause
from workflow.scope import path_range
from workflow.teams import (
    DEFAULT_SETTINGS,
    LinkageSettings,
    Refused,
    SpecialCheckThresholds,
    resolve_round,
    resolve_unit,
)

__all__ = [
    "METRICS",
    "Figure",
    "Metric",
    "NetworkReport",
    "QualityRates",
    "RoundFigures",
    "SpecialCheckResult",
    "enter_figure",
    "network_statistics",
    "rectification_quality",
    "relapsed_clause",
    "run_special_check",
]

BEIJING = timedelta(hours=8)
Mode = Literal["computed", "entered"]


@dataclass(frozen=True)
class Metric:
    """One network statistic and its single written definition."""

    key: str
    zh: str
    en: str
    definition: str
    mode: Mode
    breakdown: str | None = None  # the column a computed figure is broken down by


METRICS: dict[str, Metric] = {
    m.key: m
    for m in [
        Metric(
            "units_covered",
            "巡视巡察覆盖党组织（个）",
            "Units covered",
            "Distinct units that are a target of any team of the round(s) (TeamTarget); a unit "
            "inspected by two teams or rounds of the same group counts once.",
            "computed",
        ),
        Metric(
            "individual_talks",
            "个别谈话（人次）",
            "Individual talks",
            "People talked to individually by the teams, as reported by the office with its "
            "source; one person talked to twice counts twice.",
            "entered",
        ),
        Metric(
            "petitions",
            "受理来信来电来访（批件次）",
            "Letters, calls and visits received",
            "Batches of letters, calls and visits from the public received by the teams, as "
            "reported with its source.",
            "entered",
        ),
        Metric(
            "personal_matter_checks",
            "抽查核实个人有关事项报告（人）",
            "Personal-matter reports checked",
            "Leading cadres whose personal-matter report (个人有关事项报告) was sampled and "
            "verified, as reported with its source.",
            "entered",
        ),
        Metric(
            "assistance_requests",
            "提请有关单位协助（件次）",
            "Assistance requested",
            "Requests for assistance sent to other bodies (audit, discipline, organisation "
            "departments), as reported with its source.",
            "entered",
        ),
        Metric(
            "leads_transferred",
            "移交问题线索（条）",
            "Leads transferred",
            "Problem leads (problem_lead issues) registered in the round(s), whatever their "
            "state, broken down by the cadre level of the person concerned (未注明 when not "
            "recorded).",
            "computed",
            "cadre_level",
        ),
        Metric(
            "cases_opened",
            "立案（件）",
            "Cases opened",
            "Sum of the cases opened (立案) recorded on the round's problem leads by the "
            "discipline commission (record_outcome).",
            "computed",
        ),
        Metric(
            "sanctions",
            "党纪政务处分（人）",
            "Party and government sanctions",
            "Sum of the people sanctioned (党纪政务处分) recorded on the round's problem leads.",
            "computed",
        ),
        Metric(
            "org_measures",
            "组织处理（人）",
            "Organisational measures",
            "Sum of the people given organisational measures or adjustments (组织处理/组织调整) "
            "recorded on the round's problem leads.",
            "computed",
        ),
        Metric(
            "problems_found",
            "发现问题（个）",
            "Problems found",
            "Rectification and common-problem issues registered in the round(s) that are not "
            "the children a common problem was fanned out into (the same problem rectified "
            "unit by unit), broken down by category (未归类 when blank).  Items carried over "
            "or linked to an earlier round are included and also counted in relay_linked.",
            "computed",
            "category",
        ),
        Metric(
            "relay_linked",
            "接力跟踪问题（个）",
            "Relay items",
            "Of problems_found, those linked to an earlier round's item (carried over or "
            "re-checked: linked_issue_id set).",
            "computed",
        ),
    ]
}
ENTERED = tuple(k for k, m in METRICS.items() if m.mode == "entered")
COMPUTED = tuple(k for k, m in METRICS.items() if m.mode == "computed")
# what the lower levels hand up: the same definitions over rounds organised below the unit
HANDED_UP = ("units_covered", "problems_found", "leads_transferred", "cases_opened")


def _office(user: User, unit: Unit) -> Any:
    for m in user.memberships:
        if m.role == "office" and unit.path.startswith(m.unit.path):
            return m
    raise Refused(f"only the inspection office of {unit.name} or above may do this")


# ====================================================================== entered figures


def enter_figure(
    session: Session,
    rnd: Round | int | str | None,
    unit: Unit | int | str,
    metric: str,
    value: int,
    source: str,
    user: User,
    now: datetime,
) -> NetworkFigure:
    """Enter (or correct) a figure that has no data behind it, with where it comes from.

    ``metric`` must be an *entered* metric of :data:`METRICS`; ``value`` an integer ≥ 0;
    ``source`` is required (document, report or meeting it comes from).  ``rnd`` None
    means a figure of the unit not tied to one round (e.g. "since last year").  One figure
    per (round, unit, metric): entering again replaces it, and the event keeps the old one.
    """
    errors = []
    if metric not in METRICS:
        errors.append(f"metric {metric!r}: unknown")
    elif METRICS[metric].mode != "entered":
        errors.append(f"metric {metric!r} is computed from data and cannot be entered")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        errors.append("value: a whole number ≥ 0")
    if not (source or "").strip():
        errors.append("source: required")
    elif len(source) > 255:
        errors.append("source: at most 255 characters")
    if errors:
        raise ValueError("; ".join(errors))
    u = resolve_unit(session, unit)
    r = resolve_round(session, rnd) if rnd is not None else None
    member = _office(user, u)
    row = session.scalar(
        select(NetworkFigure).where(
            NetworkFigure.unit_id == u.id,
            NetworkFigure.metric == metric,
            NetworkFigure.round_id == r.id if r else NetworkFigure.round_id.is_(None),
        )
    )
    old = None if row is None else {"value": row.value, "source": row.source}
    if row is None:
        row = NetworkFigure(
            round_id=r.id if r else None,
            unit_id=u.id,
            metric=metric,
            value=value,
            source=source.strip(),
            entered_by=user.id,
            entered_at=now,
        )
        session.add(row)
    else:
        row.value, row.source, row.entered_by, row.entered_at = value, source.strip(), user.id, now
    session.flush()
    audit.append(
        session,
        at=now,
        actor_id=user.id,
        actor_role="office",
        actor_unit_id=member.unit_id,
        action="enter_figure",
        data={
            "metric": metric,
            "round": r.code if r else None,
            "unit": u.code,
            "value": value,
            "source": source.strip(),
            "replaced": old,
        },
    )
    return row


# ====================================================================== statistics


@dataclass
class Figure:
    """One figure: its value, breakdown, how it was obtained and the sources it sums."""

    metric: str
    value: int = 0
    breakdown: dict[str, int] = field(default_factory=dict)
    mode: Mode = "computed"
    sources: list[str] = field(default_factory=list)

    def add(self, other: Figure) -> None:
        """Add ``other`` into this figure (for roll-ups)."""
        self.value += other.value
        for k, v in other.breakdown.items():
            self.breakdown[k] = self.breakdown.get(k, 0) + v
        self.sources += [s for s in other.sources if s not in self.sources]


def _blank() -> dict[str, Figure]:
    return {k: Figure(k, mode=m.mode) for k, m in METRICS.items()}


@dataclass
class RoundFigures:
    """Every metric of one round (``round_id`` None: figures entered without a round)."""

    round_id: int | None
    code: str
    name: str
    level: str
    figures: dict[str, Figure] = field(default_factory=_blank)


@dataclass
class NetworkReport:
    """The network statistics of a unit's subtree: per round, per level, and handed up."""

    unit_id: int
    rounds: list[RoundFigures]
    levels: dict[str, dict[str, Figure]]  # province|city|county → metric → figure
    handed_up: dict[str, Figure]  # HANDED_UP metrics over rounds organised below the unit
    definitions: dict[str, Metric] = field(default_factory=lambda: dict(METRICS))


def _units_covered(session: Session, round_ids: Sequence[int], by: Any = None) -> dict[Any, int]:
    """Distinct target units of the rounds, per ``by`` (a column), or under None overall."""
    if not round_ids:
        return {}
    n = func.count(distinct(TeamTarget.unit_id))
    base = (
        select(TeamTarget.unit_id)
        .join(Team, Team.id == TeamTarget.team_id)
        .join(Round, Round.id == Team.round_id)
        .where(Team.round_id.in_(round_ids))
    )
    if by is None:
        return {None: session.scalar(base.with_only_columns(n)) or 0}
    return {k: v for k, v in session.execute(base.with_only_columns(by, n).group_by(by))}


def network_statistics(
    session: Session, unit_id: int, round_ids: Sequence[int] | None = None
) -> NetworkReport:
    """Every network figure for the rounds organised in ``unit_id``'s subtree.

    Computed figures come from teams, targets and issues (see :data:`METRICS`); entered
    figures from :func:`enter_figure` rows of those rounds (and, without a round, of units
    in the subtree).  ``round_ids`` narrows the rounds.  Level totals sum the rounds of that
    level, except units_covered which counts distinct units again.
    """
    unit = resolve_unit(session, unit_id)
    q = (
        select(Round)
        .join(Unit, Unit.id == Round.organiser_unit_id)
        .where(Unit.path.startswith(unit.path, autoescape=True))
        .order_by(Round.starts_on, Round.id)
    )
    if round_ids is not None:
        q = q.where(Round.id.in_(list(round_ids)))
    rounds = list(session.scalars(q))
    ids = [r.id for r in rounds]
    rows = {r.id: RoundFigures(r.id, r.code, r.name, r.level) for r in rounds}
    for rid, n in _units_covered(session, ids, Team.round_id).items():
        rows[int(rid)].figures["units_covered"].value = n
    lead_q = (
        select(
            Issue.round_id,
            Issue.cadre_level,
            func.count(),
            func.sum(Issue.cases_opened),
            func.sum(Issue.sanctions),
            func.sum(Issue.org_measures),
        )
        .where(Issue.kind == "problem_lead", Issue.round_id.in_(ids))
        .group_by(Issue.round_id, Issue.cadre_level)
    )
    for rid, level, n, cases, sanctions, org in session.execute(lead_q):
        f = rows[int(rid or 0)].figures
        f["leads_transferred"].value += n
        key = level or "未注明"
        f["leads_transferred"].breakdown[key] = f["leads_transferred"].breakdown.get(key, 0) + n
        f["cases_opened"].value += int(cases or 0)
        f["sanctions"].value += int(sanctions or 0)
        f["org_measures"].value += int(org or 0)
    prob_q = (
        select(
            Issue.round_id,
            Issue.category,
            func.count(),
            func.sum(case((Issue.linked_issue_id.is_not(None), 1), else_=0)),
        )
        .where(
            Issue.kind.in_(("rectification", "common_problem")),
            Issue.parent_id.is_(None),
            Issue.round_id.in_(ids),
        )
        .group_by(Issue.round_id, Issue.category)
    )
    for rid, category, n, linked in session.execute(prob_q):
        f = rows[int(rid or 0)].figures
        key = category or "未归类"
        f["problems_found"].value += n
        f["problems_found"].breakdown[key] = f["problems_found"].breakdown.get(key, 0) + n
        f["relay_linked"].value += int(linked or 0)
    loose: dict[str, RoundFigures] = {}
    which: list[ColumnElement[bool]] = [NetworkFigure.round_id.in_(ids)]
    if round_ids is None:  # figures not tied to a round belong to the unit's whole picture
        which.append(
            and_(NetworkFigure.round_id.is_(None), Unit.path.startswith(unit.path, autoescape=True))
        )
    entered = session.execute(
        select(NetworkFigure, Unit.level, Unit.code)
        .join(Unit, Unit.id == NetworkFigure.unit_id)
        .where(or_(*which))
        .order_by(NetworkFigure.id)
    )
    for row_fig, ulevel, ucode in entered:
        if row_fig.metric not in METRICS:
            continue
        if row_fig.round_id is not None:
            holder = rows[row_fig.round_id]
        else:
            holder = loose.setdefault(ulevel, RoundFigures(None, "", "（未关联轮次）", ulevel))
        shown = holder.figures[row_fig.metric]
        shown.value += row_fig.value
        shown.sources.append(f"{ucode}: {row_fig.source}")
    out = list(rows.values()) + [loose[k] for k in sorted(loose)]
    levels: dict[str, dict[str, Figure]] = {}
    for row in out:
        agg = levels.setdefault(row.level, _blank())
        for k, one in row.figures.items():
            agg[k].add(one)
    for level, n in _units_covered(session, ids, Round.level).items():
        levels[level]["units_covered"].value = n
    lower = [r.id for r in rounds if r.organiser_unit_id != unit.id]
    handed = {k: Figure(k) for k in HANDED_UP}
    for row in out:
        if row.round_id in lower:
            for k in HANDED_UP:
                handed[k].add(row.figures[k])
    handed["units_covered"].value = sum(_units_covered(session, lower).values())
    return NetworkReport(unit.id, out, levels, handed)


# ====================================================================== rectification quality


def relapsed_clause() -> ColumnElement[bool]:
    """An issue relapsed (反弹回潮): a follow-up found it relapsed at least once.

    Read from ``relapse_count`` and, until the definition keeps that count, from the
    ``followup_relapse`` events of the issue.
    """
    relapses = select(Event.issue_id).where(
        Event.action == "followup_relapse", Event.outcome == "ok"
    )
    return or_(Issue.relapse_count > 0, Issue.id.in_(relapses))


@dataclass
class QualityRates:
    """The rectification quality of a unit's subtree (rates are None when undefined)."""

    unit_id: int
    total: int
    closed: int
    ongoing: int
    overdue: int
    relapsed: int
    ever_closed: int
    closed_with_due: int
    closed_on_time: int
    completion_rate: float | None  # closed / total (长期坚持 never counts as closed)
    overdue_rate: float | None  # overdue / total
    relapse_rate: float | None  # relapsed / ever closed
    on_time_rate: float | None  # closed by the promised date / closed with a promised date


def _rate(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def rectification_quality(
    session: Session, unit_id: int, now: datetime, round_ids: Sequence[int] | None = None
) -> QualityRates:
    """How well the units in ``unit_id``'s subtree rectify (a higher level's follow-up).

    Over rectification issues (common-problem parents and problem leads excluded):
    completion = closed / all; overdue = open with its earliest running deadline past
    ``now`` (the board's definition) / all; relapse = relapsed / ever closed (closed now
    or relapsed); on time = closed no later than the promised date (``due_on``, Beijing
    calendar day) / closed items that had a promised date.
    """
    unit = resolve_unit(session, unit_id)
    conds = [Issue.kind == "rectification", path_range(Issue.unit_path, unit.path)]
    if round_ids is not None:
        conds.append(Issue.round_id.in_(list(round_ids)))

    def n(cond: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    row = session.execute(
        select(
            func.count(Issue.id),
            n(done_clause()),
            n(Issue.state_kind == "ongoing"),
            n(overdue_clause(now)),
            n(relapsed_clause()),
            n(or_(done_clause(), relapsed_clause())),
        ).where(*conds)
    ).one()
    total, closed, ongoing, overdue, relapsed, ever = (int(x or 0) for x in row)
    # on time compares a Beijing calendar day with an instant: read the closed pairs
    pairs: list[tuple[datetime, date]] = [
        (c, d)
        for c, d in session.execute(
            select(Issue.closed_at, Issue.due_on).where(
                *conds, done_clause(), Issue.due_on.is_not(None), Issue.closed_at.is_not(None)
            )
        )
        if c is not None and d is not None
    ]
    on_time = sum(1 for closed_at, due in pairs if (closed_at + BEIJING).date() <= due)
    return QualityRates(
        unit.id,
        total,
        closed,
        ongoing,
        overdue,
        relapsed,
        ever,
        len(pairs),
        on_time,
        _rate(closed, total),
        _rate(overdue, total),
        _rate(relapsed, ever),
        _rate(on_time, len(pairs)),
    )


def _leads_on_time(
    session: Session, unit: Unit, now: datetime, days: int, round_ids: Sequence[int] | None
) -> tuple[int, int]:
    """(handled on time, due): leads whose feedback was due by ``now`` or was sent."""
    conds = [Issue.kind == "problem_lead", path_range(Issue.unit_path, unit.path)]
    if round_ids is not None:
        conds.append(Issue.round_id.in_(list(round_ids)))
    rows = session.execute(
        select(Issue.opened_at, Issue.closed_at, Issue.state_kind).where(*conds)
    ).all()
    due = on_time = 0
    for opened, closed, kind in rows:
        deadline = opened + timedelta(days=days)
        if kind == "closed" or deadline <= now:
            due += 1
            if kind == "closed" and closed is not None and closed <= deadline:
                on_time += 1
    return on_time, due


# ====================================================================== special checks


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
        raise Refused(f"回避: {checker.name} lies inside {target.name} and may not check it")
    member = _office(user, target)
    marks = settings.special_check
    if isinstance(thresholds, SpecialCheckThresholds):
        marks = thresholds
    elif thresholds:
        marks = replace(marks, **dict(thresholds))  # type: ignore[arg-type]
    q = rectification_quality(session, target.id, now)
    on_time, due = _leads_on_time(session, target, now, marks.lead_feedback_days, None)
    values = {
        "completion_rate": q.completion_rate,
        "overdue_rate": q.overdue_rate,
        "relapse_rate": q.relapse_rate,
        "leads_on_time_rate": _rate(on_time, due),
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
    issues = []
    for item in items:
        if item["passed"]:
            continue
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
        issues.append(issue)
    check.results = audit.canonical(
        {
            "items": items,
            "quality": asdict(q),
            "leads": {"on_time": on_time, "due": due},
            "thresholds": asdict(marks),
            "passed": all(i["passed"] for i in items),
        }
    )
    audit.append(
        session,
        at=now,
        actor_id=user.id,
        actor_role="office",
        actor_unit_id=member.unit_id,
        action="special_check",
        data={
            "special_check_id": check.id,
            "target": target.code,
            "checker": checker.code,
            "round": r.code if r else None,
            "failed": [i["key"] for i in items if not i["passed"]],
            "issues": [i.number for i in issues],
        },
    )
    session.flush()
    return SpecialCheckResult(check, items, issues)
