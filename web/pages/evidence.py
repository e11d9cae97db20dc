"""Evidence files (佐证材料): upload with content sniffing and a SHA-256, download as an
attachment.  Uploading is not a workflow action, but it is audited like one."""

from __future__ import annotations

import hashlib
import os
import secrets
import zipfile
from datetime import datetime
from typing import IO

from flask import Blueprint, Response, abort, current_app, redirect, request, send_file, url_for
from flask_login import login_required
from sqlalchemy.orm import Session

from web.auth import me
from web.database import get_session, now
from web.htmx import fragment, is_htmx, trigger
from web.i18n import t
from web.pages.common import get_or_404
from workflow import audit, queries
from workflow.models import Evidence, Issue, User
from workflow.scope import acting_memberships

bp = Blueprint("evidence", __name__)

UPLOAD_ROLES = ("unit_user", "unit_head", "office")
TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CHUNK = 64 * 1024


class BadFile(ValueError):
    """The upload is empty or not one of the accepted types."""


def sniff(path: str) -> str:
    """The accepted type of the file at ``path`` from its bytes (never from its name)."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as z:
                names = set(z.namelist())
        except zipfile.BadZipFile:
            raise BadFile("bad zip") from None
        if "[Content_Types].xml" in names and any(n.startswith("word/") for n in names):
            return "docx"
        if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
            return "xlsx"
    raise BadFile("type not accepted")


def save_evidence(
    session: Session, issue: Issue, user: User, filename: str, stream: IO[bytes], now: datetime
) -> Evidence:
    """Store an uploaded file under a random name, record it and audit the upload."""
    folder = current_app.config["UPLOAD_FOLDER"]
    stored = secrets.token_hex(20)
    path = os.path.join(folder, stored)
    digest, size = hashlib.sha256(), 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    try:
        if size == 0:
            raise BadFile("empty")
        kind = sniff(path)
    except BadFile:
        os.unlink(path)
        raise
    member = acting_memberships(user, issue, UPLOAD_ROLES)[0]
    name = os.path.basename(filename.replace("\\", "/")).strip()[:200] or f"evidence.{kind}"
    ev = Evidence(issue_id=issue.id, filename=name, stored_name=stored, content_type=TYPES[kind],
                  size=size, sha256=digest.hexdigest(), uploaded_by=user.id, uploaded_at=now)  # fmt: skip
    session.add(ev)
    audit.append(
        session, issue_id=issue.id, at=now, actor_id=user.id, actor_role=member.role,
        actor_unit_id=member.unit_id, action="upload_evidence", from_state=issue.state,
        to_state=issue.state, definition_version=issue.definition.version,
        data={"filename": name, "sha256": ev.sha256},
    )  # fmt: skip
    session.flush()
    return ev


def _panel(issue: Issue, status: int = 200, error: str | None = None) -> Response:
    db = get_session()
    may = bool(acting_memberships(me(), issue, UPLOAD_ROLES))
    return fragment("issues/_evidence.html", status, issue=issue, may_upload=may, upload_error=error,
                    evidence=queries.evidence_of(db, issue.id))  # fmt: skip


@bp.post("/issues/<int:issue_id>/evidence")
@login_required
def upload(issue_id: int) -> Response:
    """Upload a file to an issue (only those who may act on it for the lead unit, or the office)."""
    db, user = get_session(), me()
    issue = get_or_404(queries.get_visible(db, user, issue_id))
    if not acting_memberships(user, issue, UPLOAD_ROLES):
        abort(403)
    file = request.files.get("file")
    if file is None or not file.filename:
        return _panel(issue, 422, t("empty_file"))
    try:
        save_evidence(db, issue, user, file.filename, file.stream, now())
    except BadFile:
        db.rollback()
        return _panel(issue, 422, t("bad_file"))
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
    path = os.path.join(current_app.config["UPLOAD_FOLDER"], ev.stored_name)
    if ev.content_type not in TYPES.values() or not os.path.exists(path):
        abort(404)
    response = send_file(
        path, mimetype=ev.content_type, as_attachment=True, download_name=ev.filename
    )
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
