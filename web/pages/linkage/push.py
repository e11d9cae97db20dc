"""Push-down and roll-up pages (三级联动): preview and push a finding down the unit tree,
then follow its common problem's roll-up."""

from __future__ import annotations

import re
from typing import Any

from flask import abort, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from web.auth import me, role_required
from web.database import get_session, now
from web.htmx import render
from web.locale import say
from web.pages.linkage.common import attempt, bp, done, status
from web.pages.linkage.scope import READERS, visible_ids
from workflow import linkage
from workflow.models import Issue, Unit
from workflow.queries import get_visible

PUSH_LEVELS = ("city", "county")


def _push_source(args: Any) -> tuple[Issue, linkage.PushRule]:
    """The finding to push (by number, in scope) and the rule, from form or query arguments."""
    number = (args.get("number") or "").strip()
    issue = linkage.pushable_finding(get_session(), me(), number)
    if issue is None:
        raise LookupError(_("No common problem or finding %(number)s in your scope", number=number))
    if issue.kind != "common_problem":
        # pushed down before: push into the same tree (the engine adds only what is missing)
        # rather than open a second root for the same finding
        earlier = linkage.pushed_root(get_session(), issue.id)
        issue = earlier or issue
    rule = linkage.PushRule(
        codes=tuple(c for c in re.split(r"[\s,，]+", args.get("codes") or "") if c),
        levels=tuple(lv for lv in args.getlist("levels") if lv in PUSH_LEVELS),
        name_contains=(args.get("name_contains") or "").strip() or None,
        code_suffix=(args.get("code_suffix") or "").strip() or None,
        under=(args.get("under") or "").strip() or None,
    )
    return issue, rule


def _push_root_unit(issue: Issue) -> Unit:
    """Where the root common problem sits (the engine's choice, see ``push_down``)."""
    if issue.kind == "common_problem":
        return issue.unit
    if issue.round is not None:
        return issue.round.organiser
    return linkage.resolve_unit(get_session(), int(issue.unit_path.strip("/").split("/")[0]))


def _push_ctx(**extra: Any) -> dict[str, Any]:
    """What the push-down page shows: the latest pushed-down problems and the form."""
    recent = linkage.recent_pushed_problems(get_session(), me(), 20)
    ctx: dict[str, Any] = dict(recent=recent, args=request.values, preview=None, error=None,
                               units=[], notes=[], issue=None, levels=PUSH_LEVELS)  # fmt: skip
    ctx.update(extra)
    return ctx


@bp.get("/push")
@role_required(*READERS)
def push() -> Response:
    """Push a finding down (三级联动): the form, and the findings pushed down so far."""
    return render("linkage/push.html", "linkage/_push_recent.html", **_push_ctx())


@bp.get("/push/preview")
@role_required("office")
def push_preview() -> Response:
    """The units a push-down rule matches, before anything is opened."""
    try:
        issue, rule = _push_source(request.args)
        units, notes = linkage.matching_units(get_session(), rule, _push_root_unit(issue))
        ctx = _push_ctx(preview=True, issue=issue, units=units, notes=[say(n) for n in notes])
    except (LookupError, ValueError) as exc:
        ctx = _push_ctx(preview=True, error=say(exc))
    return render("linkage/push.html", "linkage/_push_preview.html", status(ctx["error"]), **ctx)


@bp.post("/push")
@role_required("office")
def push_confirm() -> Response:
    """Push the finding down; then show its roll-up."""
    with attempt() as a:
        issue, rule = _push_source(request.form)
        result = linkage.push_down(get_session(), issue, rule, me(), now())
    if a.error is None:
        return done(url_for("linkage.rollup_page", issue_id=result.root.id))
    ctx = _push_ctx(preview=True, error=a.error)
    return render("linkage/push.html", "linkage/_push_preview.html", 422, **ctx)


@bp.get("/rollup/<int:issue_id>")
@role_required(*READERS)
def rollup_page(issue_id: int) -> Response:
    """A common problem's roll-up: the chain above, counts per level below, its children."""
    db = get_session()
    issue = get_visible(db, me(), issue_id)
    if issue is None or issue.kind != "common_problem":
        abort(404)
    summary = linkage.rollup(db, issue.id)
    children = linkage.visible_children(db, me(), issue.id)
    below = {c.id: linkage.rollup(db, c.id) for c in children if c.kind == "common_problem"}
    origin_id = (issue.data or {}).get("pushed_down_from")
    origin = get_visible(db, me(), origin_id) if isinstance(origin_id, int) else None
    seen = visible_ids({a["id"] for a in summary.ancestors})
    return render("linkage/rollup.html", "linkage/_rollup.html", issue=issue, r=summary,
                  children=children, below=below, origin=origin, seen=seen)  # fmt: skip
