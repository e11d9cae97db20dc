"""Working-day arithmetic on the Chinese calendar, and deadline instants.

Owns the pure arithmetic: :class:`WorkCalendar` (an immutable snapshot of the
``work_calendar`` and ``calendar_year`` tables), adding working days, natural days and
calendar months, counting working days, and turning a due *date* into an absolute UTC
*instant* in the definition's time zone.  It never writes to the database; seeding and
loading years is :mod:`workflow.clock.calendar_load`.  Must not import flask.

Loaded and provisional years
    A year is *loaded* when it has a ``calendar_year`` row; then every day of it has a
    ``work_calendar`` row (statutory holidays and the make-up working weekends, 调休,
    included).  For a year that is not loaded the answer is *provisional*: Monday to
    Friday are working days except the fixed-date holidays January 1, May 1 and
    October 1–3 — no lunar holidays, no 调休.  Every function that may have looked at
    such a day says so (the ``bool`` in its result), so that callers can show the
    deadline as provisional and recompute it when the year is loaded; never a silent
    guess.

Conventions
    * ``add_working_days(d, n)`` counts from the day after ``d``: signed on a Friday,
      ``+1`` working day is the next working day (a make-up Sunday if there is one).
    * ``working_days_between(a, b)`` is the signed number of working days in ``(a, b]``.
    * A due date means the *end* of that day (23:59:59.999999 local); an escalation rung
      fires at the *start* (00:00 local) of its day.  Every instant returned is aware UTC.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import threading
import weakref
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.timezone import OFFICE_TIMEZONE

DEFAULT_TZ: Final = OFFICE_TIMEZONE
UNITS: Final = ("working_days", "natural_days", "months")
# (month, day) of the statutory holidays whose date never moves; the provisional rule
FIXED_HOLIDAYS: Final = frozenset({(1, 1), (5, 1), (10, 1), (10, 2), (10, 3)})

# per connection pool (one database; an engine and its execution_options() copies share
# it): the last snapshot read and the (count, max loaded_at) of calendar_year it saw
_cache: weakref.WeakKeyDictionary[Any, tuple[tuple[Any, ...], WorkCalendar]] = (
    weakref.WeakKeyDictionary()
)
_cache_lock = threading.Lock()


def provisional_is_workday(d: date) -> bool:
    """The rule for a year that is not loaded: Mon–Fri except Jan 1, May 1, Oct 1–3."""
    return d.weekday() < 5 and (d.month, d.day) not in FIXED_HOLIDAYS


class WorkCalendar:
    """An immutable snapshot of the working calendar.

    ``days`` maps each day of the loaded years to whether it is a working day;
    ``loaded_years`` are the years with a ``calendar_year`` row.  Days of other years
    follow :func:`provisional_is_workday`.
    """

    __slots__ = ("_days", "_loaded", "_prefix")

    def __init__(self, days: Mapping[date, bool], loaded_years: frozenset[int]) -> None:
        self._days: Mapping[date, bool] = MappingProxyType(dict(days))
        self._loaded = frozenset(loaded_years)
        # year -> running count of working days from 1 January (filled on first use; the
        # snapshot never changes, so neither do they)
        self._prefix: dict[int, list[int]] = {}

    def __repr__(self) -> str:
        years = sorted(self._loaded)
        span = f"{years[0]}–{years[-1]}" if years else "none"
        return f"<WorkCalendar loaded={span} ({len(years)} years)>"

    @property
    def days(self) -> Mapping[date, bool]:
        """Day → working day, for the loaded years (read-only)."""
        return self._days

    @property
    def loaded_years(self) -> frozenset[int]:
        """The years whose calendar is loaded."""
        return self._loaded

    # ------------------------------------------------------------------ reading

    @classmethod
    def from_session(cls, session: Session) -> WorkCalendar:
        """The snapshot as ``session`` sees the tables.

        Cached per engine, keyed by the count and latest ``loaded_at`` of
        ``calendar_year``: one cheap aggregate query when nothing changed, a full read
        after a year is loaded or replaced (even by another process).
        """
        from workflow.models import CalendarYear, WorkDay

        engine = _cache_owner(session.get_bind(mapper=CalendarYear.__mapper__))
        row = session.execute(
            select(func.count(CalendarYear.year), func.max(CalendarYear.loaded_at))
        ).one()
        key = (row[0], row[1])
        with _cache_lock:
            hit = _cache.get(engine)
        if hit is not None and hit[0] == key:
            return hit[1]
        years = frozenset(session.scalars(select(CalendarYear.year)))
        days = {
            d: bool(w)
            for d, w in session.execute(select(WorkDay.day, WorkDay.is_workday))
            if d.year in years
        }
        snapshot = cls(days, years)
        with _cache_lock:
            _cache[engine] = (key, snapshot)
        return snapshot

    # ------------------------------------------------------------------ days

    def is_loaded(self, year: int) -> bool:
        """Whether ``year`` has an official (loaded) calendar."""
        return year in self._loaded

    def is_workday(self, d: date) -> bool:
        """Whether ``d`` is a working day (provisional rule for a year not loaded)."""
        if d.year not in self._loaded:
            return provisional_is_workday(d)
        try:
            return self._days[d]
        except KeyError:
            raise LookupError(
                f"calendar year {d.year} is marked loaded but has no row for {d}"
            ) from None

    def add_working_days(self, d: date, n: int) -> tuple[date, bool]:
        """The ``n``-th working day after ``d`` (before, for ``n < 0``), and provisional.

        Counting starts the day after (before) ``d``; ``n == 0`` returns ``d`` itself.
        Provisional is true when any day looked at lies in a year not loaded.
        """
        if n == 0:
            return d, False
        provisional = False
        remaining = abs(n)
        one = timedelta(days=1 if n > 0 else -1)
        day = d
        while remaining:
            day += one
            if day.year not in self._loaded:
                provisional = True
            if self.is_workday(day):
                remaining -= 1
        return day, provisional

    def working_days_between(self, a: date, b: date) -> int:
        """Signed number of working days in ``(a, b]`` (negative when ``b < a``)."""
        if a == b:
            return 0
        if b < a:
            return -self.working_days_between(b, a)
        # running counts per year make this O(years) instead of a walk day by day: every
        # ledger row shows its working days left
        count = self._upto(b) - self._upto(a)
        for year in range(a.year, b.year):
            count += self._year(year)[-1]
        return count

    def _year(self, year: int) -> list[int]:
        """Working days from 1 January of ``year`` up to and including each day of it."""
        found = self._prefix.get(year)
        if found is None:
            found, n = [], 0
            day, end = date(year, 1, 1), date(year + 1, 1, 1)
            while day < end:
                n += self.is_workday(day)
                found.append(n)
                day += timedelta(days=1)
            self._prefix[year] = found
        return found

    def _upto(self, d: date) -> int:
        """Working days from 1 January of ``d``'s year up to and including ``d``."""
        return self._year(d.year)[d.timetuple().tm_yday - 1]

    def working_days_between_provisional(self, a: date, b: date) -> bool:
        """Whether :meth:`working_days_between` for ``a``, ``b`` used the provisional rule."""
        lo, hi = min(a, b), max(a, b)
        if lo == hi:
            return False
        return any(y not in self._loaded for y in range((lo + timedelta(days=1)).year, hi.year + 1))

    @staticmethod
    def add_natural_days(d: date, n: int) -> date:
        """``d`` plus ``n`` calendar days (any sign)."""
        return d + timedelta(days=n)

    @staticmethod
    def add_months(d: date, n: int) -> date:
        """``d`` plus ``n`` calendar months, clamped to the month's end (Jan 31 + 1 = Feb 28/29)."""
        y, m0 = divmod(d.year * 12 + (d.month - 1) + n, 12)
        last = _stdlib_calendar.monthrange(y, m0 + 1)[1]
        return date(y, m0 + 1, min(d.day, last))

    def add(self, d: date, amount: int, unit: str) -> tuple[date, bool]:
        """``d`` plus ``amount`` ``unit`` (working_days | natural_days | months), provisional.

        Only working days consult the calendar, so only they can be provisional here.
        """
        if unit == "working_days":
            return self.add_working_days(d, amount)
        if unit == "natural_days":
            return self.add_natural_days(d, amount), False
        if unit == "months":
            return self.add_months(d, amount), False
        raise ValueError(f"unknown unit {unit!r} (one of {', '.join(UNITS)})")


