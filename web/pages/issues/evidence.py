"""Evidence files (佐证材料) on the web: the upload form's answer and the download.

The engine (:mod:`workflow.service.evidence`) checks and stores the file; this page hands
it the upload folder and size limit from the app's configuration, answers 413 past the
limit and 422 for a refused file, and serves a download as a sandboxed attachment.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import IO, TYPE_CHECKING

from flask import Blueprint, Response, abort, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required

from web.auth import me
from web.database import get_session, now
from web.evidence_files import storage, stored_bytes
from web.htmx import fragment, is_htmx, trigger
from web.pages.common import get_or_404
from workflow import queries, service
from workflow.models import Evidence, Issue, User
from workflow.service import UPLOAD_ROLES, BadFile, FileTooLarge

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

bp = Blueprint("evidence", __name__)

__all__ = ["UPLOAD_ROLES", "BadFile", "bp", "download", "save_evidence", "upload"]


def save_evidence(
    session: Session, issue: Issue, user: User, filename: str, stream: IO[bytes], now: datetime
) -> Evidence:
    """Store an uploaded file as evidence with the app's folder and limit (413 past it)."""
    try:
        return service.save_evidence(
            session,
            issue,
            user,
            filename,
            stream,
            now,
            **storage(),
        )
    except FileTooLarge:
        abort(413)


def _panel(issue: Issue, status: int = 200, error: str | None = None) -> Response:
    """The evidence panel of an issue (with the upload form when the user may upload)."""
    db = get_session()
    may = service.may_upload(me(), issue)
    return fragment("issues/_evidence.html", status, issue=issue, may_upload=may, upload_error=error,
                    evidence=queries.evidence_of(db, issue.id))  # fmt: skip


@bp.post("/issues/<int:issue_id>/evidence")
@login_required
def upload(issue_id: int) -> Response:
    """Upload a file to an issue (only those who may act on it for the lead unit, or the office)."""
    db, user = get_session(), me()
    issue = get_or_404(queries.get_visible(db, user, issue_id))
    if not service.may_upload(user, issue):
        abort(403)
    file = request.files.get("file")
    if file is None or not file.filename:
        return _panel(issue, 422, _("Choose a file"))
    try:
        save_evidence(db, issue, user, file.filename, file.stream, now())
    except BadFile:
        db.rollback()
        return _panel(issue, 422, _("This file type is not accepted"))
    db.commit()
    if not is_htmx():
        return redirect(url_for("issues.show", issue_id=issue.id), 303)
    return trigger(_panel(issue), "issueChanged")


@bp.get("/evidence/<int:evidence_id>")
@login_required
def download(evidence_id: int) -> Response:
    """Download an evidence file as an attachment (404 unless its issue is visible)."""
    db = get_session()
    ev = db.get(Evidence, evidence_id) or abort(404)
    get_or_404(queries.get_visible(db, me(), ev.issue_id))
    data = stored_bytes(ev)
    if data is None:
        abort(404)
    response = send_file(
        io.BytesIO(data), mimetype=ev.content_type, as_attachment=True, download_name=ev.filename
    )
    response.headers["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
