"""The issue page: its fields, measures, evidence, timeline, diagram and deadlines, and the
forms for exactly the actions the user may take now; opening new issues (移交)."""

from __future__ import annotations

import hashlib
import io
import re
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required

from web.auth import me, role_required
from web.database import get_session, now
from web.htmx import fragment, is_htmx, render, retarget, trigger
from web.locale import lang, say
from web.pages.common import get_or_404, working_days
from workflow import queries, service
from workflow.definition import Action
from workflow.models import Issue, Letter
from workflow.org.scope import acting_memberships

bp = Blueprint("issues", __name__)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


OPEN_TEXT = ("title", "description", "category", "unit", "inspected_unit", "supervising_leader",
             "person_in_charge", "source", "due_on", "deadline_type", "round", "cadre_level")  # fmt: skip
OPEN_KINDS = ("rectification", "common_problem", "problem_lead")


def form_data(action: Action, form: Any) -> dict[str, Any]:
    """The action's fields from a submitted form (checkboxes become booleans)."""
    data: dict[str, Any] = {}
    for name, spec in action.fields.items():
        data[name] = form.get(name) == "on" if spec.type == "bool" else form.get(name, "")
    return data


def page_context(issue: Issue, forms: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Everything the issue page shows."""
    db, user = get_session(), me()
    events = queries.timeline(db, issue.id)
    clocks = service.running_clocks(db, issue)
    return {
        "issue": issue,
        "definition": service.get_definition(issue),
        "actions": service.allowed_actions(issue, user),
        "forms": forms or {},
        "evidence": queries.evidence_of(db, issue.id),
        "events": events,
        "names": queries.user_names(db, [e.actor_id for e in events]),
        "clocks": [(c, working_days(c.due_at)) for c in clocks],
        "escalations": queries.escalations_of(db, issue.id),
        "letters": queries.letters_of(db, issue.id),
        "may_upload": bool(acting_memberships(user, issue, service.UPLOAD_ROLES)),
        "checkers": queries.checkers(db, issue) if issue.stage == "closed" else [],
    }


@bp.get("/issues/<int:issue_id>")
@login_required
def show(issue_id: int) -> Response:
    """Show one issue (404 outside the user's scope)."""
    issue = get_or_404(queries.get_visible(get_session(), me(), issue_id))
    return render("issues/show.html", "issues/_issue.html", **page_context(issue))


def _form_answer(issue: Issue, action: Action, status: int, **state: Any) -> Response:
    """The action's form again (422/409), or the whole page for a browser without htmx."""
    forms = {action.name: state}
    if is_htmx():
        return fragment("issues/_action.html", status, issue=issue, action=action, form=state,
                        checkers=page_context(issue)["checkers"])  # fmt: skip
    return make_response(render_template("issues/show.html", **page_context(issue, forms)), status)


@bp.post("/issues/<int:issue_id>/act/<action_name>")
@login_required
def act(issue_id: int, action_name: str) -> Response:
    """Take an action through the service; answer 422 / 409 / 403 / 404 as it says."""
    db, user = get_session(), me()
    issue = get_or_404(queries.get_visible(db, user, issue_id))
    action = service.get_definition(issue).actions.get(action_name) or abort(404)
    data = form_data(action, request.form)
    try:
        service.act(
            db, issue, action_name, user, data, request.form.get("version", type=int), now()
        )
    except service.ValidationFailed as exc:
        db.rollback()
        issue = get_or_404(queries.get_visible(db, user, issue_id))
        return _form_answer(issue, action, 422, values=data, errors=exc.errors)
    except service.Conflict as exc:
        db.rollback()
        issue = get_or_404(queries.get_visible(db, user, issue_id))
        return _form_answer(issue, action, 409, values=data, changes=exc.changes)
    except service.NotFound:
        db.commit()
        abort(404)
    except service.GuardFailed as exc:
        db.commit()
        return _form_answer(issue, action, 422, values=data, message=say(exc))
    except service.Denied:
        db.commit()
        abort(403)
    db.commit()
    return _done(issue)


def _done(issue: Issue) -> Response:
    """After a successful action: the refreshed issue (htmx) or a redirect to it."""
    if not is_htmx():
        return redirect(url_for("issues.show", issue_id=issue.id), 303)
    response = fragment("issues/_issue.html", **page_context(issue))
    return trigger(retarget(response, "#issue"), "issueChanged")


@bp.get("/issues/<int:issue_id>/diagram.svg")
@login_required
def diagram(issue_id: int) -> Response:
    """The issue's workflow as SVG, its current stage highlighted."""
    from workflow.definition.diagram import to_svg

    issue = get_or_404(queries.get_visible(get_session(), me(), issue_id))
    svg = to_svg(service.get_definition(issue), issue.state, lang())
    response = make_response(svg)
    response.content_type = "image/svg+xml; charset=utf-8"
    response.headers["Content-Security-Policy"] = _svg_csp(svg)
    return response


def _svg_csp(svg: str) -> str:
    """A CSP for a standalone SVG: no script; its own <style> blocks allowed by hash."""
    hashes = [
        "'sha256-" + _b64(hashlib.sha256(block.encode()).digest()) + "'"
        for block in re.findall(r"<style[^>]*>(.*?)</style>", svg, re.S)
    ]
    return f"default-src 'none'; style-src {' '.join(hashes) or chr(39) + 'none' + chr(39)}; frame-ancestors 'self'"


def _b64(raw: bytes) -> str:
    """``raw`` in base64."""
    import base64

    return base64.b64encode(raw).decode()


def _with_toolbar(row: Letter) -> str:
    """The archived letter with a bar to go back, download it as Word and print it (the bar
    is not printed; the archive itself stays as it was issued)."""
    from markupsafe import escape

    back = escape(url_for("issues.show", issue_id=row.issue_id))
    word = escape(url_for("issues.letter_docx", letter_id=row.id))
    # the texts outside the f-string: pybabel does not read inside f-strings
    back_text, word_text = escape(_("Back to the issue")), escape(_("Download as Word"))
    print_text = escape(_("Print: Ctrl+P (the bar is not printed)"))
    bar = (
        "<style>.letter-tools{font:14px sans-serif;border-bottom:1px solid #ccc;padding:.5em 0;"
        "margin-bottom:1em}.letter-tools a{margin-right:1.5em}"
        "@media print{.letter-tools{display:none}}</style>"
        f'<nav class="letter-tools"><a href="{back}">{back_text}</a>'
        f'<a href="{word}" download>{word_text}</a><span>{print_text}</span></nav>'
    )
    return row.html.replace("<body>", "<body>" + bar, 1)


@bp.get("/letters/<int:letter_id>")
@login_required
def letter(letter_id: int) -> Response:
    """A printable letter (督办通知书, 告诫书, …) of an issue the user may see."""
    db = get_session()
    row = db.get(Letter, letter_id) or abort(404)
    get_or_404(queries.get_visible(db, me(), row.issue_id))
    html = _with_toolbar(row)
    response = make_response(html)
    response.headers["Content-Security-Policy"] = "sandbox; " + _svg_csp(html).replace(
        "frame-ancestors 'self'", "frame-ancestors 'none'"
    )
    return response


@bp.get("/letters/<int:letter_id>.docx")
@login_required
def letter_docx(letter_id: int) -> Response:
    """The letter as Word (.docx), laid out by the office's template of its kind."""
    from workflow.clock.letters import to_docx
    from workflow.clock.letters.templates import template_for

    db = get_session()
    row = db.get(Letter, letter_id) or abort(404)
    issue = get_or_404(queries.get_visible(db, me(), row.issue_id))
    data = to_docx(row, template_for(current_app.config["LETTER_TEMPLATES_DIR"], row.kind),
                   issue.number)  # fmt: skip
    return send_file(io.BytesIO(data), as_attachment=True, download_name=f"{row.number}.docx",
                     mimetype=DOCX)  # fmt: skip


@bp.route("/issues/new", methods=("GET", "POST"))
@role_required("office")
def create() -> Any:
    """Transfer (移交) a new issue to a lead unit: the office's form."""
    db = get_session()
    values = {k: request.form.get(k, "").strip() for k in OPEN_TEXT}
    kind = request.form.get("kind", request.args.get("kind", "rectification"))
    kind = kind if kind in OPEN_KINDS else "rectification"
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        fields = {k: v for k, v in values.items() if v}
        if request.form.get("supporting_units", "").strip():
            fields["supporting_units"] = re.split(
                r"[,\s，、]+", request.form["supporting_units"].strip()
            )
        try:
            issue = service.open_issue(db, kind, fields, me(), now())
            db.commit()
            return redirect(url_for("issues.show", issue_id=issue.id), 303)
        except service.ValidationFailed as exc:
            db.rollback()
            errors = exc.errors
        except service.Denied as exc:
            db.rollback()
            errors = {"unit": [say(exc)]}
    rounds = queries.rounds(db, me())
    status = 422 if errors else 200
    return render_template("issues/new.html", values=values, errors=errors, kind=kind,
                           rounds=rounds, kinds=OPEN_KINDS,
                           supporting=request.form.get("supporting_units", "")), status  # fmt: skip
