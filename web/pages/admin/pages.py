"""Administration for the inspection office: units, users and roles, rounds and teams,
workflow definitions (source, validation, diagram).

Units, users and rounds are those of the office's own subtrees (``admin_scope``);
definitions are shared by the whole installation.
"""

from __future__ import annotations

import re
from pathlib import Path
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
    url_for,
)

from web.auth import role_required
from web.database import get_session, now
from web.htmx import render
from web.locale import lang, say
from web.pages.admin.scope import narrowed, office_reach, posts
from web.pages.common import page_arg
from web.pages.linkage.scope import unit_choices
from workflow import queries
from workflow.definition import check_paths
from workflow.definition.registry import definition_of
from workflow.models import DefinitionVersion
from workflow.org.units import LEVELS, UnitError, add_unit, add_user

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.add_app_template_global(definition_of, "definition_of")


@bp.get("/")
@role_required("office")
def index() -> Response:
    """Send the office to the units page."""
    return redirect(url_for("admin.units"))


def _search() -> str | None:
    """The ``?q=`` search text (at most 64 characters), or None."""
    return request.args.get("q", "").strip()[:64] or None


@bp.route("/units", methods=("GET", "POST"))
@role_required("office")
def units() -> Any:
    """The units the office manages, in tree order; add one below a parent among them."""
    db, error, values, reach = get_session(), None, request.form.to_dict(), office_reach()
    if request.method == "POST":
        try:
            add_unit(db, values.get("code", "").strip(), values.get("name", ""), values.get("level", ""),
                     values.get("parent", "").strip() or None, within=reach)  # fmt: skip
            db.commit()
            return redirect(url_for("admin.units"), 303)
        except UnitError as exc:
            db.rollback()
            error = say(exc)
    shown, unit = narrowed(reach)
    q = _search()
    page = queries.office_units(db, shown, page_arg(), q)
    return render("admin/units.html", "admin/_units.html", 422 if error else 200, page=page,
                  error=error, values=values, levels=LEVELS, q=q, unit=unit,
                  choices=unit_choices(reach))  # fmt: skip


@bp.route("/users", methods=("GET", "POST"))
@role_required("office")
def users() -> Any:
    """The users holding a post the office manages, with those posts; add one with roles
    given as ROLE@UNITCODE inside the office's units."""
    db, error, values, reach = get_session(), None, request.form.to_dict(), office_reach()
    if request.method == "POST":
        roles = [r for r in re.split(r"[\s,，]+", values.get("roles", "")) if r]
        try:
            add_user(db, values.get("username", "").strip(), values.get("display_name", ""),
                     values.get("password", ""), roles, now(), values.get("email") or None,
                     within=reach)  # fmt: skip
            db.commit()
            return redirect(url_for("admin.users"), 303)
        except UnitError as exc:
            db.rollback()
            error = say(exc)
    values.pop("password", None)
    shown, unit = narrowed(reach)
    q = _search()
    page = queries.office_users(db, shown, page_arg(), q)
    return render("admin/users.html", "admin/_users.html", 422 if error else 200, page=page,
                  posts=posts(page.items, reach), error=error, values=values, q=q, unit=unit,
                  choices=unit_choices(reach))  # fmt: skip


@bp.get("/rounds")
@role_required("office")
def rounds() -> str:
    """Rounds organised in or inspecting the office's units, their teams seen from there
    (members; targets and issues inside the office's units counted)."""
    db, reach = get_session(), office_reach()
    teams = queries.office_teams(db, reach)
    shown = queries.office_rounds(db, reach)
    issues = queries.round_issue_counts(db, shown, reach)
    return render_template("admin/rounds.html", rounds=shown, teams=teams, issues=issues)


@bp.get("/definitions")
@role_required("office")
def definitions() -> str:
    """Every stored definition version."""
    rows = queries.definition_versions(get_session())
    return render_template("admin/definitions.html", rows=rows, problems=None)


@bp.post("/definitions/check")
@role_required("office")
def check() -> Response:
    """Validate the definition files on disk; list every problem with file:line."""
    problems = check_paths([Path(current_app.config["DEFINITIONS_DIR"])])
    get_session().rollback()
    return render("admin/definitions.html", "admin/_problems.html", problems=problems,
                  rows=queries.definition_versions(get_session(), ordered=False))  # fmt: skip


@bp.get("/definitions/<int:dv_id>")
@role_required("office")
def definition(dv_id: int) -> str:
    """One definition version: states, actions and its source."""
    dv = get_session().get(DefinitionVersion, dv_id) or abort(404)
    return render_template("admin/definition.html", dv=dv, d=definition_of(dv))


@bp.get("/definitions/<int:dv_id>/diagram.svg")
@role_required("office")
def diagram(dv_id: int) -> Response:
    """The definition's diagram (no state highlighted)."""
    from web.pages.issues.page import _svg_csp
    from workflow.definition.diagram import to_svg

    dv = get_session().get(DefinitionVersion, dv_id) or abort(404)
    svg = to_svg(definition_of(dv), None, lang())
    response = make_response(svg)
    response.content_type = "image/svg+xml; charset=utf-8"
    response.headers["Content-Security-Policy"] = _svg_csp(svg)
    return response
