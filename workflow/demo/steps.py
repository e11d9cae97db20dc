"""Steps both demo stories take the same way: the discipline commission handling a problem
lead, and a small evidence file so that close-out guards pass.  Demo data only; must not
import flask."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from workflow import audit
from workflow.models import Evidence, Issue, User

# (issue, action, user, at, **data) → whether the action was taken
Act = Callable[..., bool]


def settle_lead(
    act: Act,
    lead: Issue,
    disc: User,
    transferred: datetime,
    disposition: str,
    outcome: tuple[int, int, int] | None,
    feedback: str,
    days: tuple[int, int, int, int] = (3, 10, 50, 70),
) -> None:
    """Accept, dispose, record the outcome and feed back, as far as the lead's state goes.

    ``days`` after ``transferred``: when each of the four steps is taken.  ``outcome``
    (cases opened, sanctions, organisational measures) None stops after disposing.
    """
    accept, dispose, record, feed = (transferred + timedelta(days=d) for d in days)
    if not act(lead, "accept_lead", disc, accept):
        return
    if not act(lead, "dispose", disc, dispose, disposition=disposition) or outcome is None:
        return
    if lead.state == "disposed":  # 予以了结 records its outcome while disposing
        cases, sanctions, org = outcome
        act(lead, "record_outcome", disc, record, cases_opened=cases, sanctions=sanctions,
            org_measures=org, note="已按规定处置")  # fmt: skip
    if lead.state == "outcome_recorded":
        act(lead, "send_feedback", disc, feed, note=feedback)


def add_evidence(session: Session, issue: Issue, user: User, at: datetime, filename: str) -> None:
    """Record a tiny, real evidence file row uploaded by ``user``, with its audit event."""
    body = f"{issue.number} 整改佐证材料（示例）".encode()
    ev = Evidence(
        issue_id=issue.id,
        filename=filename,
        stored_name=secrets.token_hex(16),
        content_type="text/plain",
        size=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
        uploaded_by=user.id,
        uploaded_at=at,
    )
    session.add(ev)
    data: dict[str, Any] = {"filename": filename, "sha256": ev.sha256}
    audit.append(
        session,
        issue_id=issue.id,
        at=at,
        actor_id=user.id,
        actor_role="unit_user",
        actor_unit_id=issue.unit_id,
        action="upload_evidence",
        from_state=issue.state,
        to_state=issue.state,
        definition_version=issue.definition.version,
        data=data,
    )
