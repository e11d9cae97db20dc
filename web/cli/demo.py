"""`rectiflow demo`: load the demo province."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from web.database import get_database, parse_now


@click.command("demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has units.")
@click.option("--seed", default=2026, show_default=True)
@click.option("--issues-per-county", default=30, show_default=True)
@click.option("--now", "now_text", help="The demo's present instant (ISO-8601).")
def demo_command(if_empty: bool, seed: int, issues_per_county: int, now_text: str | None) -> None:
    """Load a demo province (units, people for every role, rounds, issues in every stage)."""
    from workflow.demo.province import DEMO_PASSWORD, build, is_empty

    database = get_database()
    with database.reading() as session:
        empty = is_empty(session)
    if not empty:
        if if_empty:
            click.echo("demo: the database already has data; left as it is")
            _print_accounts_hint()
            return
        raise click.ClickException("the database already has data; use a fresh instance")
    now = parse_now(now_text)
    demo = build(database, now, seed=seed, issues_per_county=issues_per_county)
    files = _write_files(database)
    click.echo(f"demo loaded: {demo.units} units, {demo.issues} issues, {demo.actions} actions, "
               f"{files} evidence files")  # fmt: skip
    for note in demo.notes:
        click.echo(f"  linkage story: {note}")
    click.echo(f"demo accounts (password for all: {DEMO_PASSWORD}):")
    for username, role, unit in demo.accounts:
        click.echo(f"  {username:22} {role:11} {unit}")


def _write_files(database: object) -> int:
    """The demo evidence rows' files, in the upload folder (sealed when EVIDENCE_CIPHER says)."""
    from web.evidence_files import storage
    from workflow.demo.steps import write_evidence_files

    where = storage()
    with database.reading() as session:  # type: ignore[attr-defined]
        return write_evidence_files(session, where["folder"], where["keyring"])


def _print_accounts_hint() -> None:
    click.echo("demo accounts: `rectiflow users list` (password for all demo accounts: demo-2026)")


COMMANDS = [demo_command]
