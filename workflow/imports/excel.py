"""Importing the inspection team's 问题清单 (.xlsx) as issues, streamed with bounded memory.

Owns reading the spreadsheet (openpyxl read-only, row by row), finding the columns by their
Chinese or English headers in any order, turning each row into the fields of
:func:`workflow.service.open_issue` with a message per bad cell (sheet, row, column, problem),
and the rule that nothing is written unless every row is valid or the caller asked for the
valid rows only.  Must not import flask.

Two passes over the file: the first checks every row (the dry run); the second, only when
allowed, checks each row again and opens it.  Neither keeps the rows: the report holds
counts, the first errors and a short preview, so a 50,000-row list needs little memory.

Identity: ``Issue.import_key`` is the SHA-256 of the 问题编号 when the list has one, else of
the normalised (round, unit, description).  A row whose key (or number) is already in the
database is reported as existing and skipped, so re-importing a file creates nothing twice.
"""

from __future__ import annotations

import calendar as _calendar
import difflib
import hashlib
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, cast

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.utils.datetime import from_excel
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.definition.model import DEADLINE_LABELS
from workflow.models import Issue, Round, Unit, User
from workflow.service.fields import parse_date

Source = str | Path | IO[bytes]

# field → header spellings (compared after :func:`norm_header`)
HEADERS: dict[str, tuple[str, ...]] = {
    "seq": ("序号", "no.", "no", "#", "seq"),
    "number": ("问题编号", "编号", "number", "issueno", "issuenumber"),
    "category": ("问题类别", "问题归类", "问题类型", "类别", "category"),
    "description": ("问题表现", "问题描述", "具体问题", "主要问题", "description"),
    "title": ("问题标题", "标题", "title"),
    "unit": ("责任单位", "牵头单位", "整改责任单位", "unit", "responsibleunit", "leadunit"),
    "unit_code": ("责任单位代码", "单位代码", "unitcode"),
    "supporting_units": ("配合单位", "协同单位", "supportingunits", "supportingunit"),
    "supervising_leader": ("分管领导", "责任领导", "牵头领导", "supervisingleader"),
    "person_in_charge": ("责任人", "具体责任人", "personincharge"),
    "due_on": ("整改时限", "完成时限", "整改期限", "duedate", "due", "deadline"),
    "deadline_type": ("整改类型", "整改方式", "deadlinetype"),
    "round": ("轮次", "巡视轮次", "巡察轮次", "round"),
    "source": ("来源", "问题来源", "source"),
    "inspected_unit": ("被巡视单位", "被巡察单位", "inspectedunit"),
}
LABELS = {
    "number": "问题编号", "category": "问题类别", "description": "问题表现", "title": "问题标题",
    "unit": "责任单位", "unit_code": "责任单位代码", "supporting_units": "配合单位",
    "supervising_leader": "分管领导", "person_in_charge": "责任人", "due_on": "整改时限",
    "deadline_type": "整改类型", "round": "轮次", "source": "来源", "inspected_unit": "被巡察单位",
    "seq": "序号",
}  # fmt: skip
DEADLINE_NAMES = {
    **{zh: key for key, zh in DEADLINE_LABELS.items()},
    "fixnow": "fix_now", "bydeadline": "by_deadline", "ongoing": "ongoing",
}  # fmt: skip
MAX_LEN = {
    "title": 300, "description": 10_000, "category": 100, "supervising_leader": 100,
    "person_in_charge": 100, "source": 16, "number": 64,
}  # fmt: skip
HEADER_SCAN_ROWS = 30
MAX_ERRORS = 1000
PREVIEW_ROWS = 100
CHUNK = 500
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SENTENCE_END = re.compile(r"[。！？；;!?\n]")
MERGE_RE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"')


class ImportFileError(Exception):
    """The file as a whole cannot be imported (not an .xlsx, no header, …)."""


@dataclass
class Message:
    """One problem, located in the workbook."""

    sheet: str | None
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = "!".join(p for p in (self.sheet, f"{self.column or ''}{self.row or ''}") if p)
        return f"{where}: {self.message}" if where else self.message


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
    messages: list[str] = field(default_factory=list)


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


