"""Excel on the web: upload a 问题清单 with a per-row preview before anything is written,
download the 台账 and the statistics report; and the user's own API tokens (/account/tokens).

Register with :func:`register`.  The rules live in :mod:`workflow.imports.excel`,
:mod:`workflow.queries.export` and :mod:`workflow.org.tokens`; these views only move files.
"""

from __future__ import annotations

import io
import os
import re
import secrets

from flask import Blueprint, Flask, Response, abort, current_app, request, send_file
from flask_login import login_required

from web.auth import me
from web.database import get_session, now
from web.htmx import fragment, render
from web.locale import say
from web.pages.common import int_arg
from workflow import imports, queries
from workflow.org import tokens
from workflow.queries import export

bp = Blueprint("excel", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPLOAD_RE = re.compile(r"^[0-9a-f]{32}$")


def register(app: Flask) -> None:
    """Register the Excel and token pages on ``app``."""
    app.register_blueprint(bp)


def _staging(key: str) -> str:
    """Where an uploaded list waits between preview and import (per user, random name)."""
    if not UPLOAD_RE.match(key):
        abort(404)
    folder = os.path.join(current_app.instance_path, "imports")
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, f"{me().id}-{key}.xlsx")


def _unit_filter() -> queries.Filters:
    unit_id = int_arg("unit")  # bounded: an id past 2**31-1 is a 404, not a database error
    if unit_id and queries.unit_in_reach(get_session(), me(), unit_id) is None:
        abort(404)
    return queries.Filters(unit_id=unit_id or None)


@bp.get("/excel")
@login_required
def index() -> Response:
    """Upload form and download buttons."""
    return render("excel/index.html", "excel/_preview.html", report=None, key=None,
                  units=queries.unit_choices(get_session(), me()))  # fmt: skip


@bp.post("/excel/import")
@login_required
def preview() -> Response:
    """Check an uploaded 问题清单 and show every row's result; nothing is written yet."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return fragment(
            "excel/_preview.html", 422, report=None, key=None, error="请选择文件 / choose a file"
        )
    key = secrets.token_hex(16)
    path = _staging(key)
    upload.save(path)
    report = imports.check_file(get_session(), path, me(), now())
    get_session().rollback()
    return render("excel/index.html", "excel/_preview.html", 200 if report.ok else 422,
                  report=report, key=key, units=queries.unit_choices(get_session(), me()))  # fmt: skip


@bp.post("/excel/import/<key>")
@login_required
def confirm(key: str) -> Response:
    """Import the previewed file: all rows, or only the valid ones when asked."""
    path = _staging(key)
    if not os.path.exists(path):
        abort(404)
    db = get_session()
    valid_only = request.form.get("mode") == "valid_only"
    report = imports.import_issues(db, path, me(), now(), valid_only=valid_only)
    if report.written:
        db.commit()
        os.remove(path)
    else:
        db.rollback()
    return render("excel/index.html", "excel/_preview.html", 200 if report.written else 422,
                  report=report, key=None if report.written else key, done=report.written,
                  units=queries.unit_choices(db, me()))  # fmt: skip


def _xlsx(buf: io.BytesIO, name: str) -> Response:
    buf.seek(0)
    return send_file(buf, mimetype=XLSX, as_attachment=True, download_name=name)


@bp.get("/excel/ledger.xlsx")
@login_required
def ledger() -> Response:
    """Download the 整改台账 of a subtree you can see."""
    buf, at = io.BytesIO(), now()
    export.export_ledger(get_session(), me(), buf, at, _unit_filter())
    return _xlsx(buf, f"ledger-{at:%Y%m%d}.xlsx")


@bp.get("/excel/statistics.xlsx")
@login_required
def statistics() -> Response:
    """Download the statistics report of a subtree you can see."""
    buf, at = io.BytesIO(), now()
    export.export_statistics(get_session(), me(), buf, at, _unit_filter())
    return _xlsx(buf, f"statistics-{at:%Y%m%d}.xlsx")


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def account_tokens() -> Response:
    """Your API tokens; a new one is shown here once."""
    db, user, created, error = get_session(), me(), None, None
    if request.method == "POST":
        try:
            _, created = tokens.create_token(db, user, request.form.get("name", ""), now())
            db.commit()
        except tokens.TokenError as exc:
            db.rollback()
            error = say(exc)
    return render("excel/tokens.html", "excel/tokens.html", 422 if error else 200,
                  tokens=tokens.list_tokens(db, user), created=created, error=error)  # fmt: skip


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> Response:
    """Revoke one of your tokens."""
    db = get_session()
    try:
        tokens.revoke_token(db, token_id, now(), owner=me())
    except LookupError:
        abort(404)
    db.commit()
    return render("excel/tokens.html", "excel/tokens.html", tokens=tokens.list_tokens(db, me()),
                  created=None, error=None)  # fmt: skip
