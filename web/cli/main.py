"""The `rectiflow` command: Flask's CLI group plus Rectiflow's own commands.

One entry point (``rectiflow run``, ``rectiflow routes``, ``rectiflow db upgrade`` …).
Commands are thin: they parse arguments, open a transaction, call ``workflow`` and print.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import FlaskGroup, routes_command, shell_command

from web import create_app
from web.database import get_database, parse_now


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=False)
def cli() -> None:
    """Rectiflow (整改通): track the rectification of inspection findings."""


cli.add_command(routes_command)
cli.add_command(shell_command)


@cli.group("db")
def db_group() -> None:
    """Database schema and reference data."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Migrate the schema, store the definitions, seed the working calendar."""
    from workflow.clock.calendar_load import seed_from_packages
    from workflow.db.migrate import upgrade
    from workflow.definition.registry import sync_definitions

    database = get_database()
    upgrade(database.engine)
    _start_audit_chain(database)
    with database.writing() as session:
        report = sync_definitions(
            session, parse_now(None), Path(current_app.config["DEFINITIONS_DIR"])
        )
        years = seed_from_packages(session)
    for name, version, new in report.loaded:
        click.echo(f"definition {name} {version[:12]} {'stored' if new else 'unchanged'}")
    for problem in report.problems:
        click.echo(f"definition skipped: {problem}", err=True)
    if years:
        click.echo(f"working calendar seeded for {min(years)}–{max(years)}")
    click.echo("database is up to date")


def _start_audit_chain(database: Any) -> None:
    """Fix the audit chain's hash (``AUDIT_HASH``) before its first event, or refuse a change."""
    from workflow.audit import start_chain

    algorithm = str(current_app.config.get("AUDIT_HASH") or "sha256").lower()
    try:
        with database.writing() as session:
            if start_chain(session, algorithm, parse_now(None)):
                click.echo(f"audit chain started with {algorithm}")
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def _add_area_commands(group: click.Group) -> None:
    """Add the commands each area's module contributes (its ``COMMANDS``)."""
    from web.cli import calendar, clock, definitions, demo, excel, issues, ops, tokens

    for module in (calendar, clock, definitions, demo, excel, issues, ops, tokens):
        for command in module.COMMANDS:
            group.add_command(command)


_add_area_commands(cli)


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="rectiflow")
