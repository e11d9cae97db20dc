"""整改台账: every issue in scope with filters, active search, sorting and pagination, and
bulk actions that preview what will happen before each item goes through the service."""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, request
from flask_login import login_required

from web.auth import me
from web.database import get_session, now
from web.htmx import fragment, is_htmx, render, trigger
from web.locale import say
from web.pages.common import filters_from_args, page_arg
from workflow import audit, outbox, queries, service
from workflow.models import Issue, User
from workflow.org.scope import acting_memberships

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

bp = Blueprint("ledger", __name__)

BULK = {"approve": "approve_plan", "assign_checker": "assign_checker", "remind": None}
REMIND_ROLES = ("office", "supervisor")
MAX_BULK = 100


@bp.get("/ledger")
@login_required
def index() -> Response:
    """The ledger page, or just its results for an htmx filter/search/page request."""
    db, user = get_session(), me()
    f = filters_from_args()
    sort = request.args.get("sort", "due")
    page = queries.ledger(db, user, f, now(), sort if sort in queries.SORTS else "due", page_arg())
    # an htmx filter/search/page request swaps the results only: no filter choices to read
    choices = {} if is_htmx() else _choices(db, user)
    return render("ledger/index.html", "ledger/_results.html", page=page, f=f, sort=sort,
                  **choices)  # fmt: skip


def _choices(db: Session, user: User) -> dict[str, Any]:
    """What the filter and bulk forms of the full page offer."""
    return {"sorts": list(queries.SORTS), "rounds": queries.rounds(db, user),
            "categories": _categories(db, user), "units": queries.unit_choices(db, user),
            "bulk": list(BULK)}  # fmt: skip


CATEGORIES_TTL = 60.0  # seconds a user's category choices are reused
_categories_seen: dict[tuple[str, int], tuple[float, list[str]]] = {}


def _categories(db: Session, user: User) -> list[str]:
    """The categories among the issues ``user`` sees, read at most once a minute per user.

    Finding them reads every issue in the user's scope (a city office: its whole subtree),
    the costliest part of the page at scale, for a drop-down whose entries change rarely;
    a category first used elsewhere shows up here within a minute.
    """
    key = (str(db.get_bind().url), user.id)
    at = time.monotonic()
    seen = _categories_seen.get(key)
    if seen is None or at - seen[0] > CATEGORIES_TTL:
        if len(_categories_seen) > 4096:
            _categories_seen.clear()
        seen = _categories_seen[key] = (at, queries.categories(db, user))
    return seen[1]


def _selected(db: Session, user: User) -> list[Issue]:
    """The issues ticked on the ledger that the user sees (at most ``MAX_BULK``)."""
    ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()][:MAX_BULK]
    return queries.visible_issues(db, user, ids)


def _plan(issue: Issue, user: User, kind: str) -> tuple[bool, str]:
    """Whether the bulk action applies to ``issue`` for ``user``, and what it will do."""
    name = BULK[kind]
    if name is None:
        ok = bool(acting_memberships(user, issue, REMIND_ROLES)) and issue.state_kind == "open"
        return ok, "remind"
    allowed = {a.name for a in service.allowed_actions(issue, user)}
    return name in allowed, name


@bp.post("/ledger/bulk/preview")
@login_required
def preview() -> Response:
    """Show what a bulk action would do to each selected issue; nothing is written."""
    db, user = get_session(), me()
    kind = request.form.get("bulk_action", "")
    issues = _selected(db, user) if kind in BULK else []
    rows = [(i, *_plan(i, user, kind)) for i in issues]
    db.rollback()
    return fragment("ledger/_bulk_preview.html", rows=rows, kind=kind,
                    checker=request.form.get("checker", "").strip())  # fmt: skip


@bp.post("/ledger/bulk")
@login_required
def apply() -> Response:
    """Apply a previewed bulk action: each issue through the service with its version."""
    db, user = get_session(), me()
    kind = request.form.get("bulk_action", "")
    results = []
    for issue in _selected(db, user) if kind in BULK else []:
        version = request.form.get(f"v{issue.id}", type=int)
        results.append((issue, *_apply_one(db, issue, user, kind, version)))
    return trigger(fragment("ledger/_bulk_result.html", results=results), "issueChanged")


def _apply_one(
    db: Session, issue: Issue, user: User, kind: str, version: int | None
) -> tuple[bool, str]:
    """One item of a bulk action in its own transaction: (done, message)."""
    ok, name = _plan(issue, user, kind)
    if not ok:
        return False, "skip"
    try:
        if name == "remind":
            _remind(db, issue, user, now())
        else:
            data: dict[str, Any] = (
                {"checker": request.form.get("checker", "").strip()}
                if name == "assign_checker"
                else {}
            )
            service.act(db, issue, name, user, data, version, now())
    except service.ValidationFailed as exc:
        db.rollback()
        return False, "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.errors.items())
    except service.Conflict:
        db.rollback()
        return False, "conflict"
    except service.Denied as exc:
        db.commit()
        return False, say(exc)
    db.commit()
    return True, name


def _remind(db: Session, issue: Issue, user: User, at: datetime) -> None:
    """Remind the lead unit (a notification and an audit event; no state change)."""
    member = acting_memberships(user, issue, REMIND_ROLES)[0]
    event = audit.append(
        db, issue_id=issue.id, at=at, actor_id=user.id, actor_role=member.role,
        actor_unit_id=member.unit_id, action="remind", from_state=issue.state,
        to_state=issue.state, definition_version=issue.definition.version, data={},
    )  # fmt: skip
    ids = outbox.resolve(db, issue, ["responsible_unit"], actor_id=user.id)
    outbox.enqueue(db, issue, ids, "remind", "督促提醒", at, event,
                   key=f"remind:{issue.id}:{at.date().isoformat()}:{user.id}")  # fmt: skip
