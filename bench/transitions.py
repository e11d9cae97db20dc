"""Transitions per second through ``service.act`` vs raw SQL doing the same writes.

Each transaction is one action on one issue in 整改中, alternating 申请延期
(``request_extension``, by the unit's clerk) and 驳回延期 (``reject_extension``, by the
province supervisor), so an issue returns to 整改中 and can be used again.  Both actions
notify (outbox rows for every recipient and channel) and append a hash-chained event.
The session, issue and user are loaded afresh per transaction, as a web request would.

The floor is raw DB-API SQL in one transaction: ``SELECT version`` → ``UPDATE issue …
WHERE id=? AND version=?`` → ``INSERT event`` → the same number of ``INSERT outbox`` rows
the service wrote per transaction on average.  The floor does not compute the hash chain.
"""

from __future__ import annotations

import multiprocessing as mp
import secrets
import sqlite3
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bench import generate
from bench.common import Results, Row, Settings, rate_for
from workflow import service
from workflow.db import Database
from workflow.models import Issue, Outbox, User

REQUEST = {"new_due": "2026-12-31", "reason": "需协调多部门，申请延期"}
REJECT = {"reason": "理由不充分，请按期完成"}


def _plan(ds: generate.Dataset, pool: list[int]) -> list[tuple[int, int]]:
    """(issue id, its unit clerk's user id) for the pool."""
    db = ds.database()
    units: dict[int, int] = {}
    with db.reading() as s:
        # in slices: a full data set has ~300,000 issues in 整改中, over SQLite's variable limit
        for at in range(0, len(pool), 20_000):
            part = pool[at : at + 20_000]
            units.update(s.execute(select(Issue.id, Issue.unit_id).where(Issue.id.in_(part))).all())
    db.dispose()
    return [(i, ds.users[(units[i], "unit_user")]) for i in pool]


