"""Issuing letters: number, render and store them in the caller's transaction.

Each letter is inserted inside a savepoint; the ``letter.number`` unique index turns a
race between two sweeps (PostgreSQL partitions running in parallel) into an
IntegrityError, and the loser counts again.  On SQLite writers are serialised by
``BEGIN IMMEDIATE``.  :func:`issue_letters` does the same for a whole batch: one count,
then consecutive numbers, all inserted by one statement (numbers stay unique and
gap-free).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflow.clock.letters.numbering import KINDS, LetterSettings, next_number, next_numbers
from workflow.clock.letters.render import _issuer, _issuer_name, _root_id, _unit_names, render_html
from workflow.db import insert_returning
from workflow.models import Issue, Letter, Unit

MAX_NUMBER_RETRIES = 20
LETTER_TABLE = cast(Table, Letter.__table__)  # Core inserts: one statement for a batch


def issue_letter(
    session: Session,
    issue: Issue,
    kind: str,
    now: datetime,
    *,
    tz: str,
    due_at: datetime | None,
    rung_label: str,
    new_final_date: date | None = None,
    settings: LetterSettings | None = None,
) -> Letter:
    """Number, render and store one letter about ``issue`` in the caller's transaction."""
    if kind not in KINDS:
        raise ValueError(f"unknown letter kind {kind!r}")
    settings = settings or LetterSettings.current()
    zone = ZoneInfo(tz)
    issued_on = now.astimezone(zone).date()
    due_on = due_at.astimezone(zone).date() if due_at else issue.due_on
    unit = session.get(Unit, issue.unit_id)
    issuer = settings.issuer or _issuer(session, issue)
    for _ in range(MAX_NUMBER_RETRIES):
        number = next_number(session, kind, issued_on.year, settings)
        letter = Letter(
            number=number,
            issue_id=issue.id,
            kind=kind,
            issued_at=now,
            new_final_date=new_final_date,
            html=render_html(
                kind=kind,
                number=number,
                issue=issue,
                unit_name=unit.name if unit else "",
                issuer=issuer,
                issued_on=issued_on,
                due_on=due_on,
                rung_label=rung_label,
                new_final_date=new_final_date,
            ),
        )
        try:
            with session.begin_nested():
                session.add(letter)
        except IntegrityError:  # a concurrent sweep took this number: count again
            continue
        return letter
    raise RuntimeError(f"could not allocate a {kind} number after {MAX_NUMBER_RETRIES} tries")


@dataclass(frozen=True)
class LetterRequest:
    """One letter wanted by :func:`issue_letters`: about ``issue``, citing ``due_at``."""

    issue: Issue
    due_at: datetime | None


@dataclass(frozen=True)
class Issued:
    """A letter written by :func:`issue_letters` (what its caller links and cites)."""

    id: int
    issue_id: int
    number: str
    new_final_date: date | None


def issue_letters(
    session: Session,
    requests: Sequence[LetterRequest],
    kind: str,
    now: datetime,
    *,
    tz: str,
    rung_label: str,
    new_final_date: date | None = None,
    settings: LetterSettings | None = None,
) -> list[Issued]:
    """Number, render and store one letter per request, in request order, in bulk.

    What :func:`issue_letter` does for one issue, for a batch: one read of the units'
    names, one count for the numbers, one INSERT (in a savepoint, retried on a number
    taken by a concurrent writer).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown letter kind {kind!r}")
    if not requests:
        return []
    settings = settings or LetterSettings.current()
    names = _unit_names(session, [r.issue for r in requests])
    batch = _LetterBatch(kind, now, ZoneInfo(tz), rung_label, new_final_date, names,
                         settings.issuer)  # fmt: skip
    for _ in range(MAX_NUMBER_RETRIES):
        numbers = next_numbers(session, kind, batch.issued_on.year, len(requests), settings)
        rows = [batch.row(r, number) for r, number in zip(requests, numbers, strict=True)]
        ids = _insert_numbered(session, rows)
        if ids is None:  # a concurrent sweep took one of these numbers: count again
            continue
        return [
            Issued(ids[number], r.issue.id, number, new_final_date)
            for r, number in zip(requests, numbers, strict=True)
        ]
    raise RuntimeError(f"could not allocate {kind} numbers after {MAX_NUMBER_RETRIES} tries")


@dataclass(frozen=True)
class _LetterBatch:
    """What every letter of one :func:`issue_letters` call shares."""

    kind: str
    now: datetime
    zone: ZoneInfo
    rung_label: str
    new_final_date: date | None
    names: dict[int, str]  # unit id → name: the issues' units and their root units
    issuer: str | None = None  # LETTER_ISSUER, else the root unit's office

    @property
    def issued_on(self) -> date:
        return self.now.astimezone(self.zone).date()

    def row(self, r: LetterRequest, number: str) -> dict[str, Any]:
        """The ``letter`` row of one request under ``number``, with its printable HTML."""
        return {
            "number": number,
            "issue_id": r.issue.id,
            "kind": self.kind,
            "issued_at": self.now,
            "new_final_date": self.new_final_date,
            "html": render_html(
                kind=self.kind,
                number=number,
                issue=r.issue,
                unit_name=self.names.get(r.issue.unit_id, ""),
                issuer=self.issuer or _issuer_name(self.names.get(_root_id(r.issue))),
                issued_on=self.issued_on,
                due_on=r.due_at.astimezone(self.zone).date() if r.due_at else r.issue.due_on,
                rung_label=self.rung_label,
                new_final_date=self.new_final_date,
            ),
        }


def _insert_numbered(session: Session, rows: list[dict[str, Any]]) -> dict[str, int] | None:
    """Insert the letters in a savepoint: number → id; None when a number was taken meanwhile."""
    try:
        with session.begin_nested():
            return {
                r.number: r.id
                for r in insert_returning(session, LETTER_TABLE, rows, (Letter.number, Letter.id))
            }
    except IntegrityError:
        return None


def letters_of(session: Session, issue_id: int) -> list[Letter]:
    """The letters issued about an issue, oldest first (for the issue page)."""
    return list(
        session.scalars(select(Letter).where(Letter.issue_id == issue_id).order_by(Letter.id))
    )
