"""`rectiflow definitions …`: check, list and migrate workflow definitions."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from web.database import get_database, parse_now


@click.group("definitions", cls=AppGroup)
def definitions_group() -> None:
    """Workflow definitions: check, list, migrate issues to a newer version."""


@definitions_group.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def definitions_check(paths: tuple[Path, ...]) -> None:
    """Validate definition files (default: the definitions folder); print every problem."""
    from workflow.definition import check_paths

    targets = list(paths) or [Path(current_app.config["DEFINITIONS_DIR"])]
    missing = [p for p in targets if not p.exists()]
    for p in missing:
        click.echo(f"{p}: no such file or directory", err=True)
    problems = check_paths([p for p in targets if p.exists()])
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems or missing:
        click.echo(f"{len(problems) + len(missing)} problem(s)", err=True)
        sys.exit(1)
    click.echo("all definitions are valid")


@definitions_group.command("list")
def definitions_list() -> None:
    """List stored definition versions and how many issues each pins."""
    from sqlalchemy import func

    from workflow.models import DefinitionVersion, Issue

    with get_database().reading() as session:
        rows = session.execute(
            select(DefinitionVersion, func.count(Issue.id))
            .outerjoin(Issue, Issue.definition_id == DefinitionVersion.id)
            .group_by(DefinitionVersion.id)
            .order_by(DefinitionVersion.name, DefinitionVersion.id)
        ).all()
    for dv, n in rows:
        click.echo(f"{dv.name:16} {dv.version[:12]}  {dv.loaded_at:%Y-%m-%d %H:%M}  {n} issue(s)")


@definitions_group.command("migrate")
@click.option("--name", "names", multiple=True, help="Definition name (default: all).")
@click.option("--map", "mappings", multiple=True, metavar="OLD=NEW", help="Map a removed state.")
@click.option("--allow-clock-changes", is_flag=True, help="Accept changed clock semantics.")
@click.option("--apply", "do_apply", is_flag=True, help="Move the issues (default: dry run).")
@click.option("--now", "now_text", help="Instant to record (ISO-8601).")
def definitions_migrate(
    names: tuple[str, ...],
    mappings: tuple[str, ...],
    allow_clock_changes: bool,
    do_apply: bool,
    now_text: str | None,
) -> None:
    """Move issues to the newest version of their definition, after a dry run."""
    from workflow.definition.registry import plan_migration, sync_definitions
    from workflow.models import DefinitionVersion
    from workflow.service import apply_migration

    state_map = {}
    for m in mappings:
        old, sep, new = m.partition("=")
        if not sep or not old or not new:
            raise click.BadParameter(f"{m!r} is not OLD=NEW", param_hint="--map")
        state_map[old] = new
    now = parse_now(now_text)
    blocked = False
    with get_database().writing() as session:
        sync_definitions(session, now, Path(current_app.config["DEFINITIONS_DIR"]))
        all_names = names or tuple(sorted(set(session.scalars(select(DefinitionVersion.name)))))
        for name in all_names:
            plan = plan_migration(session, name, state_map, allow_clock_changes)
            if not plan.per_version:
                click.echo(
                    f"{name}: every issue is on the newest version {plan.target.version[:12]}"
                )
                continue
            for dv, n, changes, blockers in plan.per_version:
                click.echo(f"{name}: {n} issue(s) {dv.version[:12]} → {plan.target.version[:12]}")
                for c in changes:
                    click.echo(f"  change: {c}")
                for b in blockers:
                    click.echo(f"  BLOCKED: {b}")
            blocked = blocked or plan.blocked
            if do_apply and not plan.blocked:
                moved = apply_migration(session, plan, state_map, now)
                click.echo(f"{name}: moved {moved} issue(s)")
    if blocked:
        click.echo("refused: resolve the blockers (--map OLD=NEW, --allow-clock-changes)", err=True)
        sys.exit(1)
    if not do_apply:
        click.echo("dry run: nothing changed (add --apply to move the issues)")


COMMANDS = [definitions_group]
