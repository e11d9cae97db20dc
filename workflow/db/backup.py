"""Online, consistent backups and restores of the Rectiflow database.

SQLite: ``VACUUM INTO`` writes a consistent copy while the app keeps writing (it reads one
snapshot); restore copies a backup back through SQLite's backup API, so the live file is
replaced page by page under SQLite's own locking.  PostgreSQL: ``pg_dump`` (custom format,
one snapshot) and ``pg_restore --clean``.  Uploaded evidence files are copied beside the
database backup.  Must not import flask.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess  # nosec B404 - runs pg_dump/pg_restore with argument lists, never a shell
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    """A backup or restore could not be made; the message says why."""


def _sqlite_path(engine: Engine) -> str:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return database


def _pg_args(url: str) -> tuple[list[str], dict[str, str]]:
    u = make_url(url)
    args = ["-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres"]
    env = {"PGPASSWORD": u.password} if u.password else {}
    options = u.query.get("options")
    if isinstance(options, str) and "search_path" in options:
        schema = options.split("search_path=")[-1].split()[0].replace("%3D", "=")
        args += ["-n", schema]
    return [*args, "-d", u.database or "postgres"], env


def backup(engine: Engine, target: Path, uploads: Path | None = None) -> Path:
    """Write a consistent backup of ``engine``'s database (and uploads) to ``target``."""
    target = Path(target)
    if target.exists():
        raise BackupError(f"{target} exists; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    if engine.dialect.name == "sqlite":
        source = _sqlite_path(engine)
        with sqlite3.connect(source, timeout=30) as conn:
            conn.execute("VACUUM INTO ?", (str(target),))
    else:
        args, env = _pg_args(engine.url.render_as_string(hide_password=False))
        _run(["pg_dump", "-Fc", "-f", str(target), *args], env)
    if uploads is not None and uploads.exists():
        shutil.copytree(uploads, target.with_name(target.name + ".uploads"))
    return target


def restore(engine: Engine, source: Path, uploads: Path | None = None) -> None:
    """Replace ``engine``'s database with the backup at ``source`` (stop writers first)."""
    source = Path(source)
    if not source.exists():
        raise BackupError(f"{source}: no such backup")
    engine.dispose()
    if engine.dialect.name == "sqlite":
        with sqlite3.connect(source) as src:
            if src.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError(f"{source} fails SQLite's integrity check")
            with sqlite3.connect(_sqlite_path(engine), timeout=30) as dst:
                src.backup(dst)
    else:
        args, env = _pg_args(engine.url.render_as_string(hide_password=False))
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", *args, str(source)], env)
    saved = source.with_name(source.name + ".uploads")
    if uploads is not None and saved.exists():
        shutil.copytree(saved, uploads, dirs_exist_ok=True)


def _run(cmd: list[str], env: dict[str, str]) -> None:
    import os

    if shutil.which(cmd[0]) is None:
        raise BackupError(f"{cmd[0]} is not installed (Debian package postgresql-client)")
    done = subprocess.run(  # nosec B603 - fixed program, argument list
        cmd, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"{cmd[0]} failed: {done.stderr.strip()[:500]}")
