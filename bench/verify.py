"""Audit chain verification (``audit.verify``) in events per second, vs a raw DB-API loop.

The floor reads the same columns with the DB-API cursor and recomputes the same SHA-256
chain (``audit.event_hash`` over the same canonical content), without the ORM.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from bench import generate
from bench.common import Results, Row, Settings
from workflow import audit

COLS = ("id, issue_id, at, actor_id, actor_role, actor_unit_id, action, outcome, from_state, "
        "to_state, definition_version, data, prev_hash, hash")  # fmt: skip


def _instant(v: object) -> str:
    if isinstance(v, str):  # SQLite keeps the UTC text SQLAlchemy wrote
        v = datetime.fromisoformat(v).replace(tzinfo=UTC)
    assert isinstance(v, datetime)
    return audit.instant_text(v)


def raw_verify(ds: generate.Dataset, batch: int = 5000) -> int:
    """Recompute the chain with the DB-API; return the events checked."""
    db = ds.database()
    conn = db.engine.raw_connection()
    cur = conn.cursor()
    prev, last, n = audit.GENESIS, 0, 0
    p = "?" if ds.kind == "sqlite" else "%s"
    while True:
        cur.execute(f"SELECT {COLS} FROM event WHERE id > {p} ORDER BY id LIMIT {batch}", (last,))
        rows = cur.fetchall()
        if not rows:
            break
        for r in rows:
            data = json.loads(r[11]) if isinstance(r[11], str) else r[11]
            content = {
                "issue_id": r[1], "at": _instant(r[2]), "actor_id": r[3], "actor_role": r[4],
                "actor_unit_id": r[5], "action": r[6], "outcome": r[7], "from_state": r[8],
                "to_state": r[9], "definition_version": r[10], "data": data,
            }  # fmt: skip
            if r[12] != prev or audit.event_hash(prev, content) != r[13]:
                raise AssertionError(f"raw verify: chain broken at event {r[0]}")
            prev = r[13]
            n += 1
        last = rows[-1][0]
    conn.close()
    db.dispose()
    return n


def run(cfg: Settings, results: Results) -> None:
    """Events per second through audit.verify and through the raw loop."""
    for kind in cfg.dbs:
        ds: generate.Dataset = cfg.cache[f"base:{kind}"]
        db = ds.database()
        t = time.perf_counter()
        with db.reading() as s:
            res = audit.verify(s)
        secs = time.perf_counter() - t
        db.dispose()
        if not res.ok:
            results.note(f"verify on {kind}: chain broken at {res.first_bad_id} ({res.reason})")
            continue
        t = time.perf_counter()
        n = raw_verify(ds)
        raw = time.perf_counter() - t
        results.add(Row("audit verify", kind, f"audit.verify, {res.checked:,} events",
                        res.checked / secs, "events/s", n / raw, "raw DB-API + same SHA-256",
                        "report", None))  # fmt: skip
