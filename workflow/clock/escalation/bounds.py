"""Rung instants and due-date bounds: the calendar side of "is this rung due now?".

For each (definition version, clock, rung) the rung's offset is turned into one bound on
``clock_instance.due_at``.  ``calendar.rung_instant`` maps a due date to the rung's
instant and is monotonic in the due date, so the due dates whose rung instant is
``<= now`` are exactly those up to some date D*; D* is found by a binary search over a few
dates (a handful of calendar look-ups per rung, whatever the number of issues; kept per
calendar snapshot and local day), and the rung fires for the running instances with
``due_at < start of (D* + 1)`` — for ``at: 0``, ``due_at <= now``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from workflow.clock.calendar import WorkCalendar, rung_instant

_BOUND_CACHE: dict[tuple[Any, ...], tuple[datetime, bool]] = {}


class _Bounds:
    """Rung instants and due-date bounds, cached for one sweep."""

    def __init__(self, cal: WorkCalendar, now: datetime) -> None:
        self.cal, self.now = cal, now
        self._instant: dict[tuple[date, int, str, str], tuple[datetime, bool]] = {}
        self._bound: dict[tuple[int, str, str], tuple[datetime, bool]] = {}

    def instant(self, due: datetime, at: int, unit: str, tz: str) -> tuple[datetime, bool]:
        """The rung's instant for a due instant (cached per local due date)."""
        if at == 0:
            return due, False
        day = due.astimezone(ZoneInfo(tz)).date()
        key = (day, at, unit, tz)
        if key not in self._instant:
            self._instant[key] = rung_instant(self.cal, due, at, unit, tz)
        return self._instant[key]

    def _fires(self, day: date, at: int, unit: str, tz: str) -> bool:
        zone = ZoneInfo(tz)
        representative = datetime.combine(day, time(12), zone)
        return self.instant(representative, at, unit, tz)[0] <= self.now

    def due_bound(self, at: int, unit: str, tz: str) -> tuple[datetime, bool]:
        """``(B, provisional)``: instances with ``due_at < B`` have this rung due now."""
        if (at, unit, tz) not in self._bound:
            # B moves only at local midnight: kept per calendar snapshot and local day, so
            # sweeps every few minutes search once a day
            today = self.now.astimezone(ZoneInfo(tz)).date()
            key = (self.cal, today, self.now.tzinfo, at, unit, tz)
            found = _BOUND_CACHE.get(key)
            if found is None:
                if len(_BOUND_CACHE) > 1024:
                    _BOUND_CACHE.clear()
                found = _BOUND_CACHE[key] = self._search(at, unit, tz)
            self._bound[(at, unit, tz)] = found
        return self._bound[(at, unit, tz)]

    def _search(self, at: int, unit: str, tz: str) -> tuple[datetime, bool]:
        zone = ZoneInfo(tz)
        today = self.now.astimezone(zone).date()
        span = timedelta(days=3 * abs(at) + 40)
        lo, hi = today - span, today + span
        while not self._fires(lo, at, unit, tz):
            lo -= span
        while self._fires(hi, at, unit, tz):
            hi += span
        while (hi - lo).days > 1:  # invariant: fires(lo), not fires(hi)
            mid = lo + timedelta(days=(hi - lo).days // 2)
            if self._fires(mid, at, unit, tz):
                lo = mid
            else:
                hi = mid
        provisional = self.instant(datetime.combine(lo, time(12), zone), at, unit, tz)[1]
        return datetime.combine(hi, time(0), zone).astimezone(self.now.tzinfo), provisional
