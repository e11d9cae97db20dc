"""``/api/v1/issues``: the ledger, opening issues, reading them, acting, history, evidence.

Views are thin: scope comes from :func:`workflow.org.scope.visible_clause` (an issue outside the
caller's scope is 404, never 403), state changes go through :func:`workflow.service.act`.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from flask import request, send_file
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from web.api.auth import current_api_user, prepare
from web.api.errors import ApiError
from web.api.schemas import (
    ActArgsSchema,
    ActResultSchema,
    EventSchema,
    EvidenceSchema,
    EvidenceUploadSchema,
    IssueCreateSchema,
    IssueListArgsSchema,
    IssuePageSchema,
    IssueSchema,
)
from web.database import get_session, now
from web.evidence_files import stored_bytes
from workflow import queries, service
from workflow.models import Evidence, Issue, Unit, User
from workflow.service.fields import ValidationFailed

blp = Blueprint(
    "api_issues", __name__, url_prefix="/api/v1/issues", description="Issues (问题) and the ledger"
)
prepare(blp)


# ------------------------------------------------------------------------------ helpers


def _label(label: Any, lang: str) -> str:
    """A definition label in ``lang`` ("" when there is none)."""
    return str(getattr(label, lang, "") or "") if label is not None else ""


def unit_ref(unit: Unit | None) -> dict[str, Any] | None:
    """A unit as referenced from an issue."""
    return {"id": unit.id, "code": unit.code, "name": unit.name} if unit else None


def summary(issue: Issue, at: datetime, round_codes: dict[int, str]) -> dict[str, Any]:
    """One ledger row."""
    d = service.get_definition(issue)
    st = d.states.get(issue.state)
    return {
        "id": issue.id,
        "number": issue.number,
        "kind": issue.kind,
        "title": issue.title,
        "category": issue.category,
        "state": issue.state,
        "state_label": _label(st.label, "zh") if st else issue.state,
        "stage": issue.stage,
        "state_kind": issue.state_kind,
        "unit": unit_ref(issue.unit),
        "round": round_codes.get(issue.round_id) if issue.round_id else None,
        "deadline_type": issue.deadline_type,
        "due_on": issue.due_on,
        "due_at": issue.due_at,
        "overdue": bool(issue.state_kind == "open" and issue.due_at and issue.due_at < at),
        "warning_level": issue.warning_level,
        "progress": issue.progress,
        "completion": issue.completion,
        "version": issue.version,
        "updated_at": issue.updated_at,
    }


def _field(spec: Any) -> dict[str, Any]:
    """An action field's spec for the API."""
    return {
        "name": spec.name,
        "type": spec.type,
        "required": bool(spec.required),
        "label": _label(spec.label, "zh"),
        "label_en": _label(spec.label, "en"),
        "choices": list(spec.choices or ()),
        "max_length": spec.max_length,
        "min": spec.min,
        "max": spec.max,
    }


def detail(session: Any, issue: Issue, user: User) -> dict[str, Any]:
    """The issue in full, with the actions ``user`` may take now and their fields."""
    at = now()
    out = summary(issue, at, queries.round_codes(session, {issue.round_id}))
    out.update(
        description=issue.description,
        source=issue.source,
        inspected_unit=unit_ref(issue.inspected_unit),
        supporting_units=[unit_ref(s.unit) for s in issue.supporting],
        supervising_leader=issue.supervising_leader,
        person_in_charge=issue.person_in_charge,
        grade=issue.grade,
        rules_written=issue.rules_written,
        money_recovered=str(issue.money_recovered),
        people_handled=issue.people_handled,
        opened_at=issue.opened_at,
        closed_at=issue.closed_at,
        measures=[
            {"seq": m.seq, "text": m.text, "due_on": m.due_on, "done": m.done}
            for m in issue.measures
        ],
        deadlines=[
            {
                "clock": c.clock,
                "due_at": c.due_at,
                "original_due_at": c.original_due_at,
                "status": c.status,
                "provisional": c.provisional,
            }
            for c in service.running_clocks(session, issue)
        ],
        evidence_count=queries.evidence_count(session, issue.id),
        actions=[
            {
                "name": a.name,
                "label": _label(a.label, "zh"),
                "label_en": _label(a.label, "en"),
                "action_fields": [_field(spec) for spec in a.fields.values()],
            }
            for a in service.allowed_actions(issue, user)
        ],
    )
    return out


