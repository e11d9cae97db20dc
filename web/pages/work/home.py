"""我的待办: everything waiting for the logged-in user, the landing page after login."""

from __future__ import annotations

from flask import Blueprint
from flask_login import login_required

from web.auth import me
from web.database import get_session
from web.htmx import render
from web.pages.common import page_arg
from workflow import queries

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    """List the issues on which the user has an action to take, earliest deadline first."""
    page = queries.my_work(get_session(), me(), page_arg())
    return render("home/index.html", "home/_work.html", page=page)
