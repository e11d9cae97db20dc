"""Writing the working calendar: seeding from packages and loading each new year from a file.

Owns the rows of ``work_calendar`` and ``calendar_year``; the arithmetic on them is
:mod:`workflow.clock.calendar`.  Must not import flask.  Nothing here runs at import time.

- :mod:`.spec`: a validated year (:class:`YearSpec`), :class:`CalendarFileError`, the limits;
- :mod:`.seed`: every year the ``chinese-calendar`` package covers (:func:`seed_from_packages`);
- :mod:`.files`: ``rectiflow calendar load FILE`` (:func:`load_calendar_file`), read by
  :mod:`.yaml_file` or :mod:`.xlsx` (each describes its format);
- :mod:`.apply`: writing one year (:func:`load_year`).
"""

from workflow.clock.calendar_load.apply import load_year
from workflow.clock.calendar_load.files import load_calendar_file, read_calendar_file
from workflow.clock.calendar_load.seed import (
    cross_check,
    package_version,
    package_years,
    probe_years,
    seed_from_packages,
)
from workflow.clock.calendar_load.spec import (
    DAY_SOURCE_MAX,
    MAKEUP_NAME,
    NAME_MAX,
    SOURCE_MAX,
    YEAR_MAX,
    YEAR_MIN,
    CalendarFileError,
    SeededYears,
    YearLoad,
    YearSpec,
)
from workflow.clock.calendar_load.xlsx import parse_xlsx
from workflow.clock.calendar_load.yaml_file import parse_yaml

__all__ = [
    "DAY_SOURCE_MAX",
    "MAKEUP_NAME",
    "NAME_MAX",
    "SOURCE_MAX",
    "YEAR_MAX",
    "YEAR_MIN",
    "CalendarFileError",
    "SeededYears",
    "YearLoad",
    "YearSpec",
    "cross_check",
    "load_calendar_file",
    "load_year",
    "package_version",
    "package_years",
    "parse_xlsx",
    "parse_yaml",
    "probe_years",
    "read_calendar_file",
    "seed_from_packages",
]
