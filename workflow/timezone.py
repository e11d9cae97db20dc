"""The time zone the offices work in: deadlines fall due and pages show times in it."""

from __future__ import annotations

from typing import Final
from zoneinfo import ZoneInfo

OFFICE_TIMEZONE: Final = "Asia/Shanghai"


def office_time(name: str | None = None) -> ZoneInfo:
    """The zone ``name`` (the offices' own when not given)."""
    return ZoneInfo(name or OFFICE_TIMEZONE)
