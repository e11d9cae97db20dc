"""The service: the only writer of issue state.

Opening an issue, taking an action on it (role, unit scope, version, fields, guards,
effects, audit event and outbox rows in the caller's transaction), storing evidence files,
the upkeep that moves issues on the system's behalf (recomputed deadlines, definition
migrations), and the units' group robots that the outbox tells (:mod:`.robots`, audited like
every other change).  Time always comes from the caller's ``now``.  Must not import flask or
``notifications``.
"""

from workflow.service.acting import act
from workflow.service.errors import (
    ActResult,
    Conflict,
    Denied,
    GuardFailed,
    NotFound,
    ServiceError,
)
from workflow.service.evidence import (
    UPLOAD_ROLES,
    BadFile,
    FileTooLarge,
    evidence_bytes,
    has_measure,
    may_upload,
    save_evidence,
    stored_path,
)
from workflow.service.fields import ValidationFailed
from workflow.service.open_fields import validate_open
from workflow.service.opening import open_issue, open_issues
from workflow.service.reading import (
    allowed_actions,
    changes_since,
    get_definition,
    running_clocks,
    snapshot,
)
from workflow.service.upkeep import apply_migration, recompute_deadlines

__all__ = [
    "UPLOAD_ROLES",
    "ActResult",
    "BadFile",
    "Conflict",
    "Denied",
    "FileTooLarge",
    "GuardFailed",
    "NotFound",
    "ServiceError",
    "ValidationFailed",
    "act",
    "allowed_actions",
    "apply_migration",
    "changes_since",
    "get_definition",
    "has_measure",
    "evidence_bytes",
    "may_upload",
    "open_issue",
    "open_issues",
    "recompute_deadlines",
    "running_clocks",
    "save_evidence",
    "snapshot",
    "stored_path",
    "validate_open",
]
