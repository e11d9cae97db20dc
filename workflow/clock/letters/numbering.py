"""The kinds of letter and their numbers: ``督办〔2026〕第0001号``, one sequence per kind per year.

The office's own series comes from settings (:class:`LetterSettings`, read with the rest of
the configuration): ``LETTER_NUMBER`` (e.g. ``"{prefix}〔{year}〕{seq}号"`` for 浙巡督〔2027〕3号),
``LETTER_PREFIXES`` (机关代字 per kind, e.g. ``{"supervision_notice": "浙巡督"}``) and
``LETTER_ISSUER`` (the issuing office's name, else derived from the root unit).

Numbering under concurrency: the next number is ``1 + count`` of that kind's numbers in
that year; the ``letter.number`` unique index turns a race between two writers into an
IntegrityError and the writer counts again (see :mod:`.issue`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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


DEFAULT_FORMAT = "{prefix}〔{year}〕第{seq:04d}号"


@dataclass(frozen=True)
class LetterSettings:
    """The office's number series and name (``LETTER_NUMBER``, ``LETTER_PREFIXES``, ``LETTER_ISSUER``)."""

    number_format: str = DEFAULT_FORMAT
    prefixes: Mapping[str, str] = field(default_factory=dict)
    issuer: str | None = None

    def __post_init__(self) -> None:
        head, sep, tail = self.number_format.partition("{seq")
        if not sep or "{" in tail.partition("}")[2] or "{seq" in tail:
            raise ValueError(
                f"LETTER_NUMBER {self.number_format!r}: needs one {{seq}} with nothing "
                'but plain text after it, e.g. "{prefix}〔{year}〕{seq}号"'
            )

    @classmethod
    def from_config(cls, settings: Mapping[str, Any]) -> LetterSettings:
        """The letter settings among all the settings (defaults where unset)."""
        return cls(str(settings.get("LETTER_NUMBER") or DEFAULT_FORMAT),
                   dict(settings.get("LETTER_PREFIXES") or {}),
                   settings.get("LETTER_ISSUER") or None)  # fmt: skip

    @classmethod
    def current(cls) -> LetterSettings:
        """The settings every process reads (``<instance>/config.py`` then ``RECTIFLOW_*``)."""
        from workflow import config

        return cls.from_config(config.load())

    def head(self, kind: str, year: int) -> str:
        """The part of a number before the sequence, e.g. ``督办〔2026〕第``."""
        prefix = self.prefixes.get(kind) or KINDS[kind].prefix
        return self.number_format.partition("{seq")[0].format(prefix=prefix, year=year)

    def number(self, kind: str, year: int, seq: int) -> str:
        """The number ``seq`` of ``kind`` in ``year``."""
        prefix = self.prefixes.get(kind) or KINDS[kind].prefix
        return self.number_format.format(prefix=prefix, year=year, seq=seq)


DEFAULTS = LetterSettings()


def number_prefix(kind: str, year: int, settings: LetterSettings = DEFAULTS) -> str:
    """The part of a number before the sequence, e.g. ``督办〔2026〕第``."""
    return settings.head(kind, year)


def format_number(kind: str, year: int, seq: int, settings: LetterSettings = DEFAULTS) -> str:
    """``督办〔2026〕第0001号`` by default; the office's series when set."""
    return settings.number(kind, year, seq)


def next_number(session: Session, kind: str, year: int, settings: LetterSettings = DEFAULTS) -> str:
    """The next free number of ``kind`` in ``year`` (numbers are never deleted)."""
    return next_numbers(session, kind, year, 1, settings)[0]


def next_numbers(
    session: Session, kind: str, year: int, n: int, settings: LetterSettings = DEFAULTS
) -> list[str]:
    """The next ``n`` free numbers of ``kind`` in ``year``, in order (one count query)."""
    prefix = settings.head(kind, year)
    used = session.scalar(
        select(func.count()).select_from(Letter).where(Letter.number.startswith(prefix))
    )
    return [settings.number(kind, year, (used or 0) + k) for k in range(1, n + 1)]
