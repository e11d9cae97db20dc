"""The escalation sweep over N open issues with 5 % newly overdue, vs set-based SQL.

``escalation.sweep(db, now)`` fires the yellow card that is newly due on 5 % of the open
issues (their reminders fired earlier; see ``bench.generate``): escalation rows, a
numbered letter each, hash-chained audit events, outbox rows, the warning level raised.
The floor does the same writes with hand-written set-based SQL in one transaction (on
PostgreSQL one statement of chained CTEs; on SQLite five statements), without the hash
chain and with a constant letter text.  A re-run with nothing new due is timed too, and
the sweep's peak Python memory (tracemalloc) is compared at two sizes.  The SQL statements
each sweep sends are counted (``before_cursor_execute``; an executemany counts once).
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from datetime import timedelta
from typing import Any

from sqlalchemy import event, func, select, text

from bench import generate
from bench.common import Results, Row, Settings
from workflow.clock.escalation import sweep
from workflow.models import Escalation, Outbox

BATCH = 500  # escalation.sweep's default batch

SQLITE_RAW = [
    """INSERT INTO escalation (issue_id, clock_instance_id, clock, rung, level, due_at, fired_at)
       SELECT ci.issue_id, ci.id, 'rectify', 'yellow', 'yellow', ci.due_at, :now
       FROM clock_instance ci JOIN issue i ON i.id = ci.issue_id
       WHERE ci.clock = 'rectify' AND ci.status = 'running' AND ci.due_at < :bound
         AND i.definition_id = :dv AND i.state NOT IN ('archived')
         AND NOT EXISTS (SELECT 1 FROM escalation e WHERE e.issue_id = ci.issue_id
                         AND e.clock_instance_id = ci.id AND e.rung = 'yellow')""",
    """INSERT INTO letter (number, issue_id, kind, issued_at, html)
       SELECT 'RAW-' || e.id, e.issue_id, 'reminder', :now, '<p>整改提醒函</p>'
       FROM escalation e WHERE e.fired_at = :now AND e.rung = 'yellow'""",
    """INSERT INTO event (issue_id, at, actor_role, action, outcome, from_state, to_state,
                          definition_version, data, prev_hash, hash)
       SELECT e.issue_id, :now, 'system', 'escalate', 'ok', i.state, i.state, :ver,
              '{"rung": "yellow"}', :zero, lower(hex(randomblob(32)))
       FROM escalation e JOIN issue i ON i.id = e.issue_id
       WHERE e.fired_at = :now AND e.rung = 'yellow'""",
    """WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < :k)
       INSERT INTO outbox (dedupe_key, issue_id, recipient_id, channel, template, subject, body,
                           payload, status, attempts, next_attempt_at, created_at)
       SELECT 'raw:' || e.id || ':' || k.n, e.issue_id, :uid, 'in_app', 'escalation',
              '【整改通】黄牌预警', '问题触发「黄牌预警」', '{}', 'pending', 0, :now, :now
       FROM escalation e CROSS JOIN k WHERE e.fired_at = :now AND e.rung = 'yellow'""",
    """UPDATE issue SET warning_level = 'yellow', version = version + 1
       WHERE warning_level = 'green'
         AND id IN (SELECT issue_id FROM escalation WHERE fired_at = :now AND rung = 'yellow')""",
]

PG_RAW = """
WITH due AS (
  SELECT ci.issue_id, ci.id AS cid, ci.due_at, i.state
  FROM clock_instance ci JOIN issue i ON i.id = ci.issue_id
  WHERE ci.clock = 'rectify' AND ci.status = 'running' AND ci.due_at < :bound
    AND i.definition_id = :dv AND i.state NOT IN ('archived')
    AND NOT EXISTS (SELECT 1 FROM escalation e WHERE e.issue_id = ci.issue_id
                    AND e.clock_instance_id = ci.id AND e.rung = 'yellow')),
esc AS (
  INSERT INTO escalation (issue_id, clock_instance_id, clock, rung, level, due_at, fired_at)
  SELECT issue_id, cid, 'rectify', 'yellow', 'yellow', due_at, :now FROM due
  ON CONFLICT DO NOTHING RETURNING id, issue_id),
let AS (
  INSERT INTO letter (number, issue_id, kind, issued_at, html)
  SELECT 'RAW-' || id, issue_id, 'reminder', :now, '<p>整改提醒函</p>' FROM esc RETURNING 1),
ev AS (
  INSERT INTO event (issue_id, at, actor_role, action, outcome, from_state, to_state,
                     definition_version, data, prev_hash, hash)
  SELECT esc.issue_id, :now, 'system', 'escalate', 'ok', due.state, due.state, :ver,
         '{"rung": "yellow"}', :zero, md5(random()::text) || md5(esc.id::text)
  FROM esc JOIN due ON due.issue_id = esc.issue_id RETURNING 1),
ob AS (
  INSERT INTO outbox (dedupe_key, issue_id, recipient_id, channel, template, subject, body,
                      payload, status, attempts, next_attempt_at, created_at)
  SELECT 'raw:' || esc.id || ':' || k, esc.issue_id, :uid, 'in_app', 'escalation',
         '【整改通】黄牌预警', '问题触发「黄牌预警」', '{}', 'pending', 0, :now, :now
  FROM esc CROSS JOIN generate_series(1, :k) AS k RETURNING 1)
