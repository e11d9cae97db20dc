"""问题线索: the restricted problem leads, for the discipline commission and the office only
(everyone else gets 404: the page does not exist for them)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from web.auth import me, role_required
from web.database import get_session
from web.htmx import render
from web.pages.common import get_or_404, page_arg
from web.pages.issues.page import page_context
from workflow import queries

bp = Blueprint("leads", __name__)


@bp.get("/leads")
@role_required("discipline", "office")
def index() -> Response:
    """The leads in scope, newest first, with a search box."""
    q = (request.args.get("q") or "").strip()[:100] or None
    page = queries.leads(get_session(), me(), page_arg(), q)
    return render("leads/index.html", "leads/_list.html", page=page, q=q)


@bp.get("/leads/<int:issue_id>")
@role_required("discipline", "office")
def show(issue_id: int) -> Response:
    """One lead, on the issue page (404 unless it is a lead in scope)."""
    issue = get_or_404(queries.get_visible(get_session(), me(), issue_id))
    if issue.kind != "problem_lead":
        get_or_404(None)
    return render("issues/show.html", "issues/_issue.html", **page_context(issue))
