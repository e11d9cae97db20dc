"""The unit progress board: per-unit counts by stage rolled up the unit tree, one level at a
time; the same query the statistics page uses, so the figures agree."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, Response, abort
from flask_babel import gettext as _
from flask_login import login_required

from web.auth import me
from web.database import get_session, now
from web.htmx import is_htmx, render
from web.pages.common import filters_from_args
from workflow import queries

bp = Blueprint("board", __name__)


@bp.get("/board")
@login_required
def index() -> Response:
    """Show the board for a unit (default: the user's own top unit) and its children."""
    db, user = get_session(), me()
    f = filters_from_args()
    roots = queries.root_units(user)
    unit = queries.unit_in_reach(db, user, f.unit_id) if f.unit_id else None
    if f.unit_id and unit is None:
        abort(404)
    if unit is None and len(roots) == 1:
        unit = roots[0]
    f = replace(f, unit_id=None)
    if unit is not None:
        summary, rows = queries.unit_board(db, user, unit, now(), f)
        trail = [u for u in queries.ancestors(db, unit) if queries.unit_in_reach(db, user, u.id)]
    else:
        summary = queries.scope_progress(db, user, now(), f, _("Whole scope"))
        rows = queries.unit_progress(db, user, [r.id for r in roots], now(), f)
        trail = []
    # the fragment (drill-down, filter, the 60 s refresh) has no round filter to fill
    rounds = [] if is_htmx() else queries.rounds(db, user)
    return render("board/index.html", "board/_board.html", summary=summary, rows=rows,
                  unit=unit, trail=trail, rounds=rounds, f=f)  # fmt: skip
