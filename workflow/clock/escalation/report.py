"""What a sweep did: its report per ``definition/clock/rung``, and an issue's escalations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.models import Escalation


@dataclass
class RungOutcome:
    """What one rung (or count rule) of one clock did in this sweep."""

    fired: int = 0
    letters: int = 0
    notifications: int = 0
    raised: int = 0
    provisional: bool = False


@dataclass
class SweepReport:
    """What a sweep did, per ``definition/clock/rung``."""

    now: datetime
    rungs: dict[str, RungOutcome] = field(default_factory=dict)
    partitions: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (partition, why)
    batches: int = 0

    def rung(self, key: str) -> RungOutcome:
        return self.rungs.setdefault(key, RungOutcome())

    @property
    def fired(self) -> int:
        """Escalations recorded by this sweep."""
        return sum(r.fired for r in self.rungs.values())

    @property
    def notifications(self) -> int:
        return sum(r.notifications for r in self.rungs.values())

    @property
    def letters(self) -> int:
        return sum(r.letters for r in self.rungs.values())

    def merge(self, other: SweepReport) -> None:
        """Add ``other``'s counts to this report (partitions swept separately)."""
        for key, r in other.rungs.items():
            mine = self.rung(key)
            mine.fired += r.fired
            mine.letters += r.letters
            mine.notifications += r.notifications
            mine.raised += r.raised
            mine.provisional |= r.provisional
        self.partitions += other.partitions
        self.skipped += other.skipped
        self.batches += other.batches

    def lines(self) -> list[str]:
        """Human-readable lines, one per rung that did something."""
        out = [
            f"{key}: fired {r.fired}, letters {r.letters}, notifications {r.notifications}, "
            f"cards raised {r.raised}" + (" (provisional calendar)" if r.provisional else "")
            for key, r in sorted(self.rungs.items())
            if r.fired
        ]
        for part, why in self.skipped:
            out.append(f"partition {part} skipped: {why}")
        out.append(
            f"total: {self.fired} escalations, {self.letters} letters, "
            f"{self.notifications} notifications in {self.batches} batches over "
            f"{len(self.partitions)} partitions"
        )
        return out

    def as_dict(self) -> dict[str, Any]:
        """Plain data (for Prefect task results and JSON output)."""
        return {
            "now": self.now.isoformat(),
            "rungs": {k: vars(v) for k, v in sorted(self.rungs.items())},
            "partitions": list(self.partitions),
            "skipped": [list(s) for s in self.skipped],
            "batches": self.batches,
            "fired": self.fired,
        }


# ------------------------------------------------------------------------------- reading


def escalations_of(session: Session, issue_id: int) -> list[Escalation]:
    """The escalations of one issue, oldest first (for the issue page)."""
    return list(
        session.scalars(
            select(Escalation).where(Escalation.issue_id == issue_id).order_by(Escalation.id)
        )
    )


SweepFn = Callable[..., SweepReport]
