"""`rectiflow audit …`, `rectiflow backup` and `rectiflow restore`: operating the instance."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from web.database import get_database, parse_now
from web.locale import say


@click.group("audit", cls=AppGroup)
def audit_group() -> None:
    """The audit trail: verify the chain, anchor it with signed checkpoints."""


@audit_group.command("verify")
@click.option("--public-key", "public_key", type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="A published public key (default: the instance's).")  # fmt: skip
def audit_verify(public_key: Path | None) -> None:
    """Check the hash chain and the signed checkpoints; name the first problem."""
    from workflow.audit import verify
    from workflow.audit.anchor import key_dir, verifier, verify_checkpoints

    directory = key_dir(current_app.instance_path)
    check = verifier(directory, public_key)
    with get_database().reading() as session:
        result = verify(session)
        anchored = verify_checkpoints(session, check, directory) if check else []
    if not result.ok:
        click.echo(
            f"audit chain BROKEN at event {result.first_bad_id}: {result.reason} "
            f"({result.checked} event(s) before it verified)",
            err=True,
        )
    for problem in anchored:
        click.echo(f"audit checkpoint FAILED: {problem}", err=True)
    if not result.ok or anchored:
        sys.exit(1)
    note = "" if check else " (no checkpoint key yet: run `rectiflow audit checkpoint`)"
    click.echo(f"audit chain intact: {result.checked} event(s) verified ({result.algorithm}){note}")


@audit_group.command("checkpoint")
@click.option("--now", "now_text", help="Instant to record (ISO-8601).")
def audit_checkpoint(now_text: str | None) -> None:
    """Sign the current chain head (Ed25519, private key in <instance>/keys, not the database)."""
    from workflow.audit.anchor import key_dir, make_checkpoint, signing_key

    directory = key_dir(current_app.instance_path)
    key = signing_key(directory)
    with get_database().writing() as session:
        cp = make_checkpoint(session, key, directory, parse_now(now_text))
    if cp is None:
        click.echo("no events yet: nothing to checkpoint")
    else:
        click.echo(f"checkpoint at event {cp.event_id}: {cp.head_hash[:16]}…")


@audit_group.command("public-key")
def audit_public_key() -> None:
    """Print the checkpoints' public key (PEM) and its fingerprint, to publish."""
    from workflow.audit.anchor import fingerprint, key_dir, public_pem, signing_key

    public = signing_key(key_dir(current_app.instance_path)).public_key()
    click.echo(public_pem(public).decode().strip())
    click.echo(f"fingerprint (SHA-256): {fingerprint(public)}")


@click.group("evidence")
def evidence_group() -> None:
    """Evidence files at rest: SM4 sealing and its keys."""


@evidence_group.command("rotate-key")
@with_appcontext
def evidence_rotate_key() -> None:
    """Make a new SM4 key current and re-seal every evidence file under it (plaintext too)."""
    from workflow.service import vault

    config = current_app.config
    report = vault.rotate(config["UPLOAD_FOLDER"], config["KEYS_DIR"])
    click.echo(f"evidence key {report.key} is current: {report.resealed} file(s) re-sealed, "
               f"{report.sealed_plaintext} plaintext file(s) sealed")  # fmt: skip
    for problem in report.failed:
        click.echo(f"not re-sealed: {problem}", err=True)
    if report.failed:
        sys.exit(1)
    if str(config.get("EVIDENCE_CIPHER") or "none").lower() != "sm4":
        click.echo('note: EVIDENCE_CIPHER is not "sm4", so new uploads are still stored plain')


@click.command("backup")
@with_appcontext
@click.argument("target", type=click.Path(path_type=Path))
def backup_command(target: Path) -> None:
    """Write an online, consistent backup (SQLite VACUUM INTO / pg_dump) and the uploads."""
    from workflow.db.backup import BackupError, backup

    try:
        backup(get_database().engine, target, Path(current_app.config["UPLOAD_FOLDER"]))
    except BackupError as exc:
        raise click.ClickException(say(exc)) from None
    click.echo(f"backup written to {target}")


@click.command("restore")
@with_appcontext
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm replacing the current database.")
def restore_command(source: Path, yes: bool) -> None:
    """Replace the database with a backup (stop the app and scheduler first)."""
    from workflow.audit import verify
    from workflow.db.backup import BackupError, restore

    if not yes:
        raise click.ClickException("restore replaces the current database: add --yes to confirm")
    database = get_database()
    try:
        restore(database.engine, source, Path(current_app.config["UPLOAD_FOLDER"]))
    except BackupError as exc:
        raise click.ClickException(say(exc)) from None
    with database.reading() as session:
        result = verify(session)
    if not result.ok:
        raise click.ClickException(
            f"restored, but the audit chain is broken at {result.first_bad_id}"
        )
    click.echo(f"restored from {source}; audit chain intact ({result.checked} events)")


COMMANDS = [audit_group, evidence_group, backup_command, restore_command]
