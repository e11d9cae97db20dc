"""Administration for the inspection office: units, users and roles, rounds and teams,
workflow definitions (source, validation, diagram)."""

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
from sqlalchemy import func, select

from web.auth import me, role_required
from web.database import get_session, now
from web.htmx import render
from web.i18n import get_lang
from web.pages.common import page_arg
from workflow import queries
from workflow.definition import check_paths
from workflow.models import DefinitionVersion, Issue, Round, Team, TeamMember, TeamTarget
from workflow.registry import definition_of
from workflow.units import LEVELS, UnitError, add_unit, add_user

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _office_units() -> list[Any]:
    """The units whose subtrees the current office user manages."""
    return [m.unit for m in me().memberships if m.role == "office"]


@bp.get("/")
@role_required("office")
def index() -> Response:
    """Send the office to the units page."""
    return redirect(url_for("admin.units"))


@bp.route("/units", methods=("GET", "POST"))
@role_required("office")
def units() -> Any:
    """List units in tree order; add one below a parent."""
    db, error, values = get_session(), None, request.form.to_dict()
    if request.method == "POST":
        try:
            add_unit(db, values.get("code", "").strip(), values.get("name", ""), values.get("level", ""),
                     values.get("parent", "").strip() or None, within=_office_units())  # fmt: skip
            db.commit()
            return redirect(url_for("admin.units"), 303)
        except UnitError as exc:
            db.rollback()
            error = str(exc)
    q = request.args.get("q", "").strip()[:64] or None
    page = queries.units_page(db, page_arg(), q)
    status = 422 if error else 200
    return render("admin/units.html", "admin/_units.html", status, page=page, error=error,
                  values=values, levels=LEVELS, q=q)  # fmt: skip


@bp.route("/users", methods=("GET", "POST"))
@role_required("office")
def users() -> Any:
    """List users with their roles; add one with roles given as ROLE@UNITCODE."""
    db, error, values = get_session(), None, request.form.to_dict()
    if request.method == "POST":
        roles = [r for r in re.split(r"[\s,，]+", values.get("roles", "")) if r]
        try:
            add_user(db, values.get("username", "").strip(), values.get("display_name", ""),
                     values.get("password", ""), roles, now(), values.get("email") or None,
                     within=_office_units())  # fmt: skip
            db.commit()
            return redirect(url_for("admin.users"), 303)
        except UnitError as exc:
            db.rollback()
            error = str(exc)
    values.pop("password", None)
    q = request.args.get("q", "").strip()[:64] or None
    page = queries.users_page(db, page_arg(), q)
    return render("admin/users.html", "admin/_users.html", 422 if error else 200, page=page,
                  error=error, values=values, q=q)  # fmt: skip


@bp.get("/rounds")
@role_required("office")
def rounds() -> str:
    """Rounds with their teams, members and targets (counts)."""
    db = get_session()
    teams = db.execute(
        select(
            Team, func.count(func.distinct(TeamMember.id)), func.count(func.distinct(TeamTarget.id))
        )
        .outerjoin(TeamMember, TeamMember.team_id == Team.id)
        .outerjoin(TeamTarget, TeamTarget.team_id == Team.id)
        .group_by(Team.id)
        .order_by(Team.round_id, Team.id)
    ).all()
    issues = dict(db.execute(select(Issue.round_id, func.count()).group_by(Issue.round_id)).all())  # type: ignore[arg-type]
    return render_template("admin/rounds.html", rounds=db.scalars(select(Round).order_by(Round.id.desc())).all(),
                           teams=teams, issues=issues)  # fmt: skip


@bp.get("/definitions")
@role_required("office")
def definitions() -> str:
    """Every stored definition version."""
    rows = (
        get_session()
        .scalars(
            select(DefinitionVersion).order_by(DefinitionVersion.name, DefinitionVersion.id.desc())
        )
        .all()
    )
    return render_template("admin/definitions.html", rows=rows, problems=None)


@bp.post("/definitions/check")
@role_required("office")
def check() -> Response:
    """Validate the definition files on disk; list every problem with file:line."""
    problems = check_paths([Path(current_app.config["DEFINITIONS_DIR"])])
    get_session().rollback()
    return render("admin/definitions.html", "admin/_problems.html", problems=problems,
                  rows=get_session().scalars(select(DefinitionVersion)).all())  # fmt: skip


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
    from web.pages.issues import _svg_csp
    from workflow.diagram import to_svg

    dv = get_session().get(DefinitionVersion, dv_id) or abort(404)
    svg = to_svg(definition_of(dv), None, get_lang())
    response = make_response(svg)
    response.content_type = "image/svg+xml; charset=utf-8"
    response.headers["Content-Security-Policy"] = _svg_csp(svg)
    return response
