"""The office's letter templates: each kind's .docx, downloaded, replaced, previewed, reset.

A replacement is checked before it is kept (a Word file, only known placeholders, a preview
that renders: :func:`workflow.clock.letters.templates.check_template`); the next letter of
that kind uses it.  Templates are installation-wide, so only an office at a root unit (the
province or a city standing alone) may change them; every change is audited.
"""

from __future__ import annotations

import io
import os
from typing import Any

from flask import Blueprint, Response, abort, current_app, redirect, request, send_file, url_for

from web.auth import me, role_required
from web.database import get_session, now
from web.htmx import render
from web.locale import say
from web.pages.admin.scope import office_reach
from workflow import audit
from workflow.clock.letters import KINDS
from workflow.clock.letters.templates import (
    SAMPLE,
    UNKNOWN_KIND,
    check_template,
    template_for,
    template_path,
)
from workflow.clock.letters.templates import (
    render as render_docx,
)

bp = Blueprint("admin_letters", __name__, url_prefix="/admin")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _folder() -> str:
    return str(current_app.config["LETTER_TEMPLATES_DIR"])


def _root_office() -> Any:
    """The user's office post at a root unit (templates are the installation's), or 403."""
    post = next((m for m in me().memberships if m.role == "office" and m.unit.parent_id is None),
                None)  # fmt: skip
    if post is None:
        abort(403)
    return post


def _kind(kind: str) -> str:
    if kind not in KINDS:
        abort(404)
    return kind


@bp.route("/letters", methods=("GET", "POST"))
@role_required("office")
def letters() -> Any:
    """Every kind with its template (the office's own or the shipped one); replace one."""
    office_reach()
    errors: dict[str, str] = {}
    if request.method == "POST":
        post = _root_office()
        kind = request.form.get("kind", "")
        upload = request.files.get("file")
        data = upload.read() if upload else b""
        problem = UNKNOWN_KIND(kind=kind) if kind not in KINDS else check_template(data)
        if problem is None:
            _keep(kind, data)
            _audit(post, "letter_template_set", kind)
            return redirect(url_for("admin_letters.letters"), 303)
        errors[kind if kind in KINDS else "_"] = say(problem)
    kinds = [(k, KINDS[k], os.path.exists(template_path(_folder(), k))) for k in KINDS]
    return render("admin/letters.html", "admin/letters.html", 422 if errors else 200,
                  kinds=kinds, errors=errors)  # fmt: skip


@bp.get("/letters/<kind>.docx")
@role_required("office")
def download(kind: str) -> Response:
    """The template of ``kind`` now in use, to edit in WPS or Word."""
    data = template_for(_folder(), _kind(kind))
    return send_file(io.BytesIO(data), as_attachment=True, download_name=f"{kind}.docx",
                     mimetype=DOCX)  # fmt: skip


@bp.get("/letters/<kind>/preview.docx")
@role_required("office")
def preview(kind: str) -> Response:
    """A sample letter laid out by the template of ``kind``."""
    data = render_docx(template_for(_folder(), _kind(kind)), {**SAMPLE, "kind": kind,
                       "title": KINDS[kind].title})  # fmt: skip
    return send_file(io.BytesIO(data), as_attachment=True, download_name=f"{kind}-preview.docx",
                     mimetype=DOCX)  # fmt: skip


@bp.post("/letters/<kind>/reset")
@role_required("office")
def reset(kind: str) -> Response:
    """Go back to the shipped template of ``kind``."""
    post = _root_office()
    path = template_path(_folder(), _kind(kind))
    if path.exists():
        path.unlink()
        _audit(post, "letter_template_reset", kind)
    return redirect(url_for("admin_letters.letters"), 303)


def _keep(kind: str, data: bytes) -> None:
    """Write the template atomically (a crash leaves the old one or the new one)."""
    path = template_path(_folder(), kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _audit(post: Any, action: str, kind: str) -> None:
    db = get_session()
    audit.append(db, at=now(), actor_id=me().id, actor_role="office", actor_unit_id=post.unit_id,
                 action=action, data={"kind": kind})  # fmt: skip
    db.commit()
