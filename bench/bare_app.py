"""The floor of the web figure: a bare Flask page reading the same 50 rows with raw SQL.

Served by gunicorn exactly like the real app (``bench.bare_app:app``); the database comes
from ``BENCH_DB_URL`` (a SQLAlchemy URL: ``sqlite:///…`` or ``postgresql+psycopg://…``).
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any

from flask import Flask, render_template_string, request

app = Flask(__name__)
URL = os.environ.get("BENCH_DB_URL", "")

PAGE = """<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>整改台账</title></head>
<body><table><thead><tr><th>编号</th><th>问题</th><th>状态</th><th>时限</th></tr></thead><tbody>
{% for r in rows %}<tr><td>{{ r[1] }}</td><td>{{ r[2] }}</td><td>{{ r[3] }}</td>
<td>{{ r[4] }}</td></tr>{% endfor %}</tbody></table></body></html>"""


_pool: list[Any] = []


def _conn() -> Any:
    """The worker's one connection, kept across requests as the app's pool keeps them."""
    # a sync worker serves one request at a time; connecting per request would cost
    # PostgreSQL milliseconds that the app does not pay
    if not _pool:
        if URL.startswith("sqlite"):
            _pool.append(sqlite3.connect(URL.split("///", 1)[1], check_same_thread=False))
        else:
            import psycopg

            dsn = URL.replace("postgresql+psycopg://", "postgresql://")
            _pool.append(psycopg.connect(dsn, autocommit=True))
    return _pool[0]


@app.get("/bare")
def bare() -> str:
    """50 issues of a unit subtree, raw SQL, a small template."""
    p = "?" if URL.startswith("sqlite") else "%s"
    prefix = request.args.get("prefix", "/1/")
    # the subtree as the app reads it, an index range ([/1/5/, /1/50)); SQLite cannot
    # use an index for LIKE 'prefix%' and would scan the whole table
    rows = (
        _conn()
        .execute(
            f"SELECT id, number, title, state, due_at FROM issue WHERE unit_path >= {p} "
            f"AND unit_path < {p} ORDER BY due_at, id LIMIT 50",
            (prefix, prefix[:-1] + "0"),
        )
        .fetchall()
    )
    return render_template_string(PAGE, rows=rows)