# ---------------------------------------------------------------------------------- reading


def norm_header(value: Any) -> str:
    """A header cell as compared: NFKC, lower case, no spaces, marks or bracketed notes."""
    text = unicodedata.normalize("NFKC", str(value or "")).lower()
    text = re.sub(r"[(\[].*?[)\]]", "", text)
    return re.sub(r"[\s*:_\-/]+", "", text)


_ALIASES = {norm_header(a): f for f, names in HEADERS.items() for a in names}


def _open(source: Source) -> Any:
    """Open the workbook read-only, turning every way of failing into one message."""
    head = _peek(source)
    if head.startswith(OLE2_MAGIC):
        raise ImportFileError(
            "the file is encrypted or not an .xlsx (a password-protected workbook or an old "
            ".xls): save it as an unprotected Excel .xlsx workbook"
        )
    if not head.startswith(b"PK"):
        raise ImportFileError("the file is not an .xlsx workbook (Excel 2007 or later)")
    try:
        return load_workbook(source, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise ImportFileError(
            f"the file is not a readable .xlsx workbook ({exc.__class__.__name__})"
        ) from None
    except Exception as exc:  # openpyxl raises its own types for damaged parts
        raise ImportFileError(f"the file is not a readable .xlsx workbook: {exc}") from None


def _peek(source: Source) -> bytes:
    if isinstance(source, str | Path):
        with open(source, "rb") as fh:
            return fh.read(8)
    pos = source.tell()
    head = source.read(8)
    source.seek(pos)
    return head


def _merged(ws: Any) -> list[tuple[int, int, int, int]]:
    """Merged ranges of a read-only sheet (min_col, min_row, max_col, max_row).

    Read-only sheets do not expose them, so the sheet's XML is scanned for ``mergeCell``
    elements in chunks (they follow the cell data; nothing is parsed into memory).
    """
    out: list[tuple[int, int, int, int]] = []
    try:
        fh = ws.parent._archive.open(ws._worksheet_path)
    except (AttributeError, KeyError):
        return out
    with fh:
        tail = b""
        while chunk := fh.read(1 << 20):
            buf = tail + chunk
            # a range cut by the chunk boundary is whole in the next buffer; the set dedupes
            for m in MERGE_RE.finditer(buf):
                bounds = range_boundaries(m.group(1).decode())
                out.append(cast(tuple[int, int, int, int], bounds))
            tail = buf[-200:]
    return sorted(set(out))


@dataclass
class Sheet:
    """A sheet with a header row: which column holds which field."""

    name: str
    header_row: int
    columns: dict[str, int]  # field → 1-based column
    width: int
    merged: list[tuple[int, int, int, int]]


def _cell_value(cell: Any) -> Any:
    value = getattr(cell, "value", None)
    if getattr(cell, "data_type", None) == "f":
        return Formula(str(value))
    return value


@dataclass(frozen=True)
class Formula:
    """A cell holding a formula (its value is never trusted: we ask for plain values)."""

    text: str


def _find_header(ws: Any, report: ImportReport) -> Sheet | None:
    for n, row in enumerate(ws.iter_rows(max_row=HEADER_SCAN_ROWS), start=1):
        found: dict[str, int] = {}
        dupes = []
        for idx, cell in enumerate(row, start=1):
            value = getattr(cell, "value", None)
            if not isinstance(value, str):
                continue
            name = _ALIASES.get(norm_header(value))
            if name is None:
                continue
            if name in found:
                dupes.append((name, idx))
            found.setdefault(name, idx)
        if len(found) >= 3 and ({"description", "title"} & found.keys()):
            for name, idx in dupes:
                report.error(Message(ws.title, n, get_column_letter(idx),
                                     f"a second {LABELS[name]} column; only column "
                                     f"{get_column_letter(found[name])} is read"))  # fmt: skip
            width = max(found.values())
            return Sheet(ws.title, n, found, width, [])
    return None


def _rows(ws: Any, sheet: Sheet) -> Iterator[tuple[int, dict[str, Any], list[Message]]]:
    """Data rows below the header as {field: value}, merges applied, blank rows skipped."""
    vertical: dict[int, tuple[int, int]] = {}  # column → (first_row, last_row) of a merge
    spans: dict[int, tuple[int, int, int, int]] = {}  # first row → horizontal merge
    field_of = {c: f for f, c in sheet.columns.items()}
    for mc in sheet.merged:
        min_col, min_row, max_col, max_row = mc
        if max_row <= sheet.header_row:
            continue
        if min_col == max_col:
            for r in range(min_row, max_row + 1):
                vertical[(r << 16) | min_col] = (min_row, max_row)
        else:
            for r in range(min_row, max_row + 1):
                spans[r] = mc
    carried: dict[int, Any] = {}
    for n, row in enumerate(ws.iter_rows(min_row=sheet.header_row + 1), start=sheet.header_row + 1):
        values: dict[str, Any] = {}
        problems: list[Message] = []
        for col, name in field_of.items():
            value = _cell_value(row[col - 1]) if col - 1 < len(row) else None
            span = vertical.get((n << 16) | col)
            if span is not None:
                if n == span[0]:
                    carried[col] = value
                else:
                    value = carried.get(col)  # a merged column repeats its value downwards
            values[name] = value
        hspan = spans.get(n)
        if hspan is not None:
            min_col, _, max_col, _ = hspan
            covered = [field_of[c] for c in range(min_col, max_col + 1) if c in field_of]
            if set(field_of) <= set(range(min_col, max_col + 1)):
                continue  # a section heading across the whole table (一、党的领导方面 …)
            if len(covered) > 1:
                problems.append(Message(
                    sheet.name, n, get_column_letter(min_col),
                    f"cells {get_column_letter(min_col)}{n}:{get_column_letter(max_col)}{n} are "
                    f"merged across {', '.join(LABELS[f] for f in covered)}: unmerge them",
                ))  # fmt: skip
        if not problems and all(_blank(v) for k, v in values.items() if k != "seq"):
            continue
        yield n, values, problems


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def sheets(wb: Any, report: ImportReport) -> list[Sheet]:
    """The sheets that have a header row (with their merged ranges)."""
    out = []
    for ws in wb.worksheets:
        sheet = _find_header(ws, report)
        if sheet is not None:
            sheet.merged = _merged(ws)
            out.append(sheet)
    return out


# ---------------------------------------------------------------------------------- checking


@dataclass
class Lookup:
    """The unit tree, rounds and the importer's reach, held for one import."""

    by_code: dict[str, Unit]
    by_name: dict[str, list[Unit]]
    rounds: dict[str, Round]
    reach: list[str]  # paths of the importer's office posts
    today: date
    allow_past: bool = False

    @classmethod
    def load(cls, session: Session, user: User, today: date, allow_past: bool = False) -> Lookup:
        """Read units and rounds once."""
        by_code: dict[str, Unit] = {}
        by_name: dict[str, list[Unit]] = {}
        for u in session.scalars(select(Unit)):
            by_code[u.code] = u
            by_name.setdefault(_norm_text(u.name), []).append(u)
        rounds: dict[str, Round] = {}
        for r in session.scalars(select(Round)):
            rounds[r.code] = r
            rounds.setdefault(_norm_text(r.name), r)
        reach = [m.unit.path for m in user.memberships if m.role == "office"]
        return cls(by_code, by_name, rounds, reach, today, allow_past)

    def unit(self, text: str) -> tuple[Unit | None, str | None]:
        """A unit named by code or name, or an error with suggestions."""
        text = text.strip()
        if text in self.by_code:
            return self.by_code[text], None
        found = self.by_name.get(_norm_text(text), [])
        if len(found) == 1:
            return found[0], None
        if len(found) > 1:
            codes = ", ".join(sorted(u.code for u in found)[:5])
            return None, f"{len(found)} units are named {text!r} ({codes}): write the unit code"
        close = difflib.get_close_matches(_norm_text(text), list(self.by_name), n=3, cutoff=0.6)
        hint = f"; did you mean {' / '.join(close)}?" if close else ""
        return None, f"no unit named {text!r}{hint}"

    def in_reach(self, unit: Unit) -> bool:
        """Whether the importer's office covers ``unit``."""
        return any(unit.path.startswith(p) for p in self.reach)


def _norm_text(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


MONTH_END = re.compile(r"^(\d{4})\s*[年./-]\s*(\d{1,2})\s*月?\s*(底|末)?$")


def parse_cell_date(value: Any) -> date:
    """A due date from a date cell, an Excel serial number or text (2026年12月31日, 2026年12月底 …)."""
    if isinstance(value, datetime | date):
        return parse_date(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 20_000 <= value <= 80_000:  # 1954..2119 as Excel serial days
            return from_excel(value).date()  # type: ignore[union-attr]
        raise ValueError(f"{value!r} is not a date")
    text = _text(value).replace(" ", "")
    m = MONTH_END.match(text)
    if m:
        year, month = int(m[1]), int(m[2])
        if 1 <= month <= 12:
            return date(year, month, _calendar.monthrange(year, month)[1])
    try:
        return parse_date(text.rstrip("前"))
    except ValueError:
        raise ValueError(f"{text!r} is not a date (write 2026-12-31 or 2026年12月31日)") from None


def derive_title(description: str) -> str:
    """A title from the description's first sentence (at most 80 characters)."""
    first = SENTENCE_END.split(description.strip(), maxsplit=1)[0].strip()
    return first if len(first) <= 80 else first[:79] + "…"


def import_key(number: str | None, round_code: str | None, unit_code: str, description: str) -> str:
    """The identity of an imported row (see the module docstring)."""
    if number:
        raw = f"number\x1f{number.strip()}"
    else:
        raw = "\x1f".join(("row", round_code or "", unit_code, _norm_text(description)))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@dataclass
class Row:
    """A checked row: the fields for open_issue, or its problems."""

    sheet: str
    n: int
    fields: dict[str, Any]
    problems: list[Message]
    status: str = "valid"


def check_row(
    sheet: Sheet, n: int, raw: dict[str, Any], problems: list[Message], look: Lookup
) -> Row:
    """Turn one row into open_issue fields, recording a message for every bad cell."""
    col = {f: get_column_letter(c) for f, c in sheet.columns.items()}

    def bad(name: str, message: str) -> None:
        problems.append(
            Message(sheet.name, n, col.get(name), f"{LABELS.get(name, name)}: {message}")
        )

    for name, value in raw.items():
        if isinstance(value, Formula):
            bad(name, f"the cell holds a formula ({value.text[:40]}); paste values instead")
            raw[name] = None
    text = {k: _text(v) for k, v in raw.items() if k != "due_on"}
    for name, limit in MAX_LEN.items():
        if len(text.get(name, "")) > limit:
            bad(name, f"{len(text[name])} characters long; at most {limit}")
    description = text.get("description", "")
    title = text.get("title", "") or derive_title(description)
    if not description and not title:
        bad("description", "empty: every row needs 问题表现 (description) or 问题标题 (title)")
    unit = None
    if text.get("unit_code"):
        unit = look.by_code.get(text["unit_code"])
        if unit is None:
            bad("unit_code", f"no unit with code {text['unit_code']!r}")
    elif text.get("unit"):
        unit, err = look.unit(text["unit"])
        if err:
            bad("unit", err)
    else:
        bad("unit", "empty: name the responsible unit (牵头单位)")
    if unit is not None and not look.in_reach(unit):
        bad("unit" if "unit" in col else "unit_code", f"{unit.name} is outside your office's units")
    supporting = []
    for part in re.split(r"[、,，;；\n]+", text.get("supporting_units", "")):
        if part.strip():
            u, err = look.unit(part)
            if err:
                bad("supporting_units", err)
            elif u is not None and (unit is None or u.id != unit.id):
                supporting.append(u.code)
    inspected = None
    if text.get("inspected_unit"):
        inspected, err = look.unit(text["inspected_unit"])
        if err:
            bad("inspected_unit", err)
    round_ = None
    if text.get("round"):
        round_ = look.rounds.get(text["round"]) or look.rounds.get(_norm_text(text["round"]))
        if round_ is None:
            close = difflib.get_close_matches(_norm_text(text["round"]), list(look.rounds), n=2)
            hint = f"; did you mean {' / '.join(close)}?" if close else ""
            bad("round", f"no round {text['round']!r}{hint}")
    dtype = None
    if text.get("deadline_type"):
        dtype = DEADLINE_NAMES.get(norm_header(text["deadline_type"]))
        if dtype is None:
            bad("deadline_type", f"{text['deadline_type']!r} is not 立行立改, 限期整改 or 长期坚持")
    due = None
    raw_due = raw.get("due_on")
    if not _blank(raw_due):
        as_type = DEADLINE_NAMES.get(norm_header(_text(raw_due)))
        if as_type and isinstance(raw_due, str):
            dtype = dtype or as_type  # "长期坚持" written in the due-date column
        else:
            try:
                due = parse_cell_date(raw_due)
            except ValueError as exc:
                bad("due_on", str(exc))
            if due is not None and due < look.today and not look.allow_past:
                bad("due_on", f"{due.isoformat()} is in the past")
    if dtype is None and due is None and not any(p.column == col.get("due_on") for p in problems):
        bad("due_on", "empty: give a due date, or 整改类型 立行立改 / 长期坚持")
    dtype = dtype or "by_deadline"
    if (
        dtype == "by_deadline"
        and due is None
        and not any(p.column == col.get("due_on") for p in problems)
    ):
        bad("due_on", "限期整改 needs a due date")
    fields: dict[str, Any] = {
        "title": title[:300],
        "description": description,
        "category": text.get("category") or None,
        "unit": unit.code if unit else None,
        "supporting_units": supporting,
        "deadline_type": dtype,
        "due_on": due,
        "supervising_leader": text.get("supervising_leader") or None,
        "person_in_charge": text.get("person_in_charge") or None,
        "source": text.get("source") or None,
        "number": text.get("number") or None,
    }
    if round_ is not None:
        fields["round"] = round_.code
    if inspected is not None:
        fields["inspected_unit"] = inspected.code
    if unit is not None:
        fields["import_key"] = import_key(
            fields["number"], round_.code if round_ else None, unit.code, description or title
        )
    return Row(sheet.name, n, fields, problems, "invalid" if problems else "valid")


def _resolve_existing(session: Session, chunk: list[Row]) -> None:
    """Mark rows whose key or number is already in the database as existing."""
    keys = [r.fields["import_key"] for r in chunk if r.status == "valid"]
    numbers = [r.fields["number"] for r in chunk if r.status == "valid" and r.fields["number"]]
    have_keys = (
        set(session.scalars(select(Issue.import_key).where(Issue.import_key.in_(keys))))
        if keys
        else set()
    )
    have_numbers = (
        set(session.scalars(select(Issue.number).where(Issue.number.in_(numbers))))
        if numbers
        else set()
    )
    for r in chunk:
        if r.status == "valid" and (
            r.fields["import_key"] in have_keys
            or (r.fields["number"] and r.fields["number"] in have_numbers)
        ):
            r.status = "existing"


def _checked_rows(session: Session, wb: Any, look: Lookup, report: ImportReport) -> Iterator[Row]:
    """Every data row of every sheet, checked, in chunks resolved against the database."""
    found = sheets(wb, report)
    if not found:
        names = ", ".join(ws.title for ws in wb.worksheets) or "none"
        raise ImportFileError(
            "no sheet has a header row: expected columns such as 问题表现/description, "
            f"责任单位/unit, 整改时限/due date (sheets: {names})"
        )
    seen: dict[bytes, int] = {}
    any_rows = False
    for sheet in found:
        if "unit" not in sheet.columns and "unit_code" not in sheet.columns:
            raise ImportFileError(
                f"sheet {sheet.name}: no 责任单位/unit column in row {sheet.header_row}"
            )
        ws = wb[sheet.name]
        chunk: list[Row] = []
        for n, raw, problems in _rows(ws, sheet):
            any_rows = True
            row = check_row(sheet, n, raw, problems, look)
            key = row.fields.get("import_key")
            if key and row.status == "valid":
                digest = bytes.fromhex(key)[:16]
                if digest in seen:
                    what = "问题编号" if row.fields["number"] else "round, unit and description"
                    row.problems.append(Message(sheet.name, n, None,
                                                f"duplicate of row {seen[digest]} (same {what})"))  # fmt: skip
                    row.status = "invalid"
                else:
                    seen[digest] = n
            chunk.append(row)
            if len(chunk) >= CHUNK:
                _resolve_existing(session, chunk)
                yield from chunk
                chunk = []
        _resolve_existing(session, chunk)
        yield from chunk
    if not any_rows:
        raise ImportFileError("the header row has no data rows below it")


def _tally(report: ImportReport, row: Row) -> None:
    report.rows += 1
    if row.status == "invalid":
        report.invalid += 1
        for p in row.problems:
            report.error(p)
    elif row.status == "existing":
        report.existing += 1
    else:
        report.valid += 1
    if len(report.preview) < PREVIEW_ROWS:
        f = row.fields
        report.preview.append(RowPreview(
            row.sheet, row.n, row.status, f.get("number"), f.get("title") or "", f.get("unit"),
            f.get("due_on"), f.get("deadline_type"), [p.message for p in row.problems],
        ))  # fmt: skip


def _rewind(source: Source) -> None:
    if not isinstance(source, str | Path):
        source.seek(0)


def import_issues(
    session: Session,
    source: Source,
    user: User,
    now: datetime,
    *,
    dry_run: bool = False,
    valid_only: bool = False,
    allow_past: bool = False,
    definition: str = "rectification",
) -> ImportReport:
    """Check ``source`` and, unless a dry run, open its rows as issues in ``session``.

    Nothing is written unless every row is valid, or ``valid_only`` asks to skip the bad
    ones.  The caller commits.  Returns the report either way.
    """
    from workflow.clock.calendar import WorkCalendar

    report = ImportReport()
    today = now.date()
    try:
        look = Lookup.load(session, user, today, allow_past)
        if not look.reach:
            raise ImportFileError("only an inspection office (巡视办/巡察办) may import issues")
        wb = _open(source)
        try:
            for row in _checked_rows(session, wb, look, report):
                _tally(report, row)
        finally:
            wb.close()
    except ImportFileError as exc:
        report.errors.insert(0, Message(None, None, None, str(exc)))
        return report
    if dry_run or (not report.ok and not valid_only) or report.valid == 0:
        return report
    _rewind(source)
    cal = WorkCalendar.from_session(session)  # one snapshot for the whole import
    wb = _open(source)
    try:
        batch: list[Row] = []
        for row in _checked_rows(session, wb, look, ImportReport()):
            if row.status == "valid":
                batch.append(row)
            if len(batch) >= WRITE_BATCH:
                user = _write_batch(session, definition, batch, user, now, cal, report)
                batch = []
        _write_batch(session, definition, batch, user, now, cal, report)
    finally:
        wb.close()
    report.written = report.created > 0
    session.flush()
    return report


# rows opened per service call: big enough that the per-batch statements vanish per row,
# small enough that the identity map (expunged after each batch) stays small
WRITE_BATCH = 500


def _write_batch(
    session: Session,
    definition: str,
    batch: list[Row],
    user: User,
    now: datetime,
    cal: Any,
    report: ImportReport,
) -> User:
    """Open a batch of valid rows; return the user, reloaded after the identity map is cleared."""
    from workflow.service import open_issues

    if not batch:
        return user
    user_id = user.id
    outcomes = open_issues(session, definition, [r.fields for r in batch], user, now, calendar=cal)
    for row, outcome in zip(batch, outcomes, strict=True):
        if isinstance(outcome, Exception):
            # open_issues validates before it adds anything: a refused row writes nothing
            report.error(Message(row.sheet, row.n, None, f"not imported: {outcome}"))
        else:
            report.created += 1
    # keep the identity map small: a long import must not hold every issue
    session.flush()
    session.expunge_all()
    found = session.get(User, user_id)
    assert found is not None
    return found


def check_file(
    session: Session, source: Source, user: User, now: datetime, **kw: Any
) -> ImportReport:
    """The dry run: every row checked, nothing written."""
    return import_issues(session, source, user, now, dry_run=True, **kw)
