"""The kinds of letter and their numbers: ``督办〔2026〕第0001号``, one sequence per kind per year.

Numbering under concurrency: the next number is ``1 + count`` of that kind's numbers in
that year; the ``letter.number`` unique index turns a race between two writers into an
IntegrityError and the writer counts again (see :mod:`.issue`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.models import Letter

#: the 告诫书's new final date: this many working days after it is issued (a default; a
#: province may pass another value to :func:`issue_letter`)
ADMONITION_WORKING_DAYS = 10


@dataclass(frozen=True)
class LetterKind:
    """How one kind of letter is titled and numbered."""

    title: str  # 督办通知书
    prefix: str  # 督办 (the number reads 督办〔2026〕第0001号)
    action: str  # what the letter does, in the body text


KINDS: dict[str, LetterKind] = {
    "reminder": LetterKind("整改提醒书", "提醒", "提醒"),
    "supervision_notice": LetterKind("督办通知书", "督办", "挂牌督办"),
    "admonition": LetterKind("告诫书", "告诫", "告诫"),
    "talk_notice": LetterKind("约谈通知书", "约谈", "约谈"),
    "circulated_notice": LetterKind("通报", "通报", "通报"),
}


def number_prefix(kind: str, year: int) -> str:
    """The part of a number before the sequence, e.g. ``督办〔2026〕第``."""
    return f"{KINDS[kind].prefix}〔{year}〕第"


def format_number(kind: str, year: int, seq: int) -> str:
    """``督办〔2026〕第0001号`` (at least four digits)."""
    return f"{number_prefix(kind, year)}{seq:04d}号"


def next_number(session: Session, kind: str, year: int) -> str:
    """The next free number of ``kind`` in ``year`` (numbers are never deleted)."""
    return next_numbers(session, kind, year, 1)[0]


def next_numbers(session: Session, kind: str, year: int, n: int) -> list[str]:
    """The next ``n`` free numbers of ``kind`` in ``year``, in order (one count query)."""
    prefix = number_prefix(kind, year)
    used = session.scalar(
        select(func.count()).select_from(Letter).where(Letter.number.startswith(prefix))
    )
    return [format_number(kind, year, (used or 0) + k) for k in range(1, n + 1)]
