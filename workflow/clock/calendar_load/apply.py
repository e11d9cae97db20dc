"""Writing one year of ``work_calendar`` rows and its ``calendar_year`` row.

Loading a year that is already loaded replaces it, inside the caller's transaction; every
running deadline is then looked at again by the next sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from workflow.clock.calendar import invalidate_cache
from workflow.clock.calendar_load.spec import DAY_SOURCE_MAX, YearLoad, YearSpec
from workflow.models import CHECK_NOW, CalendarYear, ClockInstance, WorkDay

log = logging.getLogger(__name__)


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
