"""Statistics of the 巡视巡察上下联动监督网: every figure of :data:`METRICS` per round and
per level of a unit's subtree, plus what the lower levels handed up.  Computed figures
come from teams, targets and issues; entered ones from ``workflow.linkage.network.figures``.
Must not import flask.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, func, or_, select
from sqlalchemy.orm import Session

from workflow.linkage.common import resolve_unit
from workflow.linkage.network.metrics import HANDED_UP, METRICS, Metric, Mode
from workflow.models import Issue, NetworkFigure, Round, Team, TeamTarget, Unit


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
    """A zero figure of every metric."""
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
    rounds = _rounds_below(session, unit, round_ids)
    ids = [r.id for r in rounds]
    rows = {r.id: RoundFigures(r.id, r.code, r.name, r.level) for r in rounds}
    for rid, n in _units_covered(session, ids, Team.round_id).items():
        rows[int(rid)].figures["units_covered"].value = n
    _add_lead_figures(session, rows, ids)
    _add_problem_figures(session, rows, ids)
    loose = _add_entered_figures(session, rows, ids, unit, round_ids is None)
    out = list(rows.values()) + [loose[k] for k in sorted(loose)]
    levels = _level_totals(session, out, ids)
    lower = [r.id for r in rounds if r.organiser_unit_id != unit.id]
    return NetworkReport(unit.id, out, levels, _handed_up(session, out, lower))


def _rounds_below(session: Session, unit: Unit, round_ids: Sequence[int] | None) -> list[Round]:
    """The rounds organised in ``unit``'s subtree (narrowed to ``round_ids``), by start."""
    q = (
        select(Round)
        .join(Unit, Unit.id == Round.organiser_unit_id)
        .where(Unit.path.startswith(unit.path, autoescape=True))
        .order_by(Round.starts_on, Round.id)
    )
    if round_ids is not None:
        q = q.where(Round.id.in_(list(round_ids)))
    return list(session.scalars(q))


def _add_lead_figures(session: Session, rows: dict[int, RoundFigures], ids: list[int]) -> None:
    """Add the problem leads of the rounds and what came of them (cases, sanctions)."""
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


def _add_problem_figures(session: Session, rows: dict[int, RoundFigures], ids: list[int]) -> None:
    """Add the problems the rounds found (top-level findings) and how many are relay-linked."""
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


def _add_entered_figures(
    session: Session,
    rows: dict[int, RoundFigures],
    ids: list[int],
    unit: Unit,
    with_loose: bool,
) -> dict[str, RoundFigures]:
    """Add the entered figures of the rounds; those of no round (``with_loose``) per level."""
    loose: dict[str, RoundFigures] = {}
    which: list[ColumnElement[bool]] = [NetworkFigure.round_id.in_(ids)]
    if with_loose:  # figures not tied to a round belong to the unit's whole picture
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
    return loose


def _level_totals(
    session: Session, out: list[RoundFigures], ids: list[int]
) -> dict[str, dict[str, Figure]]:
    """Each level's figures summed over its rounds; units_covered counts distinct units."""
    levels: dict[str, dict[str, Figure]] = {}
    for row in out:
        agg = levels.setdefault(row.level, _blank())
        for k, one in row.figures.items():
            agg[k].add(one)
    for level, n in _units_covered(session, ids, Round.level).items():
        levels[level]["units_covered"].value = n
    return levels


def _handed_up(session: Session, out: list[RoundFigures], lower: list[int]) -> dict[str, Figure]:
    """The HANDED_UP figures summed over the ``lower`` rounds (organised below the unit)."""
    handed = {k: Figure(k) for k in HANDED_UP}
    for row in out:
        if row.round_id in lower:
            for k in HANDED_UP:
                handed[k].add(row.figures[k])
    handed["units_covered"].value = sum(_units_covered(session, lower).values())
    return handed
