"""Reading a calendar year from a workbook (``.xlsx``).

Format: one sheet; a header row (found by its names, anywhere in the first 20 rows) with
the columns ``日期``/``date``, ``类型``/``kind`` and ``名称``/``name``; then one row per day,
kind ``放假``/``holiday`` (a day off) or ``上班``/``workday`` (a make-up working weekend).
Rows above the header may give ``年份``/``year`` and ``来源``/``source`` (label in one
cell, value in the next); without them the year is that of the dates and the source is
the file name.  Every problem is reported with file, sheet, row and column, all of them in
one run.  openpyxl is imported only when a workbook is read.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from workflow.clock.calendar_load.spec import (
    _PLAIN_INT,
    MAKEUP_NAME,
    NAME_MAX,
    SOURCE_MAX,
    WEEKDAYS_ZH,
    YEAR_MAX,
    YEAR_MIN,
    CalendarFileError,
    YearSpec,
)

_HEADERS = {
    "date": ("日期", "date"),
    "kind": ("类型", "kind"),
    "name": ("名称", "name"),
}
_META = {"year": ("年份", "year"), "source": ("来源", "source")}
_HOLIDAY_WORDS = ("放假", "休", "休息", "holiday", "off")
_WORKDAY_WORDS = ("上班", "班", "补班", "调休上班", "workday", "work")
_LOOSE_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")
_HEADER_SEARCH_ROWS = 20


def _norm(value: Any) -> str:
    return str(value).strip().lower() if value is not None else ""


def _cell_date(value: Any) -> date | str:
    """A date from a cell value, or a message saying why not."""
    if isinstance(value, datetime):
        if value.time() != datetime.min.time():
            return f"{value} has a time of day; expected a date"
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        m = _LOOSE_DATE.match(value)
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError as exc:
                return f"{value.strip()} is not a valid date ({exc})"
        return f"expected a date such as 2027-01-01, got {value!r}"
    if isinstance(value, int | float):
        return f"expected a date, got the number {value!r}; format the cell as a date"
    return f"expected a date, got {value!r}"


# a metadata cell above the header: (1-based row, 0-based column of the value, value)
_Meta = dict[str, tuple[int, int, Any]]


def parse_xlsx(path: str | Path) -> YearSpec:
    """Validate a calendar workbook (format in the module docstring)."""
    path = Path(path)
    sheet, rows = _read_sheet(path)
    c = _SheetCheck(path.name, sheet)
    header_row, meta = c.find_header(rows)
    year = c.meta_year(meta)
    source = c.meta_source(meta)
    data = 0
    for index in range(header_row + 1, len(rows)):
        row = rows[index]
        if all(v in (None, "") or (isinstance(v, str) and not v.strip()) for v in row):
            continue
        data += 1
        c.read_row(index + 1, row, year)
    return c.finish(header_row, data, year, source)


def _read_sheet(path: Path) -> tuple[str, list[tuple[Any, ...]]]:
    """The title and the cell values of the workbook's one sheet."""
    from openpyxl import load_workbook

    fname = path.name
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile/KeyError/ValueError/… for bad files
        raise CalendarFileError([f"{fname}: not a readable .xlsx workbook ({exc})"]) from None
    try:
        if len(wb.worksheets) != 1:
            titles = ", ".join(repr(ws.title) for ws in wb.worksheets)
            raise CalendarFileError(
                [f"{fname}: expected exactly one sheet, found {len(wb.worksheets)} ({titles})"]
            )
        ws = wb.worksheets[0]
        rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
    return ws.title, rows


def _meta_cells(row: tuple[Any, ...], index: int, cells: list[str], meta: _Meta) -> None:
    """Note the 年份/year and 来源/source cells of a row above the header in ``meta``."""
    for key, labels in _META.items():
        for col, text in enumerate(cells):
            if text in labels:
                value_col = next(
                    (c for c in range(col + 1, len(row)) if row[c] not in (None, "")), None
                )
                meta[key] = (
                    index + 1,
                    value_col if value_col is not None else col + 1,
                    row[value_col] if value_col is not None else None,
                )


def _kind_of(text: str) -> str | None:
    """``holiday`` or ``workday`` for a 类型/kind cell's normalised text (None: neither)."""
    if text in _HOLIDAY_WORDS:
        return "holiday"
    if text in _WORKDAY_WORDS:
        return "workday"
    return None