def engine_worker(url: str, sync: str, plan: list[tuple[int, int]], sup: int, seconds: float,
                  now: datetime, start_at: float = 0.0, count: int = 0) -> tuple[int, float]:  # fmt: skip
    """Run service.act transactions for ``seconds`` (or ``count`` of them); return
    (transactions, seconds)."""
    db = Database(url, synchronous=sync)

    def step(i: int) -> None:
        issue_id, clerk = plan[(i // 2) % len(plan)]
        with db.writing() as s:
            issue = s.get(Issue, issue_id)
            if i % 2 == 0:
                user = s.get(User, clerk)
                service.act(s, issue, "request_extension", user, REQUEST, issue.version, now)
            else:
                user = s.get(User, sup)
                service.act(s, issue, "reject_extension", user, REJECT, issue.version, now)

    if start_at:
        time.sleep(max(0.0, start_at - time.time()))
    t0 = time.perf_counter()
    n = 0
    end = t0 + seconds
    # whole pairs only, so every issue is back in 整改中 at the end
    while (n < count if count else time.perf_counter() < end) or n % 2:
        step(n)
        n += 1
    elapsed = time.perf_counter() - t0
    db.dispose()
    return n, elapsed


def raw_worker(kind: str, url: str, path: str | None, sync: str, plan: list[tuple[int, int]],
               k_outbox: int, seconds: float, now: datetime, start_at: float = 0.0,
               tag: str = "") -> tuple[int, float]:  # fmt: skip
    """The floor: the same writes with raw DB-API SQL, one transaction each."""
    at = now.strftime("%Y-%m-%d %H:%M:%S.%f") if kind == "sqlite" else now
    if kind == "sqlite":
        conn: Any = sqlite3.connect(path, isolation_level=None, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={sync}")
        p = "?"
    else:
        import psycopg

        conn = psycopg.connect(generate.pg_dsn(url), autocommit=True)
        p = "%s"
    upd = (f"UPDATE issue SET state={p}, stage='correction', version={p}, updated_at={p} "
           f"WHERE id={p} AND version={p}")  # fmt: skip
    ev = ("INSERT INTO event (issue_id, at, actor_id, actor_role, action, outcome, from_state, "
          f"to_state, data, prev_hash, hash) VALUES ({','.join([p] * 11)})")  # fmt: skip
    ob = ("INSERT INTO outbox (dedupe_key, issue_id, recipient_id, channel, template, subject, "
          "body, payload, status, attempts, next_attempt_at, created_at) "
          f"VALUES ({','.join([p] * 12)})")  # fmt: skip
    salt = tag + secrets.token_hex(4)

    def step(i: int) -> None:
        issue_id, clerk = plan[(i // 2) % len(plan)]
        frm, to = (
            ("correcting", "extension_review") if i % 2 == 0 else ("extension_review", "correcting")
        )
        if kind == "sqlite":
            conn.execute("BEGIN IMMEDIATE")
            cur = conn
        else:
            conn.execute("BEGIN")
            cur = conn
        v = cur.execute(f"SELECT version FROM issue WHERE id={p}", (issue_id,)).fetchone()[0]
        cur.execute(upd, (to, v + 1, at, issue_id, v))
        cur.execute(ev, (issue_id, at, clerk, "unit_user", "request_extension", "ok", frm, to,
                         '{"v": 1}', "0" * 64, f"{salt}{i:012d}".ljust(64, "0")))  # fmt: skip
        for j in range(k_outbox):
            cur.execute(ob, (f"raw{salt}:{i}:{j}", issue_id, clerk, "in_app", "t", "【整改通】",
                             "问题", '{"issue_id": 1}', "pending", 0, at, at))  # fmt: skip
        conn.execute("COMMIT")

    if start_at:
        time.sleep(max(0.0, start_at - time.time()))
    t0 = time.perf_counter()
    n = 0
    end = t0 + seconds
    while time.perf_counter() < end or n % 2:
        step(n)
        n += 1
    elapsed = time.perf_counter() - t0
    conn.close()
    return n, elapsed


def _parallel(fn: Any, args_per_worker: list[tuple]) -> float:
    """Run ``fn`` in one process per args tuple, started together; return summed tx/s."""
    ctx = mp.get_context("fork")
    start_at = time.time() + 1.0
    with ctx.Pool(len(args_per_worker)) as pool:
        outs = pool.starmap(fn, [(*a, start_at) for a in args_per_worker])
    return sum(n / s for n, s in outs)


def _outbox_per_tx(db: Database) -> float:
    with db.reading() as s:
        return float(s.scalar(select(func.count()).select_from(Outbox)) or 0)


def run(cfg: Settings, results: Results) -> None:
    """Service vs raw, SQLite FULL/NORMAL (1 process), PostgreSQL (1 and 4 processes)."""
    for kind in cfg.dbs:
        ds = cfg.cache[f"base:{kind}"]
        pool = generate.correcting_pool(ds)
        plan = _plan(ds, pool)
        sup = ds.users[(ds.root_id, "supervisor")]
        now = ds.now + timedelta(hours=1)
        if kind == "sqlite":
            for sync, target in (("FULL", 0.5), ("NORMAL", 0.2)):
                work = generate.clone(ds, cfg.workdir, f"tx-{sync}")
                db = work.database(sync)
                before = _outbox_per_tx(db)
                n, secs = engine_worker(work.url, sync, plan, sup, cfg.seconds, now)
                k = max(1, round((_outbox_per_tx(db) - before) / n))
                db.dispose()
                rn, rsecs = raw_worker("sqlite", work.url, str(work.path), sync, plan, k,
                                       cfg.seconds, now)  # fmt: skip
                eng, raw = n / secs, rn / rsecs
                results.add(Row("transitions", "sqlite", f"service.act, synchronous={sync}", eng,
                                "tx/s", raw, f"raw sqlite3, {k} outbox rows/tx", f"≥ {target}× raw",
                                eng / raw >= target))  # fmt: skip
                work.drop()
        else:
            ds_pg = ds
            half = len(plan) // 4 * 4
            db = ds_pg.database()
            before = _outbox_per_tx(db)
            n, secs = engine_worker(ds_pg.url, "FULL", plan, sup, cfg.seconds, now)
            k = max(1, round((_outbox_per_tx(db) - before) / n))
            db.dispose()
            rn, rsecs = raw_worker("postgres", ds_pg.url, None, "FULL", plan, k, cfg.seconds, now)
            eng1, raw1 = n / secs, rn / rsecs
            results.add(Row("transitions", "postgres", "service.act, 1 process", eng1, "tx/s",
                            raw1, f"raw psycopg, 1 process, {k} outbox rows/tx", "≥ 0.5× raw",
                            eng1 / raw1 >= 0.5))  # fmt: skip
            slices = [plan[w:half:4] for w in range(4)]
            eng4 = _parallel(engine_worker, [(ds_pg.url, "FULL", s, sup, cfg.seconds, now)
                                             for s in slices])  # fmt: skip
            raw4 = _parallel(raw_worker, [("postgres", ds_pg.url, None, "FULL", s, k, cfg.seconds,
                                           now) for s in slices])  # fmt: skip
            results.add(Row("transitions", "postgres", "service.act, 4 processes", eng4, "tx/s",
                            raw4, "raw psycopg, 4 processes", "≥ 0.5× raw", eng4 / raw4 >= 0.5,
                            "chain appends serialise on one advisory lock"))  # fmt: skip


__all__ = ["engine_worker", "raw_worker", "run", "rate_for"]
