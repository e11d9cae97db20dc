"""Profile of the hot path of ``service.act``: SQL statements per transaction and cProfile.

Runs the transition workload of :mod:`bench.transitions` (SQLite, synchronous=NORMAL, so
fsync does not hide the CPU cost) under cProfile and records the statements each
transaction sends, the top functions of ``workflow/`` by cumulative time and the top
functions overall by own time.
"""

from __future__ import annotations

import collections
import cProfile
import io
import pstats
import time
from typing import Any

from sqlalchemy import event

from bench import generate, transitions
from bench.common import Results, Row, Settings
from workflow.db import Database


def statements_per_tx(
    url: str, plan: list[tuple[int, int]], sup: int, now: Any
) -> tuple[float, list[str]]:
    """Statements one transaction sends (average over 20), and the commonest kinds."""
    seen: list[str] = []
    original = Database.__init__

    def init(self: Database, *a: Any, **k: Any) -> None:
        original(self, *a, **k)

        @event.listens_for(self.engine, "before_cursor_execute")
        def _count(_c: Any, _cur: Any, stmt: str, *_: Any) -> None:
            words = stmt.split()
            seen.append(
                " ".join(words[:3]) if words[0] != "SELECT" else f"SELECT … FROM {_table(stmt)}"
            )

    Database.__init__ = init  # type: ignore[method-assign]
    try:
        transitions.engine_worker(url, "NORMAL", plan, sup, 0.0, now, count=10)
        seen.clear()
        n, _ = transitions.engine_worker(url, "NORMAL", plan[10:], sup, 0.0, now, count=20)
    finally:
        Database.__init__ = original  # type: ignore[method-assign]
    common = [f"{c:>3} × {k}" for k, c in collections.Counter(seen).most_common(12)]
    return len(seen) / n, common


def _table(stmt: str) -> str:
    words = stmt.replace("\n", " ").split()
    return words[words.index("FROM") + 1] if "FROM" in words else "?"


def run(cfg: Settings, results: Results) -> None:
    """Profile the service's transition on a copy of the SQLite data set."""
    if "sqlite" not in cfg.dbs:
        results.note("profile skipped: it runs on SQLite")
        return
    ds = generate.clone(cfg.cache["template:sqlite"], cfg.workdir, "profile")
    plan = transitions._plan(ds, generate.correcting_pool(ds))
    sup = ds.users[(ds.root_id, "supervisor")]
    per_tx, common = statements_per_tx(ds.url, plan, sup, ds.now)
    prof = cProfile.Profile()
    c0, t0 = time.process_time(), time.perf_counter()
    prof.enable()
    n, secs = transitions.engine_worker(ds.url, "NORMAL", plan, sup, cfg.seconds, ds.now)
    prof.disable()
    cpu_ms = (time.process_time() - c0) / n * 1000
    wall_ms = (time.perf_counter() - t0) / n * 1000
    out = io.StringIO()
    st = pstats.Stats(prof, stream=out)
    st.sort_stats("cumulative").print_stats(r"workflow/", 18)
    st.sort_stats("tottime").print_stats(12)
    text = "\n".join(ln for ln in out.getvalue().splitlines() if ln.strip())
    header = (f"{n} transactions under cProfile: {cpu_ms:.1f} ms CPU and {wall_ms:.1f} ms wall "
              f"per transaction; {per_tx:.1f} SQL statements per transaction:\n  "
              + "\n  ".join(common))  # fmt: skip
    results.profiles["service.act"] = header + "\n\n" + text
    results.add(Row("profile", "sqlite", "SQL statements per service.act transaction", per_tx,
                    "stmts", 4 + 5, "raw floor: SELECT, UPDATE, INSERT event, 5 × INSERT outbox",
                    "report", None, f"{cpu_ms:.1f} ms CPU/tx under cProfile"))  # fmt: skip
    ds.drop()
