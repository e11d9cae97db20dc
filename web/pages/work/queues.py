"""Review queues: what waits for a supervisor's decision, and the spot-check team's
follow-ups plus a random sample of closed items for reverse checks (never their own unit)."""

from __future__ import annotations

from flask import Blueprint, Response

from web.auth import me, role_required
from web.database import get_session
from web.htmx import render
from web.pages.common import page_arg
from workflow import queries

bp = Blueprint("queues", __name__)


@bp.get("/queues/supervise")
@role_required("supervisor")
def supervise() -> Response:
    """Plans, extensions and close-outs waiting for the supervisor."""
    page = queries.supervisor_queue(get_session(), me(), page_arg())
    return render("queues/supervise.html", "queues/_list.html", page=page, target="supervise")


@bp.get("/queues/spotcheck")
@role_required("spot_check", "office")
def spotcheck() -> Response:
    """Follow-ups assigned to me, and a random sample of closed items to check again."""
    db, user = get_session(), me()
    page = queries.checker_queue(db, user, page_arg())
    sample = queries.reverse_check(db, user, 10)
    return render("queues/spotcheck.html", "queues/_list.html", page=page, sample=sample,
                  target="spotcheck")  # fmt: skip
