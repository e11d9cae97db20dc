"""Statistics (BRIEF §5) per round, level and unit subtree, with charts drawn as inline SVG
on the server (no script), printable."""

from __future__ import annotations

from dataclasses import dataclass, replace

from flask import Blueprint, Response, abort

from web.auth import me, role_required
from web.database import get_session, now
from web.htmx import render
from web.pages.common import filters_from_args
from workflow import queries

bp = Blueprint("stats", __name__)

W, H, PAD = 560, 200, 30


@dataclass
class Bar:
    """One bar of a horizontal bar chart."""

    label: str
    value: int
    y: int
    width: int


@dataclass
class Line:
    """A polyline chart: points and axis labels."""

    opened: str
    closed: str
    labels: list[tuple[int, str]]
    top: int


def bars(items: list[tuple[str, int]], width: int = 230) -> list[Bar]:
    """Bars scaled to the largest value."""
    top = max((v for _, v in items), default=0) or 1
    return [Bar(name, v, 22 * n, round(width * v / top)) for n, (name, v) in enumerate(items)]


def line(monthly: list[tuple[str, int, int]]) -> Line | None:
    """Cumulative transferred and closed per month, as SVG polyline points."""
    if not monthly:
        return None
    opened = closed = 0
    cum = []
    for month, o, c in monthly:
        opened, closed = opened + o, closed + c
        cum.append((month, opened, closed))
    top = max(opened, 1)
    step = (W - 2 * PAD) / max(len(cum) - 1, 1)

    def pts(k: int) -> str:
        """The polyline points of column ``k`` of the cumulative rows."""
        return " ".join(
            f"{PAD + i * step:.1f},{H - PAD - (H - 2 * PAD) * row[k] / top:.1f}"
            for i, row in enumerate(cum)
        )

    every = max(1, len(cum) // 6)
    labels = [(round(PAD + i * step), row[0]) for i, row in enumerate(cum) if i % every == 0]
    return Line(pts(1), pts(2), labels, top)


@bp.get("/stats")
@role_required("office", "supervisor", "leader", "discipline")
def index() -> Response:
    """The figures and charts for the chosen round, level and unit subtree."""
    db, user = get_session(), me()
    f = replace(filters_from_args(), q=None, stage=None, warning=None, overdue=False)
    unit = queries.unit_in_reach(db, user, f.unit_id) if f.unit_id else None
    if f.unit_id and unit is None:
        abort(404)
    s = queries.statistics(db, user, now(), f)
    base = unit or (queries.root_units(user) or [None])[0]
    per_unit = (
        queries.unit_progress(
            db, user, queries.child_units(db, base.id), now(), replace(f, unit_id=None)
        )
        if base
        else []
    )
    overdue = bars(sorted(((p.name, p.overdue) for p in per_unit), key=lambda x: -x[1])[:12])
    cats = bars([(c, n) for c, n, _ in s.by_category[:12]])
    return render("stats/index.html", "stats/_figures.html", s=s, f=f, unit=unit,
                  rounds=queries.rounds(db, user), units=queries.unit_choices(db, user), overdue=overdue,
                  cats=cats, trend=line(s.monthly), W=W, H=H, PAD=PAD)  # fmt: skip
