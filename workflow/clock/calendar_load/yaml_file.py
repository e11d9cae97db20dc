"""Reading a calendar year from YAML, through the definitions' line-aware reader.

Format (``.yaml`` / ``.yml``)::

    year: 2027                      # required, a whole number
    source: 国务院办公厅关于2027年部分节假日安排的通知 (国办发明电〔2026〕N号)   # required
    holidays:                       # required: the days off, as ranges (weekends inside
      - {name: 元旦, from: 2027-01-01, to: 2027-01-03}   # a break included)
      - {name: 春节, from: 2027-02-06, to: 2027-02-13}
    workdays:                       # optional: make-up working weekends (调休上班)
      - {date: 2027-02-20, name: 春节调休}              # name optional

Rules: dates are ``YYYY-MM-DD`` inside ``year``; ``from <= to``; ranges do not overlap; a
make-up workday is a Saturday or Sunday and is not also a holiday; no unknown or
duplicate keys.  Every other day of the year is a working day Monday to Friday and a
weekend day otherwise.  ``definitions/calendars/README.md`` says the same for the office.

The text is composed by :class:`workflow.definition.reader.Reader` (the one YAML reader:
duplicate keys, syntax errors and positions as for definitions); every problem is
reported as ``file:line:column: message``, all of them in one run.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

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
from workflow.definition.reader import INT_TAG, STR_TAG, Reader, YNode, YScalar, describe

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# (from, to, name, the holiday's node): a validated range of days off
_Range = tuple[date, date, str, YNode]


class _CalendarReader(Reader):
    """The definitions' :class:`Reader`, plus the calendar's own value checks."""

    def fields(
        self, node: YNode, what: str, allowed: tuple[str, ...], required: tuple[str, ...]
    ) -> dict[str, YNode] | None:
        """The values of mapping ``node`` by key (unknown and missing keys reported)."""
        m = self.mapping(node, what)
        return None if m is None else self.keys(m, what, allowed, required)

    def year(self, node: YNode) -> int | None:
        """A plain whole number between YEAR_MIN and YEAR_MAX."""
        if (
            isinstance(node, YScalar)
            and node.tag == INT_TAG
            and _PLAIN_INT.match(node.raw)
            and YEAR_MIN <= int(node.raw) <= YEAR_MAX
        ):
            return int(node.raw)
        self.err(
            node,
            f"year: expected a whole number between {YEAR_MIN} and {YEAR_MAX} such as 2027, "
            f"got {describe(node)}",
        )
        return None

    def text(self, node: YNode, what: str, limit: int) -> str | None:
        """Non-empty text of at most ``limit`` characters, stripped."""
        if isinstance(node, YScalar) and node.tag == STR_TAG and node.value.strip():
            value = node.value.strip()
            if len(value) > limit:
                self.err(node, f"{what}: at most {limit} characters, got {len(value)}")
                return None
            return str(value)
        self.err(node, f"{what}: expected non-empty text, got {describe(node)}")
        return None

    def day(self, node: YNode, what: str, year: int | None) -> date | None:
        """A ``YYYY-MM-DD`` date, inside ``year`` when it is known."""
        if not (
            isinstance(node, YScalar)
            and node.tag in (_TIMESTAMP_TAG, STR_TAG)
            and _ISO_DATE.match(node.raw)
        ):
            self.err(node, f"{what}: expected a date such as 2027-01-01, got {describe(node)}")
            return None
        try:
            value = date.fromisoformat(node.raw)
        except ValueError as exc:
            self.err(node, f"{what}: {node.raw} is not a valid date ({exc})")
            return None
        if year is not None and value.year != year:
            self.err(node, f"{what}: {value} lies outside the year {year}")
            return None
        return value

    def failed(self) -> CalendarFileError:
        """Every problem found so far, as the error a calendar reader raises."""
        return CalendarFileError([str(p) for p in self.problems])


def parse_yaml(text: str, filename: str = "<calendar>") -> YearSpec:
    """Validate calendar YAML (format in the module docstring); :class:`CalendarFileError`."""
    c = _CalendarReader(filename)
    top = _top(c, text)
    year = c.year(top["year"]) if "year" in top else None
    source = c.text(top["source"], "source", SOURCE_MAX) if "source" in top else None
    holidays, holiday_at = _holiday_days(c, _holiday_ranges(c, top, year))
    workdays = _workdays(c, top, year, holiday_at)
    if c.problems or year is None or source is None:
        raise c.failed()
    return YearSpec(year, source, filename, holidays, workdays)


def _top(c: _CalendarReader, text: str) -> dict[str, YNode]:
    """The top-level keys; a file that is unreadable, empty or not a mapping raises."""
    root = c.read(text)
    if root is None and not c.problems:
        c.err(None, "the file is empty")
    if root is None:
        raise c.failed()
    top = c.fields(root, "calendar", ("year", "source", "holidays", "workdays"),
                   ("year", "source", "holidays"))  # fmt: skip
    if top is None:
        raise c.failed()
    return top


def _holiday_ranges(c: _CalendarReader, top: dict[str, YNode], year: int | None) -> list[_Range]:
    """The valid ``holidays`` ranges, sorted; each kept with its node for overlap messages."""
    ranges: list[_Range] = []
    items = c.seq(top["holidays"], "holidays") if "holidays" in top else None
    if items is not None and not items:
        c.err(top["holidays"], "holidays: the list is empty; a year has statutory holidays")
    for item in items or ():
        m = c.fields(item, "holiday", ("name", "from", "to"), ("name", "from", "to"))
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
    return ranges


def _holiday_days(
    c: _CalendarReader, ranges: list[_Range]
) -> tuple[dict[date, str], dict[date, tuple[str, YNode]]]:
    """Every day off by date (its holiday's name, and name and node); overlaps reported."""
    holidays: dict[date, str] = {}
    holiday_at: dict[date, tuple[str, YNode]] = {}
    prev: _Range | None = None
    for start, end, name, node in ranges:
        if prev is not None and start <= prev[1]:
            c.err(
                node,
                f"holiday {name} ({start}–{end}) overlaps {prev[2]} ({prev[0]}–{prev[1]}, "
                f"line {prev[3].line})",
            )
        d = start
        while d <= end:
            holidays.setdefault(d, name)
            holiday_at.setdefault(d, (name, node))
            d += timedelta(days=1)
        if prev is None or end > prev[1]:
            prev = (start, end, name, node)
    return holidays, holiday_at


def _workdays(
    c: _CalendarReader,
    top: dict[str, YNode],
    year: int | None,
    holiday_at: dict[date, tuple[str, YNode]],
) -> dict[date, str]:
    """The valid make-up workdays (``workdays``) by date, with their names."""
    workdays: dict[date, str] = {}
    workday_at: dict[date, YNode] = {}
    for item in (c.seq(top["workdays"], "workdays") if "workdays" in top else None) or ():
        m = c.fields(item, "workday", ("date", "name"), ("date",))
        if m is None:
            continue
        day = c.day(m["date"], "workday date", year) if "date" in m else None
        name = c.text(m["name"], "workday name", NAME_MAX) if "name" in m else MAKEUP_NAME
        if day is None or name is None:
            continue
        problem = _workday_problem(day, holiday_at, workday_at)
        if problem:
            c.err(m["date"], problem)
        else:
            workdays[day] = name
            workday_at[day] = m["date"]
    return workdays


def _workday_problem(
    day: date, holiday_at: dict[date, tuple[str, YNode]], workday_at: dict[date, YNode]
) -> str | None:
    """Why ``day`` cannot be a make-up workday (a weekday, a holiday, listed twice), if so."""
    if day.weekday() < 5:
        return (
            f"workday {day} is a weekday (星期{WEEKDAYS_ZH[day.weekday()]}); a make-up "
            "working day (调休上班) must be a Saturday or Sunday"
        )
    if day in holiday_at:
        hname, hnode = holiday_at[day]
        return (
            f"{day} is listed both as a workday and inside the holiday {hname} (line {hnode.line})"
        )
    if day in workday_at:
        return f"workday {day} is listed twice (first at line {workday_at[day].line})"
    return None
