"""What a calendar file becomes: a validated :class:`YearSpec`, or a :class:`CalendarFileError`.

Also the limits every reader checks (name and source lengths, the years accepted) and what
loading and seeding return (:class:`YearLoad`, :class:`SeededYears`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

NAME_MAX = 64  # WorkDay.name
SOURCE_MAX = 200  # CalendarYear.source is 255; leaves room for " (file name)"
DAY_SOURCE_MAX = 128  # WorkDay.source
YEAR_MIN, YEAR_MAX = 1949, 2200
MAKEUP_NAME = "调休上班"
WEEKDAYS_ZH = "一二三四五六日"

_PLAIN_INT = re.compile(r"^[0-9]+$")


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