UPDATE issue SET warning_level = 'yellow', version = version + 1
WHERE warning_level = 'green' AND id IN (SELECT issue_id FROM esc)
"""


def _count(db: Any, model: Any) -> int:
    with db.reading() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def engine_sweep(ds: generate.Dataset) -> dict[str, Any]:
    """Sweep once (timed), then again with nothing new due (timed); statements of each."""
    db = ds.database()
    before_out = _count(db, Outbox)
    before_esc = _count(db, Escalation)
    sent: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda _c, _cu, stmt, *_a: sent.append(stmt))
    t = time.perf_counter()
    report = sweep(db, ds.now)
    first = time.perf_counter() - t
    statements = len(sent)
    fired = _count(db, Escalation) - before_esc
    outbox_rows = _count(db, Outbox) - before_out
    reruns = []
    for _ in range(5):
        sent.clear()
        t = time.perf_counter()
        again = sweep(db, ds.now)
        reruns.append(time.perf_counter() - t)
        assert again.fired == 0, "a re-run fired again"
    db.dispose()
    return {"seconds": first, "fired": fired, "outbox": outbox_rows, "rerun": sorted(reruns)[2],
            "batches": report.batches, "statements": statements,
            "rerun_statements": len(sent)}  # fmt: skip


def peak_memory(ds: generate.Dataset) -> int:
    """Peak bytes Python allocated during one sweep (tracemalloc)."""
    db = ds.database()
    gc.collect()
    tracemalloc.start()
    sweep(db, ds.now)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    db.dispose()
    return peak


def raw_sweep(ds: generate.Dataset, k: int, version: str) -> tuple[float, int]:
    """The floor; returns (seconds, escalation rows written)."""
    db = ds.database()
    uid = ds.users[(ds.root_id, "supervisor")]
    params = {"now": ds.now, "bound": ds.now - timedelta(days=1), "dv": ds.definition_id,
              "ver": version, "zero": "0" * 64, "k": k, "uid": uid}  # fmt: skip
    before = _count(db, Escalation)
    t = time.perf_counter()
    with db.writing() as s:
        if ds.kind == "sqlite":
            p = dict(params, now=ds.now.strftime("%Y-%m-%d %H:%M:%S.%f"),
                     bound=params["bound"].strftime("%Y-%m-%d %H:%M:%S.%f"))  # fmt: skip
            for stmt in SQLITE_RAW:
                s.execute(text(stmt), p)
        else:
            s.execute(text(PG_RAW), params)
    seconds = time.perf_counter() - t
    n = _count(db, Escalation) - before
    db.dispose()
    return seconds, n


def _version(ds: generate.Dataset) -> str:
    db = ds.database()
    with db.reading() as s:
        v = s.execute(
            text("SELECT version FROM definition_version WHERE id = :i"), {"i": ds.definition_id}
        ).scalar_one()
    db.dispose()
    return str(v)


def run(cfg: Settings, results: Results) -> None:
    """Engine sweep vs raw, re-run time, and peak memory at two sizes."""
    small_n, large_n = cfg.sweep_sizes
    for kind in cfg.dbs:
        base = cfg.cache[f"base:{kind}"]
        if kind == "sqlite":
            work = generate.clone(cfg.cache["template:sqlite"], cfg.workdir, "sweep")
        else:
            work = generate.build(kind, base.issues, base.units, cfg.workdir, name="sweep")
        eng = engine_sweep(work)
        work.drop()
        k = max(1, round(eng["outbox"] / max(eng["fired"], 1)))
        raw_s, raw_n = raw_sweep(base, k, _version(base))
        note = (f"{eng['fired']:,} rungs fired (engine), {raw_n:,} (raw), {k} outbox rows each; "
                f"{eng['statements']} SQL statements in {eng['batches']} batches "
                f"({eng['statements'] / max(eng['fired'], 1):.2f} per rung)")  # fmt: skip
        results.add(Row("sweep", kind, f"sweep, {base.issues:,} issues, 5 % newly due",
                        eng["seconds"] * 1000, "ms", raw_s * 1000, "set-based SQL, same writes",
                        "≤ 2× raw", eng["seconds"] <= 2 * raw_s, note))  # fmt: skip
        results.add(Row("sweep", kind, "re-run, nothing new due", eng["rerun"] * 1000, "ms",
                        target="≤ 10 ms", ok=eng["rerun"] <= 0.010,
                        note=f"{eng['rerun_statements']} SQL statements"))  # fmt: skip
    if "sqlite" in cfg.dbs:
        base = cfg.cache["base:sqlite"]
        small = generate.build("sqlite", small_n, max(200, base.units * small_n // large_n),
                               cfg.workdir, name="sweep-small")  # fmt: skip
        big = generate.clone(cfg.cache["template:sqlite"], cfg.workdir, "sweep-mem")
        p_small, p_big = peak_memory(small), peak_memory(big)
        testable = small.newly_due > BATCH
        results.add(Row("sweep", "sqlite", f"peak Python memory, {large_n:,} issues",
                        p_big / 2**20, "MiB", p_small / 2**20,
                        f"same sweep at {small_n:,} issues", "flat in N (ratio ≈ 1)",
                        p_big <= 1.5 * p_small if testable else None,
                        f"{small.newly_due:,} vs {big.newly_due:,} rungs due"
                        + ("" if testable else f"; both must exceed one batch ({BATCH}) to test "
                           "flatness: see --full")))  # fmt: skip
        small.drop()
        big.drop()
