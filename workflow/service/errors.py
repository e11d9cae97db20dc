"""The errors a service call raises, and what an action returns when it succeeds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workflow.messages import N_, Text
from workflow.models import Event, Issue

CONFLICT = Text(
    "service_conflict",
    N_("the issue changed since version you saw (now version %(version)s)"),
)


class ServiceError(Exception):
    """Base of the errors a service call raises."""


class NotFound(ServiceError):
    """The object does not exist or lies outside the caller's scope."""


class Denied(ServiceError):
    """The caller may not take this action now (role, scope or state)."""


class GuardFailed(Denied):
    """A guard of the action refused (missing evidence, separation of duties, 回避, …)."""


class Conflict(ServiceError):
    """The caller acted on a stale version; ``changes`` lists what happened since."""

    def __init__(self, current_version: int, changes: list[dict[str, Any]]) -> None:
        """Keep the current version and the changes since the caller's."""
        self.current_version = current_version
        self.changes = changes
        super().__init__(CONFLICT(version=current_version))


@dataclass
class ActResult:
    """What an action did."""

    issue: Issue
    event: Event
    from_state: str
    to_state: str
    notified: int = 0
    children: list[Issue] = field(default_factory=list)