# ---------------------------------------------------------------------- instants


def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


def _aware(instant: datetime, what: str) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{what}: naive datetime given; Rectiflow uses aware UTC instants only")
    return instant


def local_date(instant: datetime, tz: str = DEFAULT_TZ) -> date:
    """The calendar date of ``instant`` in ``tz``."""
    return _aware(instant, "local_date").astimezone(_zone(tz)).date()


def end_of_day(d: date, tz: str = DEFAULT_TZ) -> datetime:
    """The last microsecond of ``d`` in ``tz`` (23:59:59.999999 local), as aware UTC."""
    return datetime.combine(d, time.max, tzinfo=_zone(tz)).astimezone(UTC)


def start_of_day(d: date, tz: str = DEFAULT_TZ) -> datetime:
    """The first instant of ``d`` in ``tz`` (00:00 local), as aware UTC."""
    return datetime.combine(d, time.min, tzinfo=_zone(tz)).astimezone(UTC)


def due_instant(
    cal: WorkCalendar, start: datetime, counts: str, amount: int, tz: str = DEFAULT_TZ
) -> tuple[datetime, bool]:
    """The deadline ``amount`` ``counts`` after ``start``: end of that local day, in UTC.

    ``counts`` is working_days | natural_days | months.  Working days count from the day
    after the local date of ``start`` (signed on Friday + 1 = the next working day).
    Provisional when a day looked at, or the due date itself, lies in a year not loaded —
    the same rule as a deadline given as an explicit date.
    """
    day, provisional = cal.add(local_date(start, tz), amount, counts)
    return end_of_day(day, tz), provisional or not cal.is_loaded(day.year)


