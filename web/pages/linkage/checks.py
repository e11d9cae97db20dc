"""Special checks of lower levels' inspection work (专项检查): run one; past checks and the
issues their failed items opened."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from web.auth import me, role_required
from web.database import get_session, now
from web.htmx import is_htmx, render
from web.pages.common import page_arg
from web.pages.linkage.common import attempt, bp, form_round, status
from web.pages.linkage.scope import READERS, office_only, round_choices, tops
from workflow import linkage


@bp.route("/checks", methods=("GET", "POST"))
@role_required(*READERS)
def checks() -> Response:
    """Special checks of lower levels' inspection work: run one; past checks and their items."""
    db, error, ok, values = get_session(), None, None, request.form.to_dict()
    offices = [m.unit for m in me().memberships if m.role == "office"]
    if request.method == "POST":
        office_only()
        with attempt() as a:
            checker = next((u for u in offices if u.code == values.get("checker")), None)
            if checker is None:
                raise LookupError(_("Choose the checking unit"))
            result = linkage.run_special_check(db, values.get("target", "").strip(), checker,
                                               form_round(values.get("round")), me(), now())  # fmt: skip
        error = a.error
        if error is None:
            if not is_htmx():
                return redirect(url_for("linkage.checks"), 303)
            ok, values = _("Check done; %(n)s issues opened", n=len(result.issues)), {}
    page = linkage.special_checks_page(db, tops(), page_arg(), 10)
    unit_ids = {c.target_unit_id for c in page.items} | {c.checker_unit_id for c in page.items}
    issue_ids = {i.get("issue_id") for c in page.items for i in (c.results or {}).get("items", [])}
    units = linkage.units_by_id(db, unit_ids)
    numbers = linkage.issue_numbers(db, issue_ids)
    return render("linkage/checks.html", "linkage/_checks.html", status(error), page=page,
                  units=units, numbers=numbers, offices=offices, choices=round_choices(),
                  error=error, ok=ok, values=values)  # fmt: skip
