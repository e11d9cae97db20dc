"""Seeding the working calendar from the ``chinese-calendar`` package.

:func:`seed_from_packages` writes every year the ``chinese-calendar`` package covers
(2004–2026 with 1.11.0; the range is found by probing, the package raises
``NotImplementedError`` outside it) and skips years already loaded.  When the
``holidays`` package is importable (a test extra) each year is cross-checked against
``holidays.China``: a statutory holiday it lists that chinese-calendar calls a working
day is logged and returned as a warning, never applied.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.clock.calendar import invalidate_cache
from workflow.clock.calendar_load.apply import (
    _clip,
    _day_row,
    _days_of,
    _loaded_at,
    _now,
    _write_year,
)
from workflow.clock.calendar_load.spec import NAME_MAX, SeededYears
from workflow.models import CalendarYear

log = logging.getLogger(__name__)


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
