"""Evidence files (佐证材料): upload with content sniffing and a SHA-256, download as an
attachment.  Uploading is not a workflow action, but it is audited like one."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import unicodedata
import zipfile
from datetime import datetime
from typing import IO

from flask import Blueprint, Response, abort, current_app, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy.orm import Session

from web.auth import me
from web.database import get_session, now
from web.htmx import fragment, is_htmx, trigger
from web.pages.common import get_or_404
from workflow import audit, queries
from workflow.models import Evidence, Issue, User
from workflow.org.scope import acting_memberships

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


MAX_ZIP_TOTAL = 100 * 1024 * 1024  # a docx/xlsx may expand to at most this many bytes …
MAX_ZIP_RATIO = 100  # … and, past 10 MiB, to at most this many times its own size
MAX_ZIP_MEMBERS = 5000
EXTENSIONS = {"pdf": (".pdf",), "png": (".png",), "jpeg": (".jpg", ".jpeg"), "docx": (".docx",),
              "xlsx": (".xlsx",)}  # fmt: skip
# active content a browser, a PDF reader or a server might run: refused in any accepted type
# (an evidence file is a scan, a photo or an office document; none of them needs these)
ACTIVE = re.compile(
    rb"<script|<\?php|<iframe|<object|<embed|<html|<!doctype\s+html|javascript:|vbscript:",
    re.I,
)
# shorter markers looked for only where browsers sniff (the first and last KiB), so random
# bytes inside a large image cannot match them by chance
ACTIVE_EDGES = re.compile(rb"<svg|<body|<head|<meta|<img|<a\s|<div|<form|<base|#!/", re.I)
# PDF features that run code, launch programs or carry other files: refused (decision: a
# PDF with embedded JavaScript is not accepted as evidence).  Names inside compressed
# object streams are not inflated here; such a file is still only ever served as a
# sandboxed attachment.
PDF_ACTIVE = {b"JS", b"JavaScript", b"Launch", b"EmbeddedFile", b"EmbeddedFiles", b"RichMedia",
              b"XFA", b"SubmitForm", b"ImportData"}  # fmt: skip
PDF_STREAM = re.compile(rb"stream\r?\n.*?endstream", re.S)
PDF_NAME = re.compile(rb"/([^\s/<>\[\]()%{}]+)")
PNG_END = b"IEND\xaeB`\x82"
BAD_NAME_CHARS = re.compile(r'[\\/:*?"<>|]')


class BadFile(ValueError):
    """The upload is empty or not one of the accepted types."""


def sniff(path: str) -> str:
    """The accepted type of the file at ``path`` from its bytes (never from its name)."""
    with open(path, "rb") as fh:
        data = fh.read()
    if ACTIVE.search(data) or ACTIVE_EDGES.search(data[:1024]) or ACTIVE_EDGES.search(data[-1024:]):
        raise BadFile("active content")
    if re.match(rb"%PDF-[12]\.\d", data):
        if b"%%EOF" not in data[-1024:] or _pdf_names(data) & PDF_ACTIVE:
            raise BadFile("pdf with active content or truncated")
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        end = data.find(PNG_END)
        if end >= 0 and data[end + len(PNG_END) :]:
            raise BadFile("data after the end of the image")
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"PK\x03\x04"):
        return _office(path)
    raise BadFile("type not accepted")


def _pdf_names(data: bytes) -> set[bytes]:
    """The names used in a PDF's objects (streams left out, ``#xx`` escapes decoded)."""
    outside = PDF_STREAM.sub(b" ", data)
    names = set()
    for raw in PDF_NAME.findall(outside):
        names.add(re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m[1], 16)]), raw))
    return names


def _office(path: str) -> str:
    """docx or xlsx: an OOXML package of sane size with no macros and no odd member names."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            names = {i.filename for i in infos}
            total = sum(i.file_size for i in infos)
            if len(infos) > MAX_ZIP_MEMBERS or total > MAX_ZIP_TOTAL:
                raise BadFile("zip bomb")
            if total > 10 * 1024 * 1024 and total > MAX_ZIP_RATIO * os.path.getsize(path):
                raise BadFile("zip bomb")
            if any(_bad_member(n) for n in names) or "[Content_Types].xml" not in names:
                raise BadFile("not an office document")
            with z.open("[Content_Types].xml") as fh:
                types = fh.read(1024 * 1024)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError):
        raise BadFile("bad zip") from None
    if b"macroenabled" in types.lower() or any(n.lower().endswith("vbaproject.bin") for n in names):
        raise BadFile("macros")
    if any(n.startswith("word/") for n in names):
        return "docx"
    if any(n.startswith("xl/") for n in names):
        return "xlsx"
    raise BadFile("type not accepted")


def _bad_member(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return name.startswith("/") or ":" in name or "\0" in name or ".." in parts


def display_name(filename: str, kind: str) -> str:
    """The name shown and offered on download: the last path part, no control, bidi or
    path characters, at most 200 characters, ending in an extension of the sniffed type.
    It is never used as a path (the file is stored under a random name)."""
    name = unicodedata.normalize("NFC", filename or "").replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] not in "CZ" or ch == " ")
    name = BAD_NAME_CHARS.sub("_", name).strip(" .")
    suffix = next((e for e in EXTENSIONS[kind] if name.lower().endswith(e)), None)
    if suffix is None:  # "x.exe" holding a PDF is offered as "x.exe.pdf"
        suffix, name = EXTENSIONS[kind][0], f"{name or 'evidence'}{EXTENSIONS[kind][0]}"
    stem = name[: -len(suffix)][: 200 - len(suffix)].rstrip(" .") or "evidence"
    return stem + name[-len(suffix) :]


def save_evidence(
    session: Session, issue: Issue, user: User, filename: str, stream: IO[bytes], now: datetime
) -> Evidence:
    """Store an uploaded file under a random name, record it and audit the upload."""
    folder = current_app.config["UPLOAD_FOLDER"]
    stored = secrets.token_hex(20)
    path = os.path.join(folder, stored)
    digest, size = hashlib.sha256(), 0
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 20 * 1024 * 1024
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                if size > limit:  # a limit of our own, should the request's be lifted
                    abort(413)
                out.write(chunk)
        if size == 0:
            raise BadFile("empty")
        kind = sniff(path)
    except BaseException:
        os.unlink(path)
        raise
    member = acting_memberships(user, issue, UPLOAD_ROLES)[0]
    name = display_name(filename, kind)
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
    path = os.path.join(current_app.config["UPLOAD_FOLDER"], ev.stored_name)
    if ev.content_type not in TYPES.values() or not os.path.exists(path):
        abort(404)
    response = send_file(
        path, mimetype=ev.content_type, as_attachment=True, download_name=ev.filename
    )
    response.headers["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