def visible_issue(session: Any, user: User, issue_id: int) -> Issue:
    """The issue if the caller may see it; 404 otherwise (same answer as "no such issue")."""
    issue = queries.get_visible(session, user, issue_id)
    if issue is None:
        raise ApiError(404, _l("no issue %(id)s", id=issue_id))
    return issue


def _code_id(session: Any, code: str | None, what: str) -> int | None:
    """The id of the round or unit (``what``) with ``code``; 422 when there is none."""
    if not code:
        return None
    if what == "round":
        found = queries.round_id_by_code(session, code)
    else:
        unit = queries.unit_by_code(session, code)
        found = unit.id if unit else None
    if found is None:
        raise ApiError(
            422,
            _l("no %(what)s with code %(code)s", what=what, code=repr(code)),
            fields={what: [_l("no such code")]},
        )
    return found


# ------------------------------------------------------------------------------ views


@blp.get("/", strict_slashes=False)  # /api/v1/issues and /api/v1/issues/ alike
@blp.arguments(IssueListArgsSchema, location="query")
@blp.response(200, IssuePageSchema)
def list_issues(args: dict[str, Any]) -> dict[str, Any]:
    """The ledger: issues in your scope matching the filters, earliest deadline first."""
    session, user, at = get_session(), current_api_user(), now()
    f = queries.Filters(
        round_id=_code_id(session, args.get("round"), "round"),
        unit_id=_code_id(session, args.get("unit"), "unit"),
        category=args.get("category"),
        stage=args.get("stage"),
        deadline_type=args.get("deadline_type"),
        warning=args.get("warning_level"),
        overdue=bool(args.get("overdue")),
    )
    page = queries.issue_list(
        session, user, f, at, state=args.get("state"), q=args.get("q"),
        not_overdue=args.get("overdue") is False, page=args["page"], size=args["page_size"],
    )  # fmt: skip
    codes = queries.round_codes(session, {i.round_id for i in page.items})
    return {
        "items": [summary(i, at, codes) for i in page.items],
        "total": page.total,
        "page": page.page,
        "page_size": page.size,
    }


@blp.post("/", strict_slashes=False)
@blp.arguments(IssueCreateSchema)
@blp.response(201, IssueSchema)
def create_issue(args: dict[str, Any]) -> dict[str, Any]:
    """Register a new issue (移交); only the inspection office of a unit above may."""
    session, user = get_session(), current_api_user()
    definition = args.pop("definition")
    try:
        issue = service.open_issue(session, definition, args, user, now())
    except service.Denied as exc:
        session.rollback()
        raise ApiError(403, exc) from None
    except ValidationFailed as exc:
        session.rollback()
        raise ApiError(422, _l("the issue did not validate"), fields=exc.errors) from None
    except LookupError as exc:
        session.rollback()
        raise ApiError(422, exc, fields={"definition": [exc]}) from None
    session.commit()
    return detail(session, issue, user)


@blp.get("/<int(max=2147483647):issue_id>")
@blp.response(200, IssueSchema)
def get_issue(issue_id: int) -> dict[str, Any]:
    """One issue: state, version, deadlines, warning level and the actions you may take now."""
    session, user = get_session(), current_api_user()
    return detail(session, visible_issue(session, user, issue_id), user)


@blp.post("/<int(max=2147483647):issue_id>/actions/<string:action>")
@blp.arguments(ActArgsSchema)
@blp.response(200, ActResultSchema)
def act_on_issue(args: dict[str, Any], issue_id: int, action: str) -> dict[str, Any]:
    """Take an action; 409 with the changes when ``expected_version`` is stale."""
    session, user = get_session(), current_api_user()
    issue = visible_issue(session, user, issue_id)
    try:
        result = service.act(
            session, issue, action, user, args["data"], args["expected_version"], now()
        )
    except service.NotFound as exc:
        session.commit()  # keep the denied attempt in the audit trail
        raise ApiError(404, exc) from None
    except service.GuardFailed as exc:
        session.commit()
        raise ApiError(422, exc, code="guard_failed") from None
    except service.Denied as exc:
        session.commit()
        raise ApiError(403, exc) from None
    except service.Conflict as exc:
        session.rollback()
        raise ApiError(
            409,
            exc,
            changes=exc.changes,
            fields={"expected_version": [str(exc.current_version)]},
        ) from None
    except ValidationFailed as exc:
        session.rollback()
        raise ApiError(422, _l("the action's data did not validate"), fields=exc.errors) from None
    session.commit()
    return {
        "from_state": result.from_state,
        "to_state": result.to_state,
        "version": result.issue.version,
        "notified": result.notified,
        "issue": detail(session, result.issue, user),
    }


