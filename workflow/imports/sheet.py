"""Reading a 问题清单 workbook: opening it safely, finding the header row, the data rows."""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter, range_boundaries

from workflow.imports.report import ImportFileError, ImportReport, Message, located
from workflow.messages import N_, Text

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
HEADER_SCAN_ROWS = 30
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MERGE_RE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"')

FILE_ENCRYPTED = Text(
    "import_file_encrypted",
    N_("the file is encrypted or not an .xlsx (a password-protected workbook or an old "
       ".xls): save it as an unprotected Excel .xlsx workbook"),
)  # fmt: skip
FILE_NOT_XLSX = Text(
    "import_file_not_xlsx", N_("the file is not an .xlsx workbook (Excel 2007 or later)")
)
FILE_UNREADABLE = Text(
    "import_file_unreadable", N_("the file is not a readable .xlsx workbook (%(error)s)")
)
FILE_DAMAGED = Text(
    "import_file_damaged", N_("the file is not a readable .xlsx workbook: %(error)s")
)
SECOND_COLUMN = Text(
    "import_second_column",
    N_("a second %(label)s column; only column %(first)s is read"),
)
CELLS_MERGED = Text(
    "import_cells_merged",
    N_("cells %(first)s:%(last)s are merged across %(labels)s: unmerge them"),
)


def norm_header(value: Any) -> str:
    """A header cell as compared: NFKC, lower case, no spaces, marks or bracketed notes."""
    text = unicodedata.normalize("NFKC", str(value or "")).lower()
    text = re.sub(r"[(\[].*?[)\]]", "", text)
    return re.sub(r"[\s*:_\-/]+", "", text)


_ALIASES = {norm_header(a): f for f, names in HEADERS.items() for a in names}


def open_workbook(source: Source) -> Any:
    """Open the workbook read-only, turning every way of failing into one message."""
    head = _peek(source)
    if head.startswith(OLE2_MAGIC):
        raise ImportFileError(FILE_ENCRYPTED())
    if not head.startswith(b"PK"):
        raise ImportFileError(FILE_NOT_XLSX())
    try:
        return load_workbook(source, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise ImportFileError(FILE_UNREADABLE(error=exc.__class__.__name__)) from None
    except Exception as exc:  # openpyxl raises its own types for damaged parts
        raise ImportFileError(FILE_DAMAGED(error=str(exc))) from None


def _peek(source: Source) -> bytes:
    """The first bytes of the file, leaving a stream where it was."""
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
    """A cell's value; a formula comes back as a :class:`Formula`."""
    value = getattr(cell, "value", None)
    if getattr(cell, "data_type", None) == "f":
        return Formula(str(value))
    return value


@dataclass(frozen=True)
class Formula:
    """A cell holding a formula (its value is never trusted: we ask for plain values)."""

    text: str


def _find_header(ws: Any, report: ImportReport) -> Sheet | None:
    """The first row (of the top ones) naming at least three known columns, one a description."""
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
                report.error(located(ws.title, n, get_column_letter(idx), SECOND_COLUMN,
                                     label=LABELS[name],
                                     first=get_column_letter(found[name])))  # fmt: skip
            width = max(found.values())
            return Sheet(ws.title, n, found, width, [])
    return None


def data_rows(ws: Any, sheet: Sheet) -> Iterator[tuple[int, dict[str, Any], list[Message]]]:
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
                first, last = get_column_letter(min_col), get_column_letter(max_col)
                problems.append(located(sheet.name, n, first, CELLS_MERGED, first=f"{first}{n}",
                                        last=f"{last}{n}", labels=[LABELS[f] for f in covered]))  # fmt: skip
        if not problems and all(blank(v) for k, v in values.items() if k != "seq"):
            continue
        yield n, values, problems


def blank(value: Any) -> bool:
    """Whether a cell is empty or only spaces."""
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
