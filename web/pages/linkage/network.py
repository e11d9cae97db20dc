"""The network statistics page (巡视巡察上下联动监督网): figures per level and round, each
with its written definition; the office enters the figures that have no data behind them."""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from web.auth import me, role_required
from web.database import get_session, now
from web.htmx import is_htmx, render
from web.pages.common import int_arg
from web.pages.linkage.common import attempt, bp, form_round, status, whole_number
from web.pages.linkage.scope import (
    READERS,
    find_round,
    in_reach,
    office_only,
    round_choices,
    tops,
    unit_choices,
)
from workflow import linkage
from workflow.linkage.network.metrics import ENTERED


@bp.route("/network", methods=("GET", "POST"))
@role_required(*READERS)
def network() -> Response:
    """The network statistics per level and round, each with its definition; enter a figure."""
    db, error, ok, values = get_session(), None, None, request.form.to_dict()
    reach = tops()
    unit = linkage.unit_by_id(db, int_arg("unit") or reach[0].id) if reach else None
    if unit is None or not in_reach(unit, reach):
        abort(404)
    rnd = find_round(int_arg("round"))
    if int_arg("round") and rnd is None:
        abort(404)
    if request.method == "POST":
        office_only()
        with attempt() as a:
            linkage.enter_figure(db, form_round(values.get("round")), values.get("unit", "").strip(),
                                 values.get("metric", ""), whole_number(values.get("value")),
                                 values.get("source", ""), me(), now())  # fmt: skip
        error = a.error
        if error is None:
            if not is_htmx():
                return redirect(
                    url_for("linkage.network", unit=unit.id, round=int_arg("round")), 303
                )
            ok, values = _("Saved"), {}
    report = linkage.network_statistics(db, unit.id, [rnd.id] if rnd else None)
    offices = [m.unit for m in me().memberships if m.role == "office"]
    return render("linkage/network.html", "linkage/_network.html", status(error), report=report,
                  unit=unit, rnd=rnd, metrics=linkage.METRICS, entered=ENTERED, error=error, ok=ok,
                  values=values, offices=offices, choices=round_choices(),
                  levels=[lv for lv in ("province", "city", "county") if lv in report.levels],
                  units=unit_choices())  # fmt: skip