@blp.get("/<int(max=2147483647):issue_id>/events")
@blp.response(200, EventSchema(many=True))
def list_events(issue_id: int) -> list[dict[str, Any]]:
    """The issue's history, oldest first (denied attempts included)."""
    session, user = get_session(), current_api_user()
    issue = visible_issue(session, user, issue_id)
    events = queries.events_of(session, issue.id)
    names = queries.user_names(session, [e.actor_id for e in events])
    return [
        {
            "id": e.id,
            "at": e.at,
            "action": e.action,
            "outcome": e.outcome,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "actor": names.get(e.actor_id) if e.actor_id else "system",
            "actor_role": e.actor_role,
            "changes": (e.data or {}).get("changes") or {},
            "input": (e.data or {}).get("input") or {},
        }
        for e in events
    ]


def evidence_row(e: Evidence, names: dict[int, str]) -> dict[str, Any]:
    """An evidence record for the API."""
    return {
        "id": e.id,
        "issue_id": e.issue_id,
        "measure_id": e.measure_id,
        "filename": e.filename,
        "content_type": e.content_type,
        "size": e.size,
        "sha256": e.sha256,
        "uploaded_by": names.get(e.uploaded_by),
        "uploaded_at": e.uploaded_at,
    }


@blp.get("/<int(max=2147483647):issue_id>/evidence")
@blp.response(200, EvidenceSchema(many=True))
def list_evidence(issue_id: int) -> list[dict[str, Any]]:
    """The issue's evidence files (佐证材料)."""
    session, user = get_session(), current_api_user()
    issue = visible_issue(session, user, issue_id)
    rows = queries.evidence_of(session, issue.id)
    names = queries.user_names(session, [e.uploaded_by for e in rows])
    return [evidence_row(e, names) for e in rows]


@blp.post("/<int(max=2147483647):issue_id>/evidence")
@blp.arguments(EvidenceUploadSchema, location="form")
@blp.response(201, EvidenceSchema)
@blp.alt_response(413, description="the file is larger than the limit")
@blp.alt_response(415, description="not multipart/form-data, or a file type not accepted")
def upload_evidence(args: dict[str, Any], issue_id: int) -> dict[str, Any]:
    """Upload one evidence file (multipart ``file``), stored like the web stores it."""
    from web.api import evidence_store

    session, user = get_session(), current_api_user()
    issue = visible_issue(session, user, issue_id)
    if not (request.mimetype or "").startswith("multipart/form-data"):
        raise ApiError(415, _l("send the file as multipart/form-data with a part named 'file'"))
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ApiError(422, _l("no file was sent"), fields={"file": [_l("required")]})
    evidence = evidence_store.save(session, issue, user, upload, args.get("measure_id"), now())
    session.commit()
    return evidence_row(evidence, {user.id: user.display_name})


@blp.get("/<int(max=2147483647):issue_id>/evidence/<int(max=2147483647):evidence_id>")
@blp.response(200, description="the file", content_type="application/octet-stream")
def download_evidence(issue_id: int, evidence_id: int) -> Any:
    """Download one evidence file."""
    session, user = get_session(), current_api_user()
    issue = visible_issue(session, user, issue_id)
    e = queries.evidence_on(session, issue.id, evidence_id)
    if e is None:
        raise ApiError(
            404,
            _l("no evidence %(evidence)s on issue %(issue)s", evidence=evidence_id, issue=issue_id),
        )
    data = stored_bytes(e)
    if data is None:
        raise ApiError(404, _l("the file is missing from storage"))
    response = send_file(
        io.BytesIO(data), mimetype=e.content_type, as_attachment=True, download_name=e.filename
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
