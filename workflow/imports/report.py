"""What an import found: located problems, the row preview and the report, file-level errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from workflow.messages import Message as Said
from workflow.messages import Text

MAX_ERRORS = 1000
PREVIEW_ROWS = 100


class ImportFileError(Exception):
    """The file as a whole cannot be imported (not an .xlsx, no header, …); says a Message."""


@dataclass
class Message:
    """One problem, located in the workbook."""

    sheet: str | None
    row: int | None
    column: str | None
    message: Said  # code and params (sheet, row, column and the problem's own) for translation

    @property
    def where(self) -> str:
        """The place, ``sheet!C5`` (or less when the problem is not in one cell)."""
        return "!".join(p for p in (self.sheet, f"{self.column or ''}{self.row or ''}") if p)

    def __str__(self) -> str:
        """``sheet!C5: the problem`` (the English text)."""
        return f"{self.where}: {self.message}" if self.where else self.message


def located(
    sheet: str | None, row: int | None, column: str | None, text: Text, /, **params: Any
) -> Message:
    """A problem at ``sheet!{column}{row}``, its Message carrying the place as parameters."""
    return Message(sheet, row, column, text(sheet=sheet, row=row, column=column, **params))


@dataclass
class RowPreview:
    """A checked row as the dry run shows it."""

    sheet: str
    row: int
    status: str  # valid | invalid | existing
    number: str | None
    title: str
    unit: str | None
    due_on: date | None
    deadline_type: str | None
    messages: list[Said] = field(default_factory=list)


@dataclass
class ImportReport:
    """What an import found and did."""

    rows: int = 0
    valid: int = 0
    invalid: int = 0
    existing: int = 0
    created: int = 0
    written: bool = False
    errors: list[Message] = field(default_factory=list)
    errors_truncated: bool = False
    preview: list[RowPreview] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every row is valid (and the file could be read)."""
        return self.invalid == 0 and not self.errors

    def error(self, msg: Message) -> None:
        """Record a problem (the first :data:`MAX_ERRORS` are kept)."""
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(msg)
        else:
            self.errors_truncated = True