def rung_instant(
    cal: WorkCalendar, due: datetime, at: int, unit: str, tz: str = DEFAULT_TZ
) -> tuple[datetime, bool]:
    """When an escalation rung ``at`` ``unit`` from ``due`` fires, and provisional.

    ``at == 0`` is ``due`` itself.  Otherwise ``at`` units are added to the local date of
    ``due`` (negative = before; working days skip non-working days) and the rung fires at
    the *start* of that day: T-7 working days is 00:00 of the 7th working day before the
    due date, +1 working day is 00:00 of the first working day after it.
    """
    if at == 0:
        return _aware(due, "rung_instant").astimezone(UTC), False
    day, provisional = cal.add(local_date(due, tz), at, unit)
    return start_of_day(day, tz), provisional


def working_days_left(cal: WorkCalendar, now: datetime, due: datetime, tz: str = DEFAULT_TZ) -> int:
    """Working days from today to the due date, signed (for countdowns).

    0 on the due date, 1 when the due date is the next working day, negative once
    overdue (-1 on the first working day after the due date).
    """
    return cal.working_days_between(local_date(now, tz), local_date(due, tz))


def invalidate_cache(engine: Any = None) -> None:
    """Forget the cached snapshot of ``engine``'s database (of every database when None).

    :mod:`workflow.clock.calendar_load` calls this after writing; the key check in
    :meth:`WorkCalendar.from_session` already catches loads by other processes.
    """
    with _cache_lock:
        if engine is None:
            _cache.clear()
        else:
            _cache.pop(_cache_owner(engine), None)


def _cache_owner(bind: Any) -> Any:
    """The connection pool behind an engine, an ``execution_options`` copy or a connection."""
    return getattr(bind, "engine", bind).pool
