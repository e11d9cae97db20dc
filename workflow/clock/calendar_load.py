"""Writing the working calendar: seeding from packages and loading each new year.

Owns the rows of ``work_calendar`` and ``calendar_year``; the arithmetic on them is
:mod:`workflow.clock.calendar`.  Must not import flask.  Nothing here runs at import time.

Seeding
    :func:`seed_from_packages` writes every year the ``chinese-calendar`` package covers
    (2004–2026 with 1.11.0; the range is found by probing, the package raises
    ``NotImplementedError`` outside it) and skips years already loaded.  When the
    ``holidays`` package is importable (a test extra) each year is cross-checked against
    ``holidays.China``: a statutory holiday it lists that chinese-calendar calls a working
    day is logged and returned as a warning, never applied.

Loading a year (``rectiflow calendar load FILE``)
    When the State Council publishes next year's arrangement (usually Nov–Dec) the office
    loads it from a small file with :func:`load_calendar_file`.  The whole file is
    validated first; nothing is written unless it is entirely valid
    (:class:`CalendarFileError` lists every problem, each with file and line, or sheet,
    row and column).  Loading a year that is already loaded replaces it, inside the
    caller's transaction.  Callers then recompute provisional deadlines
    (``workflow.service.recompute_deadlines``).

YAML format (``.yaml`` / ``.yml``)::

    year: 2027                      # required, a whole number
    source: 国务院办公厅关于2027年部分节假日安排的通知 (国办发明电〔2026〕N号)   # required
    holidays:                       # required: the days off, as ranges (weekends inside
      - {name: 元旦, from: 2027-01-01, to: 2027-01-03}   # a break included)
      - {name: 春节, from: 2027-02-06, to: 2027-02-13}
    workdays:                       # optional: make-up working weekends (调休上班)
      - {date: 2027-02-20, name: 春节调休}              # name optional

    Rules: dates are ``YYYY-MM-DD`` inside ``year``; ``from <= to``; ranges do not
    overlap; a make-up workday is a Saturday or Sunday and is not also a holiday; no
    unknown or duplicate keys.

XLSX format (``.xlsx``): one sheet; a header row (found by its names, anywhere in the
first 20 rows) with the columns ``日期``/``date``, ``类型``/``kind`` and ``名称``/``name``;
then one row per day, kind ``放假``/``holiday`` (a day off) or ``上班``/``workday`` (a
make-up working weekend).  Rows above the header may give ``年份``/``year`` and
``来源``/``source`` (label in one cell, value in the next); without them the year is that
of the dates and the source is the file name.

Every other day of the year is a working day Monday to Friday and a weekend day
otherwise.  ``definitions/calendars/README.md`` says the same for the office.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from workflow.clock.calendar import invalidate_cache
from workflow.models import CHECK_NOW, CalendarYear, ClockInstance, WorkDay

log = logging.getLogger(__name__)

NAME_MAX = 64  # WorkDay.name
SOURCE_MAX = 200  # CalendarYear.source is 255; leaves room for " (file name)"
DAY_SOURCE_MAX = 128  # WorkDay.source
YEAR_MIN, YEAR_MAX = 1949, 2200
MAKEUP_NAME = "调休上班"
WEEKDAYS_ZH = "一二三四五六日"


class CalendarFileError(Exception):
    """A calendar file that cannot be loaded; ``problems`` lists every mistake found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class YearLoad:
    """What :func:`load_calendar_file` did."""

    year: int
    replaced: bool
    holidays: int  # days off listed (weekend days inside a break included)
    makeup_days: int  # make-up working weekends


class SeededYears(list[int]):
    """The years :func:`seed_from_packages` wrote, plus its cross-check ``warnings``."""

    warnings: list[str]

    def __init__(self, years: Iterable[int] = (), warnings: Iterable[str] = ()) -> None:
        super().__init__(years)
        self.warnings = list(warnings)


@dataclass
class YearSpec:
    """A validated calendar file: the days off and the make-up workdays of one year."""

    year: int
    source: str
    origin: str  # the file name
    holidays: dict[date, str] = field(default_factory=dict)
    workdays: dict[date, str] = field(default_factory=dict)


# ---------------------------------------------------------------------------- writing


def _now(now: datetime | None) -> datetime:
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("naive datetime given; Rectiflow uses aware UTC instants only")
    return now.astimezone(UTC)


