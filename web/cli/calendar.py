"""`rectiflow calendar …`: the Chinese working-day calendar."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from web.database import get_database, parse_now


@click.group("calendar", cls=AppGroup)
def calendar_group() -> None:
    """Working calendar: statutory holidays and make-up working days (调休)."""


@calendar_group.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--now", "now_text", help="Instant to record (ISO-8601).")
def calendar_load(path: Path, now_text: str | None) -> None:
    """Load one year from a YAML or XLSX file, then recompute provisional deadlines."""
    from workflow.clock.calendar_load import CalendarFileError, load_calendar_file
    from workflow.service import recompute_deadlines

    now = parse_now(now_text)
    try:
        with get_database().writing() as session:
            result = load_calendar_file(session, path, now=now)
            moved = recompute_deadlines(session, now)
    except CalendarFileError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo("nothing was loaded", err=True)
        sys.exit(1)
    verb = "replaced" if result.replaced else "loaded"
    click.echo(
        f"{result.year} {verb}: {result.holidays} holiday(s), {result.makeup_days} make-up workday(s)"
    )
    click.echo(f"{len(moved)} provisional deadline(s) recomputed")


@calendar_group.command("years")
def calendar_years() -> None:
    """List the years whose calendar is loaded."""
    from workflow.models import CalendarYear

    with get_database().reading() as session:
        for row in session.scalars(select(CalendarYear).order_by(CalendarYear.year)):
            click.echo(f"{row.year}  {row.source}")


COMMANDS = [calendar_group]
