"""The office's group-chat robots (钉钉 / 企业微信 / 飞书): list, add, switch off and on.

A robot is configured on a unit in the office's reach; the outbox then posts that unit's
warnings (and, with 下级单位, those of every unit below it) into the group.  The webhook
address and secret are credentials: the list shows only the host.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from flask import Blueprint, Response, abort, redirect, request, url_for

from web.auth import me, role_required
from web.database import get_session, now
from web.htmx import render
from web.locale import say
from web.pages.admin.scope import office_reach
from web.pages.linkage.scope import unit_choices
from workflow import queries
from workflow.service.robots import (
    KINDS,
    ROBOT_NO_UNIT,
    RobotError,
    add_robot,
    robot_in_reach,
    set_active,
)

bp = Blueprint("admin_robots", __name__, url_prefix="/admin")


def host(url: str) -> str:
    """The host of a webhook address (the rest of it is a credential)."""
    return urllib.parse.urlsplit(url).netloc


@bp.route("/robots", methods=("GET", "POST"))
@role_required("office")
def robots() -> Any:
    """The robots of the office's units; add one (errors name the field)."""
    db, reach, values = get_session(), office_reach(), request.form.to_dict()
    error: tuple[str, str] | None = None
    if request.method == "POST":
        code = values.get("unit", "").strip()
        unit = queries.unit_by_code(db, code)
        try:
            if unit is None:
                raise RobotError("unit", ROBOT_NO_UNIT(code=code[:64] or "—"))
            add_robot(db, me(), reach, unit, kind=values.get("kind", ""),
                      name=values.get("name", ""), url=values.get("url", ""), now=now(),
                      secret=values.get("secret", "").strip() or None,
                      at=values.get("at", "").replace("，", ",").split(","),
                      subtree="subtree" in request.form,
                      escalations_only="all_steps" not in request.form)  # fmt: skip
            db.commit()
            return redirect(url_for("admin_robots.robots"), 303)
        except RobotError as exc:
            db.rollback()
            error = (exc.field, say(exc))
    listed = queries.office_robots(db, reach)
    return render("admin/robots.html", "admin/_robots.html", 422 if error else 200,
                  robots=listed, kinds=KINDS, error=error, values=values, host=host,
                  choices=unit_choices(reach))  # fmt: skip


@bp.post("/robots/<int:robot_id>/active")
@role_required("office")
def toggle(robot_id: int) -> Response:
    """Switch a robot off (nothing more is posted) or back on."""
    db = get_session()
    try:
        robot = robot_in_reach(db, robot_id, office_reach())
    except RobotError:
        abort(404)
    set_active(db, me(), robot, request.form.get("active") == "1", now())
    db.commit()
    return redirect(url_for("admin_robots.robots"), 303)
