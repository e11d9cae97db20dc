"""The database: engines and sessions, bulk-write helpers, migrations, backups, leases.

SQLite is the embedded default, PostgreSQL the scale-out path; everything here works on
both.  Nothing opens a connection at import.  Must not import flask or ``notifications``.
"""

from workflow.db.engine import (
    SQLITE_BUSY_TIMEOUT_MS,
    Database,
    allocate_ids,
    among,
    dialect_of,
    insert_plain,
    insert_returning,
    is_sqlite,
    make_engine,
    shared_database,
)

__all__ = [
    "SQLITE_BUSY_TIMEOUT_MS",
    "Database",
    "allocate_ids",
    "among",
    "dialect_of",
    "insert_plain",
    "insert_returning",
    "is_sqlite",
    "make_engine",
    "shared_database",
]
