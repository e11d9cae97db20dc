"""Storing an uploaded evidence file through the engine's own function, so all doors agree.

:func:`workflow.service.save_evidence` owns the rules (a random name in ``UPLOAD_FOLDER``,
the SHA-256, the type sniffed from the bytes, SM4 at rest when configured, the audit event);
:func:`web.evidence_files.storage` hands it the app's folder, limit and keyring, and the
request's size limit (``MAX_CONTENT_LENGTH``) answers 413 before any of it runs.  This
module only maps its outcomes onto the API's errors and attaches the optional measure.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from web.api.errors import ApiError
from web.evidence_files import storage
from workflow.models import Evidence, Issue, User
from workflow.service import BadFile, FileTooLarge, has_measure, may_upload, save_evidence
from workflow.service.evidence import EMPTY


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
    if measure_id is not None and not has_measure(session, issue, measure_id):
        raise ApiError(
            422, _l("no such measure on this issue"), fields={"measure_id": [_l("no such measure")]}
        )
    try:
        evidence = save_evidence(session, issue, user, upload.filename or "", upload.stream, now,
                                 **storage())  # fmt: skip
    except FileTooLarge:
        session.rollback()
        raise ApiError(413, _l("the upload is larger than the limit")) from None
    except BadFile as exc:
        session.rollback()
        if getattr(exc.args[0] if exc.args else None, "code", None) == EMPTY.code:
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
