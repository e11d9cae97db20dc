"""Loading a year from a file (``rectiflow calendar load FILE``): read, validate, write.

When the State Council publishes next year's arrangement (usually Nov–Dec) the office
loads it from a small file with :func:`load_calendar_file`.  The whole file is validated
first; nothing is written unless it is entirely valid (:class:`CalendarFileError` lists
every problem, each with file and line, or sheet, row and column).  Callers then
recompute provisional deadlines (``workflow.service.recompute_deadlines``).  The formats
are described in :mod:`.yaml_file` and :mod:`.xlsx`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from workflow.clock.calendar_load.apply import load_year
from workflow.clock.calendar_load.spec import CalendarFileError, YearLoad, YearSpec
from workflow.clock.calendar_load.xlsx import parse_xlsx
from workflow.clock.calendar_load.yaml_file import parse_yaml


def load_calendar_file(session: Session, path: str | Path, now: datetime | None = None) -> YearLoad:
    """Validate and load one year from a YAML or XLSX file; replaces the year if loaded.

    Raises :class:`CalendarFileError` (nothing written) when the file has any problem.
    """
    spec = read_calendar_file(path)
    return load_year(session, spec, now)


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
