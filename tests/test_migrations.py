"""Alembic migrations build the same schema as the models, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DatabaseError

from tests.conftest import PG_UP, PG_URL
from workflow.db import make_engine
from workflow.db.migrate import current, upgrade
from workflow.models import Base


def _check(engine):
    upgrade(engine)
    upgrade(engine)  # a second run is a no-op
    assert current(engine) is not None
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    for name, table in Base.metadata.tables.items():
        cols = {c["name"] for c in inspect(engine).get_columns(name)}
        assert {c.name for c in table.columns} == cols, name
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO event (at, action, outcome, data, prev_hash, hash) "
                "VALUES (CURRENT_TIMESTAMP, 'x', 'ok', '{}', 'p', 'h')"
            )
        )
        conn.execute(text("DELETE FROM event"))


def test_sqlite_migrations(tmp_path):
    _check(make_engine(f"sqlite:///{tmp_path / 'm.sqlite'}"))


@pytest.mark.postgres
@pytest.mark.skipif(not PG_UP, reason=f"no PostgreSQL server answers at {PG_URL}")
def test_postgres_migrations():
    schema = f"m_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(f"{PG_URL}?options=-csearch_path%3D{schema}")
    try:
        _check(engine)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