def _loaded_at(session: Session, now: datetime) -> datetime:
    """``now``, moved past the latest ``loaded_at`` if needed.

    :meth:`workflow.clock.calendar.WorkCalendar.from_session` keys its cache on
    (count, max loaded_at); replacing a year must change that key even when the clock
    given is not later than the last load (tests, ``--now``).
    """
    latest = session.scalar(select(func.max(CalendarYear.loaded_at)))
    if latest is not None and now <= latest:
        return latest + timedelta(microseconds=1)
    return now


def _day_row(d: date, is_workday: bool, kind: str, name: str | None, source: str) -> dict:
    return {"day": d, "is_workday": is_workday, "kind": kind, "name": name, "source": source}


def _write_year(
    session: Session, year: int, rows: Sequence[dict], source: str, loaded_at: datetime
) -> bool:
    """Replace ``year`` by ``rows``; whether it was loaded before."""
    replaced = session.get(CalendarYear, year) is not None
    session.execute(
        delete(WorkDay).where(WorkDay.day >= date(year, 1, 1), WorkDay.day <= date(year, 12, 31))
    )
    session.execute(delete(CalendarYear).where(CalendarYear.year == year))
    session.execute(insert(WorkDay), list(rows))
    session.add(CalendarYear(year=year, source=source, loaded_at=loaded_at))
    # rung instants counted in working days move with the calendar: every running deadline
    # is looked at again by the next sweep, which schedules it against the new days
    session.execute(
        update(ClockInstance)
        .where(ClockInstance.status == "running", ClockInstance.check_at.is_not(None))
        .values(check_at=CHECK_NOW)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return replaced


def _days_of(year: int) -> Iterable[date]:
    d, one = date(year, 1, 1), timedelta(days=1)
    while d.year == year:
        yield d
        d += one


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------------- seeding


def _chinese_calendar() -> Any:
    import chinese_calendar

    return chinese_calendar


def package_version() -> str:
    """The installed chinese-calendar version."""
    cc = _chinese_calendar()
    version = getattr(cc, "__version__", None)
    if not version:
        from importlib.metadata import version as dist_version

        version = dist_version("chinese-calendar")
    return str(version)


def _covered(cc: Any, year: int) -> bool:
    try:
        cc.is_workday(date(year, 1, 1))
        cc.is_workday(date(year, 12, 31))
    except NotImplementedError:
        return False
    return True


def package_years(today: date | None = None) -> range:
    """The years chinese-calendar has official data for, found by probing (cached)."""
    return _package_years((today or date.today()).year)


@functools.cache
def _package_years(anchor: int) -> range:
    return probe_years(_chinese_calendar(), anchor)


def probe_years(cc: Any, anchor: int) -> range:
    """The years module ``cc`` covers: the run of years around ``anchor`` it does not reject.

    Walks down from ``anchor`` to the first covered year, then outwards until ``cc``
    raises ``NotImplementedError``.  Empty when none of the 60 years up to ``anchor`` is
    covered.
    """
    for _ in range(60):
        if _covered(cc, anchor):
            break
        anchor -= 1
    else:
        return range(0)
    lo = hi = anchor
    while lo - 1 >= 1 and _covered(cc, lo - 1):
        lo -= 1
    while _covered(cc, hi + 1):
        hi += 1
    return range(lo, hi + 1)


def _package_names(cc: Any) -> dict[str, str]:
    """English holiday name → Chinese (元旦, 春节, …) from the package's ``Holiday`` enum."""
    out = {}
    for member in getattr(cc, "Holiday", ()):
        value = member.value[0] if isinstance(member.value, tuple) else member.value
        chinese = getattr(member, "chinese", None)
        if isinstance(value, str) and chinese:
            out[value] = str(chinese)
    return out


def _package_rows(cc: Any, year: int, source: str) -> list[dict]:
    names = _package_names(cc)
    rows = []
    for d in _days_of(year):
        is_holiday, english = cc.get_holiday_detail(d)
        name = names.get(english, english) if english else None
        if not is_holiday:
            if d.weekday() >= 5:
                rows.append(
                    _day_row(d, True, "makeup", _clip(f"{name or ''}调休", NAME_MAX), source)
                )
            else:
                rows.append(_day_row(d, True, "workday", None, source))
        elif name or d.weekday() < 5:
            rows.append(_day_row(d, False, "holiday", name and _clip(name, NAME_MAX), source))
        else:
            rows.append(_day_row(d, False, "weekend", None, source))
    return rows


def cross_check(year: int, rows: Sequence[dict]) -> list[str]:
    """Holidays ``holidays.China`` lists in ``year`` that ``rows`` call a working day.

    Empty when the ``holidays`` package is not installed (it is a test extra).
    """
    try:
        import holidays
    except ImportError:
        return []
    workday = {r["day"]: r["is_workday"] for r in rows}
    warnings = []
    for d, name in sorted(holidays.China(years=year).items()):
        if workday.get(d):
            warnings.append(
                f"{d}: the holidays package lists {name!r} but chinese-calendar says it is "
                "a working day; kept chinese-calendar's answer"
            )
    return warnings


def seed_from_packages(
    session: Session, years: Iterable[int] | None = None, now: datetime | None = None
) -> SeededYears:
    """Load every year chinese-calendar covers (or just ``years``) that is not loaded yet.

    Idempotent: a year with a ``calendar_year`` row is skipped.  Returns the years
    written, with cross-check warnings in ``.warnings``.  Asking for a year the package
    does not cover is a ``ValueError`` (never a silent guess).
    """
    cc = _chinese_calendar()
    covered = package_years()
    wanted = sorted(set(covered if years is None else years))
    outside = [y for y in wanted if y not in covered]
    if outside:
        span = f"{covered.start}–{covered.stop - 1}" if covered else "no years"
        raise ValueError(
            f"chinese-calendar {package_version()} has no data for {outside} (it covers {span}); "
            "load those years from a file"
        )
    loaded = set(session.scalars(select(CalendarYear.year).where(CalendarYear.year.in_(wanted))))
    todo = [y for y in wanted if y not in loaded]
    result = SeededYears()
    if not todo:
        return result
    source = f"chinese-calendar {package_version()}"
    loaded_at = _loaded_at(session, _now(now))
    for year in todo:
        rows = _package_rows(cc, year, source)
        for warning in cross_check(year, rows):
            log.warning("calendar %s: %s", year, warning)
            result.warnings.append(warning)
        _write_year(session, year, rows, source, loaded_at)
        result.append(year)
    invalidate_cache(session.get_bind(mapper=CalendarYear.__mapper__))
    log.info("working calendar seeded from %s: %s", source, result)
    return result


# ---------------------------------------------------------------------------- files


def load_calendar_file(session: Session, path: str | Path, now: datetime | None = None) -> YearLoad:
    """Validate and load one year from a YAML or XLSX file; replaces the year if loaded.

    Raises :class:`CalendarFileError` (nothing written) when the file has any problem.
    """
    spec = read_calendar_file(path)
    return load_year(session, spec, now)


def load_year(session: Session, spec: YearSpec, now: datetime | None = None) -> YearLoad:
    """Write a validated :class:`YearSpec` (delete + insert in the caller's transaction)."""
    day_source = _clip(f"{spec.source} ({spec.origin})", DAY_SOURCE_MAX)
    rows = []
    for d in _days_of(spec.year):
        if d in spec.holidays:
            rows.append(_day_row(d, False, "holiday", spec.holidays[d], day_source))
        elif d in spec.workdays:
            rows.append(_day_row(d, True, "makeup", spec.workdays[d], day_source))
        elif d.weekday() >= 5:
            rows.append(_day_row(d, False, "weekend", None, day_source))
        else:
            rows.append(_day_row(d, True, "workday", None, day_source))
    source = _clip(f"{spec.source} ({spec.origin})", 255)
    replaced = _write_year(session, spec.year, rows, source, _loaded_at(session, _now(now)))
    invalidate_cache(session.get_bind(mapper=CalendarYear.__mapper__))
    log.info(
        "working calendar %s %s from %s", spec.year, "replaced" if replaced else "loaded", source
    )
    return YearLoad(spec.year, replaced, len(spec.holidays), len(spec.workdays))


def read_calendar_file(path: str | Path) -> YearSpec:
    """Parse and validate a calendar file by its extension (.yaml/.yml or .xlsx)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CalendarFileError([f"{path.name}: cannot read the file: {exc}"]) from None
        return parse_yaml(text, path.name)
    if suffix == ".xlsx":
        return parse_xlsx(path)
    raise CalendarFileError(
        [f"{path.name}: unsupported file type {suffix or '(none)'!r}; use .yaml, .yml or .xlsx"]
    )


# ------------------------------------------------------------------------------ YAML

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_NULL = "tag:yaml.org,2002:null"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PLAIN_INT = re.compile(r"^[0-9]+$")


def _describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag == _NULL:
        return "nothing"
    return repr(node.value)


class _YamlCheck:
    """Position-aware validation of a composed calendar YAML document."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.problems: list[str] = []

    def at(self, node: yaml.Node) -> str:
        return f"{self.filename}:{node.start_mark.line + 1}"

    def err(self, node: yaml.Node | None, message: str) -> None:
        where = self.at(node) if node is not None else f"{self.filename}:1"
        self.problems.append(f"{where}: {message}")

    def mapping(
        self, node: yaml.Node, what: str, allowed: Sequence[str], required: Sequence[str]
    ) -> dict[str, yaml.Node] | None:
        if not isinstance(node, yaml.MappingNode):
            self.err(node, f"{what}: expected a mapping (key: value), got {_describe(node)}")
            return None
        out: dict[str, yaml.Node] = {}
        for knode, vnode in node.value:
            key = knode.value if isinstance(knode, yaml.ScalarNode) else None
            if not isinstance(key, str) or key not in allowed:
                shown = key if key is not None else _describe(knode)
                self.err(knode, f"{what}: unknown key {shown!r} (allowed: {', '.join(allowed)})")
            elif key in out:
                self.err(
                    knode,
                    f"{what}: duplicate key {key!r} (first at line {out[key].start_mark.line + 1})",
                )
            else:
                out[key] = vnode
        for key in required:
            if key not in out:
                self.err(node, f"{what}: missing required key {key!r}")
        return out

    def seq(self, node: yaml.Node, what: str) -> list[yaml.Node] | None:
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        self.err(node, f"{what}: expected a list, got {_describe(node)}")
        return None

    def year(self, node: yaml.Node) -> int | None:
        if (
            isinstance(node, yaml.ScalarNode)
            and node.tag == _INT
            and _PLAIN_INT.match(node.value)
            and YEAR_MIN <= int(node.value) <= YEAR_MAX
        ):
            return int(node.value)
        self.err(
            node,
            f"year: expected a whole number between {YEAR_MIN} and {YEAR_MAX} such as 2027, "
            f"got {_describe(node)}",
        )
        return None

    def text(self, node: yaml.Node, what: str, limit: int) -> str | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR and node.value.strip():
            value = node.value.strip()
            if len(value) > limit:
                self.err(node, f"{what}: at most {limit} characters, got {len(value)}")
                return None
            return str(value)
        self.err(node, f"{what}: expected non-empty text, got {_describe(node)}")
        return None

    def day(self, node: yaml.Node, what: str, year: int | None) -> date | None:
        if not (
            isinstance(node, yaml.ScalarNode)
            and node.tag in (_TIMESTAMP, _STR)
            and _ISO_DATE.match(node.value)
        ):
            self.err(node, f"{what}: expected a date such as 2027-01-01, got {_describe(node)}")
            return None
        try:
            value = date.fromisoformat(node.value)
        except ValueError as exc:
            self.err(node, f"{what}: {node.value} is not a valid date ({exc})")
            return None
        if year is not None and value.year != year:
            self.err(node, f"{what}: {value} lies outside the year {year}")
            return None
        return value


def parse_yaml(text: str, filename: str = "<calendar>") -> YearSpec:
    """Validate calendar YAML (format in the module docstring); :class:`CalendarFileError`."""
    c = _YamlCheck(filename)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise CalendarFileError([f"{filename}:{line}: YAML syntax error: {what}"]) from None
    except yaml.YAMLError as exc:
        raise CalendarFileError([f"{filename}:1: YAML error: {exc}"]) from None
    if root is None:
        raise CalendarFileError([f"{filename}:1: the file is empty"])
    top = c.mapping(root, "calendar", ("year", "source", "holidays", "workdays"),
                    ("year", "source", "holidays"))  # fmt: skip
    if top is None:
        raise CalendarFileError(c.problems)
    year = c.year(top["year"]) if "year" in top else None
    source = c.text(top["source"], "source", SOURCE_MAX) if "source" in top else None

    # holidays: ranges, each remembered with its node for overlap messages
    ranges: list[tuple[date, date, str, yaml.Node]] = []
    items = c.seq(top["holidays"], "holidays") if "holidays" in top else None
    if items is not None and not items:
        c.err(top["holidays"], "holidays: the list is empty; a year has statutory holidays")
    for item in items or ():
        m = c.mapping(item, "holiday", ("name", "from", "to"), ("name", "from", "to"))
        if m is None:
            continue
        name = c.text(m["name"], "holiday name", NAME_MAX) if "name" in m else None
        start = c.day(m["from"], "holiday from", year) if "from" in m else None
        end = c.day(m["to"], "holiday to", year) if "to" in m else None
        if start and end and start > end:
            c.err(m["to"], f"holiday {name or '(unnamed)'}: from {start} is after to {end}")
            continue
        if name and start and end:
            ranges.append((start, end, name, item))
    ranges.sort(key=lambda r: (r[0], r[1]))
    holidays: dict[date, str] = {}
    holiday_at: dict[date, tuple[str, yaml.Node]] = {}
    prev: tuple[date, date, str, yaml.Node] | None = None
    for start, end, name, node in ranges:
        if prev is not None and start <= prev[1]:
            c.err(
                node,
                f"holiday {name} ({start}–{end}) overlaps {prev[2]} ({prev[0]}–{prev[1]}, "
                f"line {prev[3].start_mark.line + 1})",
            )
        d = start
        while d <= end:
            holidays.setdefault(d, name)
            holiday_at.setdefault(d, (name, node))
            d += timedelta(days=1)
        if prev is None or end > prev[1]:
            prev = (start, end, name, node)

    workdays: dict[date, str] = {}
    workday_at: dict[date, yaml.Node] = {}
    for item in (c.seq(top["workdays"], "workdays") if "workdays" in top else None) or ():
        m = c.mapping(item, "workday", ("date", "name"), ("date",))
        if m is None:
            continue
        day = c.day(m["date"], "workday date", year) if "date" in m else None
        name = c.text(m["name"], "workday name", NAME_MAX) if "name" in m else MAKEUP_NAME
        if day is None or name is None:
            continue
        if day.weekday() < 5:
            c.err(
                m["date"],
                f"workday {day} is a weekday (星期{WEEKDAYS_ZH[day.weekday()]}); a make-up "
                "working day (调休上班) must be a Saturday or Sunday",
            )
        elif day in holiday_at:
            hname, hnode = holiday_at[day]
            c.err(
                m["date"],
                f"{day} is listed both as a workday and inside the holiday {hname} "
                f"(line {hnode.start_mark.line + 1})",
            )
        elif day in workday_at:
            c.err(
                m["date"],
                f"workday {day} is listed twice (first at line "
                f"{workday_at[day].start_mark.line + 1})",
            )
        else:
            workdays[day] = name
            workday_at[day] = m["date"]

    if c.problems or year is None or source is None:
        raise CalendarFileError(c.problems)
    return YearSpec(year, source, filename, holidays, workdays)


# ------------------------------------------------------------------------------ XLSX

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


def parse_xlsx(path: str | Path) -> YearSpec:
    """Validate a calendar workbook (format in the module docstring)."""
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    path = Path(path)
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

    sheet = ws.title
    problems: list[str] = []

    def where(row: int, col: int | None = None, header: str | None = None) -> str:
        text = f"{fname}: sheet {sheet!r} row {row}"
        if col is not None:
            text += f" column {get_column_letter(col + 1)}"
            if header:
                text += f" ({header})"
        return text

    header_row: int | None = None
    columns: dict[str, int] = {}
    meta: dict[str, tuple[int, int, Any]] = {}  # key -> (row, col, value)
    for index, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        cells = [_norm(v) for v in row]
        found = {
            key: cells.index(label)
            for key, labels in _HEADERS.items()
            for label in labels
            if label in cells
        }
        if "date" in found and "kind" in found:
            header_row, columns = index, found
            break
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
    if header_row is None:
        raise CalendarFileError(
            [
                f"{fname}: sheet {sheet!r}: no header row with the columns 日期/date and "
                f"类型/kind in the first {_HEADER_SEARCH_ROWS} rows"
            ]
        )
    if "name" not in columns:
        problems.append(f"{where(header_row + 1)}: no 名称/name column in the header row")
    headers = {key: str(rows[header_row][col]).strip() for key, col in columns.items()}

    year: int | None = None
    if "year" in meta:
        r, col, value = meta["year"]
        if (
            isinstance(value, int | float)
            and float(value).is_integer()
            and YEAR_MIN <= value <= YEAR_MAX
        ):
            year = int(value)
        elif isinstance(value, str) and _PLAIN_INT.match(value.strip()):
            year = int(value.strip())
        else:
            problems.append(
                f"{where(r, col)}: year: expected a whole number such as 2027, got {value!r}"
            )
    source = f"{fname}"
    if "source" in meta:
        r, col, value = meta["source"]
        if isinstance(value, str) and value.strip() and len(value.strip()) <= SOURCE_MAX:
            source = value.strip()
        else:
            problems.append(
                f"{where(r, col)}: source: expected text of at most {SOURCE_MAX} characters, "
                f"got {value!r}"
            )

    holidays: dict[date, str] = {}
    workdays: dict[date, str] = {}
    seen: dict[date, int] = {}
    years_seen: dict[int, int] = {}
    data = 0
    for index in range(header_row + 1, len(rows)):
        row = rows[index]
        rownum = index + 1

        def cell(key: str, row: tuple[Any, ...] = row) -> Any:
            col = columns.get(key)
            return row[col] if col is not None and col < len(row) else None

        if all(v in (None, "") or (isinstance(v, str) and not v.strip()) for v in row):
            continue
        data += 1
        raw_day = _cell_date(cell("date"))
        day: date | None = None
        if isinstance(raw_day, str):
            problems.append(f"{where(rownum, columns['date'], headers['date'])}: {raw_day}")
        else:
            day = raw_day
        kind_text = _norm(cell("kind"))
        kind: str | None = None
        if kind_text in _HOLIDAY_WORDS:
            kind = "holiday"
        elif kind_text in _WORKDAY_WORDS:
            kind = "workday"
        else:
            problems.append(
                f"{where(rownum, columns['kind'], headers['kind'])}: expected 放假/holiday or "
                f"上班/workday, got {cell('kind')!r}"
            )
        raw_name = cell("name")
        name = str(raw_name).strip() if raw_name not in (None, "") else None
        if name is not None and len(name) > NAME_MAX:
            problems.append(
                f"{where(rownum, columns['name'], headers['name'])}: name: at most {NAME_MAX} "
                f"characters, got {len(name)}"
            )
            continue
        if day is None or kind is None:
            continue
        date_at = where(rownum, columns["date"], headers["date"])
        if year is not None and day.year != year:
            problems.append(f"{date_at}: {day} lies outside the year {year}")
            continue
        years_seen.setdefault(day.year, rownum)
        if day in seen:
            problems.append(f"{date_at}: {day} is listed twice (first at row {seen[day]})")
            continue
        seen[day] = rownum
        if kind == "holiday":
            if name is None:
                name_col = columns.get("name")
                problems.append(
                    f"{where(rownum, name_col, headers.get('name'))}: a holiday needs a name (e.g. 春节)"
                )
                continue
            holidays[day] = name
        elif day.weekday() < 5:
            problems.append(
                f"{date_at}: {day} is a weekday (星期{WEEKDAYS_ZH[day.weekday()]}); a make-up "
                "working day (上班) must be a Saturday or Sunday"
            )
        else:
            workdays[day] = name or MAKEUP_NAME
    if data == 0:
        problems.append(f"{where(header_row + 1)}: no days listed below the header row")
    if year is None and len(years_seen) > 1:
        listed = ", ".join(f"{y} (row {r})" for y, r in sorted(years_seen.items()))
        problems.append(
            f"{fname}: sheet {sheet!r}: the dates span several years ({listed}); "
            "one file loads one year"
        )
    if year is None and years_seen:
        year = min(years_seen)
    if not problems and not holidays:
        problems.append(
            f"{fname}: sheet {sheet!r}: no 放假/holiday rows; a year has statutory holidays"
        )
    if problems or year is None:
        raise CalendarFileError(problems)
    return YearSpec(year, source, fname, holidays, workdays)
