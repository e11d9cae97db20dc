"""Storing an uploaded evidence file through the web's own function, so both doors agree.

:func:`web.pages.evidence.save_evidence` owns the rules (``UPLOAD_FOLDER``, a random name,
the SHA-256, the type sniffed from the bytes, the audit event); the request's size limit
(``MAX_CONTENT_LENGTH``) answers 413 before any of it runs.  This module only maps its
outcomes onto the API's errors and attaches the optional measure.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from web.api.errors import ApiError
from web.pages.issues.evidence import UPLOAD_ROLES, BadFile, save_evidence
from workflow.models import Evidence, Issue, Measure, User
from workflow.org.scope import acting_memberships


def may_upload(user: User, issue: Issue) -> bool:
    """The lead unit's staff and the office may add evidence (as on the web)."""
    return bool(acting_memberships(user, issue, UPLOAD_ROLES))


def save(
    session: Any,
    issue: Issue,
    user: User,
    upload: FileStorage,
    measure_id: int | None,
    now: datetime,
) -> Evidence:
    """Store ``upload`` as evidence of ``issue`` (raises ApiError 403/415/422)."""
    if not may_upload(user, issue):
        raise ApiError(403, _l("only the lead unit or the office may add evidence to this issue"))
    if measure_id is not None and not session.scalar(
        select(Measure.id).where(Measure.id == measure_id, Measure.issue_id == issue.id)
    ):
        raise ApiError(
            422, _l("no such measure on this issue"), fields={"measure_id": [_l("no such measure")]}
        )
    try:
        evidence = save_evidence(session, issue, user, upload.filename or "", upload.stream, now)
    except BadFile as exc:
        session.rollback()
        if str(exc) == "empty":
            raise ApiError(
                422, _l("the file is empty"), fields={"file": [_l("the file is empty")]}
            ) from None
        raise ApiError(
            415, _l("file type not accepted: PDF, PNG, JPEG, DOCX or XLSX only")
        ) from None
    if measure_id is not None:
        evidence.measure_id = measure_id
        session.flush()
    return evidence
