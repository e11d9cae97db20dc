"""The notification bell: unread count, the latest messages, marking them read."""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, url_for
from flask_login import login_required

from web.auth import me
from web.database import get_session, now
from web.htmx import fragment, is_htmx, render
from web.pages.common import page_arg
from workflow import queries

bp = Blueprint("inbox", __name__)


@bp.get("/inbox/bell")
@login_required
def bell() -> Response:
    """The bell with its unread count and the latest messages (refreshed by htmx)."""
    return fragment("inbox/_bell.html")


@bp.get("/inbox")
@login_required
def index() -> Response:
    """Every message, unread first."""
    page = queries.inbox(get_session(), me(), page_arg(), 25)
    return render("inbox/index.html", "inbox/_list.html", page=page)


@bp.post("/inbox/<int:message_id>/read")
@login_required
def read(message_id: int) -> Response:
    """Mark one of my messages read."""
    db, user = get_session(), me()
    if not queries.mark_read(db, user, message_id, now()):
        abort(404)
    db.commit()
    return _answer()


@bp.post("/inbox/read-all")
@login_required
def read_all() -> Response:
    """Mark all my messages read."""
    db, user = get_session(), me()
    queries.mark_all_read(db, user, now())
    db.commit()
    return _answer()


def _answer() -> Response:
    """The refreshed bell (htmx) or a redirect to the inbox."""
    if is_htmx():
        return fragment("inbox/_bell.html")
    return redirect(url_for("inbox.index"), 303)
