"""`rectiflow import-issues|export-ledger|export-stats`: the 问题清单 in, the 台账 out."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from web.database import get_database, parse_now
from web.locale import say


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def _user(session, username: str):  # type: ignore[no-untyped-def]
    from workflow.models import User

    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        _fail(f"no user {username!r}")
    return user


@click.command("import-issues")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "username", required=True, help="The inspection office user importing.")
@click.option("--dry-run", is_flag=True, help="Check every row; write nothing.")
@click.option("--valid-only", is_flag=True, help="Import the valid rows even if others are bad.")
@click.option("--allow-past-dates", is_flag=True, help="Accept due dates before today.")
def import_issues(file: str, username: str, dry_run: bool, valid_only: bool,
                  allow_past_dates: bool) -> None:  # fmt: skip
    """Import a 问题清单 (.xlsx) as issues; re-importing creates nothing twice."""
    from workflow.imports.excel import import_issues as run

    with get_database().writing() as session:
        report = run(session, file, _user(session, username), parse_now(None), dry_run=dry_run,
                     valid_only=valid_only, allow_past=allow_past_dates)  # fmt: skip
    for msg in report.errors:
        click.echo(say(msg), err=True)
    if report.errors_truncated:
        click.echo("… more problems not shown", err=True)
    click.echo(f"{report.rows} rows: {report.valid} valid, {report.invalid} invalid, "
               f"{report.existing} already imported; {report.created} issues created")  # fmt: skip
    if not report.ok and not valid_only:
        _fail("nothing was imported" if not dry_run else "the file has problems")


def _filters(session, unit_code: str | None):  # type: ignore[no-untyped-def]
    from workflow.models import Unit
    from workflow.queries import Filters

    if not unit_code:
        return Filters()
    unit = session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None:
        _fail(f"no unit with code {unit_code!r}")
    return Filters(unit_id=unit.id)


@click.command("export-ledger")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.option("--unit", "unit_code", help="Only this unit's subtree.")
@click.option(
    "--as", "username", default="", help="Export what this user sees (default: office of the root)."
)
def export_ledger(file: str, unit_code: str | None, username: str) -> None:
    """Write the 整改台账 (.xlsx) of a unit subtree."""
    from workflow.queries.export import export_ledger as run

    with get_database().reading() as session:
        user = _user(session, username) if username else _root_office(session)
        n = run(session, user, file, parse_now(None), _filters(session, unit_code))
    click.echo(f"{n} issues written to {file}")


@click.command("export-stats")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.option("--unit", "unit_code", help="Only this unit's subtree.")
@click.option("--as", "username", default="", help="Count what this user sees.")
def export_stats(file: str, unit_code: str | None, username: str) -> None:
    """Write the statistics report (.xlsx, one sheet per dimension)."""
    from workflow.queries.export import export_statistics as run

    with get_database().reading() as session:
        user = _user(session, username) if username else _root_office(session)
        run(session, user, file, parse_now(None), _filters(session, unit_code))
    click.echo(f"statistics written to {file}")


def _root_office(session):  # type: ignore[no-untyped-def]
    """A stand-in user holding the office role on every root unit (the CLI sees everything)."""
    from datetime import UTC, datetime

    from workflow.models import Membership, Unit, User

    user = User(id=0, username="cli", display_name="cli", created_at=datetime.now(UTC))
    for unit in session.scalars(select(Unit).where(Unit.parent_id.is_(None))):
        user.memberships.append(Membership(role="office", unit=unit, unit_id=unit.id))
    return user


COMMANDS = [import_issues, export_ledger, export_stats]
