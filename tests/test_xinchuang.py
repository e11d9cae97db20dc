"""信创 readiness: no x86-only dependency, and only the plain PostgreSQL that openGauss and
KingbaseES also speak (no extension, standard types, the server functions docs/deploy.md lists)."""

from __future__ import annotations

import re
import tomllib
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_UP, PG_URL
from workflow.db import make_engine
from workflow.db.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
STANDARD_TYPES = {
    "integer", "bigint", "smallint", "character varying", "text", "boolean", "date",
    "timestamp with time zone", "timestamp without time zone", "numeric", "double precision",
    "json",
}  # fmt: skip


def _platform_wheels(package: dict) -> list[str]:
    """The wheel file names of a locked package that a Linux server could install."""
    names = [w["url"].rsplit("/", 1)[1] for w in package.get("wheels", [])]
    return [
        n for n in names if not re.search(r"-(win32|win_amd64|win_arm64|macosx_[^.]+)\.whl$", n)
    ]


def test_every_locked_dependency_installs_on_aarch64():
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    missing = []
    for package in lock["package"]:
        if package["name"] == "rectiflow" or not package.get("wheels"):
            continue
        wheels = _platform_wheels(package)
        if not wheels:
            continue  # a Windows/macOS-only package (pywin32): never installed on a server
        pure = any(w.endswith("-none-any.whl") for w in wheels)
        arm = any("aarch64" in w for w in wheels)
        if not (pure or arm):
            missing.append(package["name"])
    assert not missing, f"no pure or aarch64 wheel (x86-only): {missing}"


def test_every_postgres_function_the_code_names_is_documented():
    documented = (ROOT / "docs" / "deploy.md").read_text()
    used = set()
    for folder in ("workflow", "notifications", "web"):
        for path in (ROOT / folder).rglob("*.py"):
            used |= set(re.findall(r"\b(pg_[a-z_]+)\(", path.read_text()))
    used.discard("pg_args")  # our own helper's name, not a server function
    assert used, "the scan found no pg_ function at all: it is broken"
    assert not {f for f in used if f"`{f}`" not in documented}, "add them to docs/deploy.md"


@pytest.mark.postgres
@pytest.mark.skipif(not PG_UP, reason=f"no PostgreSQL server answers at {PG_URL}")
def test_the_migrated_schema_is_plain_postgresql():
    schema = f"x_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(f"{PG_URL}?options=-csearch_path%3D{schema}")
    try:
        upgrade(engine)
        with engine.connect() as conn:
            types = {
                (table, column, kind)
                for table, column, kind in conn.execute(
                    text(
                        "SELECT table_name, column_name, data_type FROM information_schema.columns "
                        "WHERE table_schema = :s"
                    ),
                    {"s": schema},
                )  # fmt: skip
            }
            extensions = set(conn.execute(text("SELECT extname FROM pg_extension")).scalars())
            languages = set(conn.execute(text(
                "SELECT l.lanname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "JOIN pg_language l ON l.oid = p.prolang WHERE n.nspname = :s"), {"s": schema}
            ).scalars())  # fmt: skip
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    assert types, "no columns read"
    odd = {t for t in types if t[2] not in STANDARD_TYPES}
    assert not odd, f"non-standard column types: {sorted(odd)}"
    assert extensions <= {"plpgsql"}, extensions
    assert languages <= {"plpgsql"}, languages