class _SheetCheck:
    """Position-aware validation of one calendar sheet; problems are collected."""

    def __init__(self, fname: str, sheet: str) -> None:
        self.fname, self.sheet = fname, sheet
        self.problems: list[str] = []
        self.columns: dict[str, int] = {}  # key -> 0-based column of the header row
        self.headers: dict[str, str] = {}  # key -> the header as written
        self.holidays: dict[date, str] = {}
        self.workdays: dict[date, str] = {}
        self.seen: dict[date, int] = {}  # day -> row it was first listed at
        self.years_seen: dict[int, int] = {}  # year -> first row with a date in it

    def where(self, row: int, col: int | None = None, header: str | None = None) -> str:
        """``file: sheet 'S' row R column C (header)`` for messages."""
        from openpyxl.utils import get_column_letter

        text = f"{self.fname}: sheet {self.sheet!r} row {row}"
        if col is not None:
            text += f" column {get_column_letter(col + 1)}"
            if header:
                text += f" ({header})"
        return text

    def at(self, rownum: int, key: str) -> str:
        """Where the ``key`` cell of row ``rownum`` is (its column must be known)."""
        return self.where(rownum, self.columns[key], self.headers[key])

    def find_header(self, rows: list[tuple[Any, ...]]) -> tuple[int, _Meta]:
        """The header row's index and the metadata above it; no header raises."""
        meta: _Meta = {}
        header_row: int | None = None
        for index, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
            cells = [_norm(v) for v in row]
            found = {
                key: cells.index(label)
                for key, labels in _HEADERS.items()
                for label in labels
                if label in cells
            }
            if "date" in found and "kind" in found:
                header_row, self.columns = index, found
                break
            _meta_cells(row, index, cells, meta)
        if header_row is None:
            raise CalendarFileError(
                [
                    f"{self.fname}: sheet {self.sheet!r}: no header row with the columns "
                    f"日期/date and 类型/kind in the first {_HEADER_SEARCH_ROWS} rows"
                ]
            )
        if "name" not in self.columns:
            self.problems.append(
                f"{self.where(header_row + 1)}: no 名称/name column in the header row"
            )
        self.headers = {k: str(rows[header_row][col]).strip() for k, col in self.columns.items()}
        return header_row, meta

    def meta_year(self, meta: _Meta) -> int | None:
        """The 年份/year given above the header, if any and valid."""
        if "year" not in meta:
            return None
        r, col, value = meta["year"]
        if (
            isinstance(value, int | float)
            and float(value).is_integer()
            and YEAR_MIN <= value <= YEAR_MAX
        ):
            return int(value)
        if isinstance(value, str) and _PLAIN_INT.match(value.strip()):
            return int(value.strip())
        self.problems.append(
            f"{self.where(r, col)}: year: expected a whole number such as 2027, got {value!r}"
        )
        return None

    def meta_source(self, meta: _Meta) -> str:
        """The 来源/source given above the header; the file name without one."""
        if "source" not in meta:
            return f"{self.fname}"
        r, col, value = meta["source"]
        if isinstance(value, str) and value.strip() and len(value.strip()) <= SOURCE_MAX:
            return value.strip()
        self.problems.append(
            f"{self.where(r, col)}: source: expected text of at most {SOURCE_MAX} characters, "
            f"got {value!r}"
        )
        return f"{self.fname}"

    def read_row(self, rownum: int, row: tuple[Any, ...], year: int | None) -> None:
        """Check one day row and record its holiday or make-up workday."""
        fields = self._fields(rownum, row)
        if fields is not None:
            self._record(rownum, *fields, year)

    def _cell(self, row: tuple[Any, ...], key: str) -> Any:
        col = self.columns.get(key)
        return row[col] if col is not None and col < len(row) else None

    def _fields(self, rownum: int, row: tuple[Any, ...]) -> tuple[date, str, str | None] | None:
        """The row's (day, kind, name), or None after reporting what is wrong with them."""
        raw_day = _cell_date(self._cell(row, "date"))
        day: date | None = None
        if isinstance(raw_day, str):
            self.problems.append(f"{self.at(rownum, 'date')}: {raw_day}")
        else:
            day = raw_day
        kind = _kind_of(_norm(self._cell(row, "kind")))
        if kind is None:
            self.problems.append(
                f"{self.at(rownum, 'kind')}: expected 放假/holiday or "
                f"上班/workday, got {self._cell(row, 'kind')!r}"
            )
        raw_name = self._cell(row, "name")
        name = str(raw_name).strip() if raw_name not in (None, "") else None
        if name is not None and len(name) > NAME_MAX:
            self.problems.append(
                f"{self.at(rownum, 'name')}: name: at most {NAME_MAX} characters, got {len(name)}"
            )
            return None
        if day is None or kind is None:
            return None
        return day, kind, name

    def _record(
        self, rownum: int, day: date, kind: str, name: str | None, year: int | None
    ) -> None:
        """Record a valid row's day, unless it is outside the year, repeated or misplaced."""
        date_at = self.at(rownum, "date")
        if year is not None and day.year != year:
            self.problems.append(f"{date_at}: {day} lies outside the year {year}")
            return
        self.years_seen.setdefault(day.year, rownum)
        if day in self.seen:
            self.problems.append(
                f"{date_at}: {day} is listed twice (first at row {self.seen[day]})"
            )
            return
        self.seen[day] = rownum
        if kind == "holiday":
            if name is None:
                name_at = self.where(rownum, self.columns.get("name"), self.headers.get("name"))
                self.problems.append(f"{name_at}: a holiday needs a name (e.g. 春节)")
                return
            self.holidays[day] = name
        elif day.weekday() < 5:
            self.problems.append(
                f"{date_at}: {day} is a weekday (星期{WEEKDAYS_ZH[day.weekday()]}); a make-up "
                "working day (上班) must be a Saturday or Sunday"
            )
        else:
            self.workdays[day] = name or MAKEUP_NAME

    def finish(self, header_row: int, data: int, year: int | None, source: str) -> YearSpec:
        """The whole-sheet checks (no rows, several years, no holiday); the year or raise."""
        sheet_at = f"{self.fname}: sheet {self.sheet!r}"
        if data == 0:
            self.problems.append(
                f"{self.where(header_row + 1)}: no days listed below the header row"
            )
        if year is None and len(self.years_seen) > 1:
            listed = ", ".join(f"{y} (row {r})" for y, r in sorted(self.years_seen.items()))
            self.problems.append(
                f"{sheet_at}: the dates span several years ({listed}); one file loads one year"
            )
        if year is None and self.years_seen:
            year = min(self.years_seen)
        if not self.problems and not self.holidays:
            self.problems.append(f"{sheet_at}: no 放假/holiday rows; a year has statutory holidays")
        if self.problems or year is None:
            raise CalendarFileError(self.problems)
        return YearSpec(year, source, self.fname, self.holidays, self.workdays)
