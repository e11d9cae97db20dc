"""Exactly-once effects under concurrency and crashes: several sweeps at once (threads and
processes, SQLite and PostgreSQL) and a sweep killed with SIGKILL at random points; letter
numbers stay unique and gap-free through all of it."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.test_escalation import local, open_rect
from workflow.audit import verify
from workflow.clock.escalation import sweep
from workflow.models import Escalation, Event, Lease, Letter, Outbox

ROOT = Path(__file__).resolve().parent.parent
T0 = local(2026, 9, 8)
NOW = local(2026, 11, 2, 9)  # sign_for (5 working days) long overdue: remind_1, yellow, red
# outbox rows per escalation for an issue of HZ-XH-LY (users × in_app+email):
# remind_1 → clerk, head; yellow → + the nearest supervisor (西湖区); red → + leader
OUTBOX_PER_RUNG = {"remind_1": 4, "yellow": 6, "red": 8}
SWEEP_SCRIPT = (
    "import sys; from datetime import datetime; from workflow.db import Database; "
    "from workflow.clock.escalation import sweep; "
    "r = sweep(Database(sys.argv[1]), datetime.fromisoformat(sys.argv[2]), batch=int(sys.argv[3]));"
    " print(r.fired, flush=True)"
)


def seed(world, n: int) -> None:
    with world.db.writing() as s:
        for k in range(n):
            open_rect(s, world, "HZ-XH-LY", "2026-12-31", T0 + timedelta(seconds=k))


def assert_exactly_once(db, n: int) -> None:
    """3 escalations per issue, 2 letters, one event each, every outbox row present once."""
    with db.reading() as s:
        escs = s.scalars(select(Escalation).where(Escalation.clock == "sign_for")).all()
        assert Counter(e.rung for e in escs) == {"remind_1": n, "yellow": n, "red": n}
        assert s.scalar(select(func.count()).select_from(Letter)) == 2 * n
        for kind in ("reminder", "supervision_notice"):  # numbered 1..n: unique, no gap
            numbers = s.scalars(select(Letter.number).where(Letter.kind == kind))
            assert sorted(int(re.search(r"第(\d+)号", x).group(1)) for x in numbers) == list(
                range(1, n + 1)
            )
        events = Counter(
            ev.data["escalation_id"]
            for ev in s.scalars(select(Event).where(Event.action.startswith("escalate:")))
        )
        assert len(events) == 3 * n and set(events.values()) == {1}
        per_esc = Counter(
            int(key.split(":")[0][3:])
            for key in s.scalars(select(Outbox.dedupe_key).where(Outbox.dedupe_key.like("esc%")))
        )
        for e in escs:
            assert per_esc[e.id] == OUTBOX_PER_RUNG[e.rung], (e.rung, per_esc[e.id])
        assert verify(s).ok
        assert s.scalar(select(func.count()).select_from(Lease)) == 0


def _popen(db_url: str, batch: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", SWEEP_SCRIPT, db_url, NOW.isoformat(), str(batch)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_concurrent_sweeps_in_threads_fire_once(world):
    n = 30
    seed(world, n)
    barrier = threading.Barrier(4)
    fired: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            fired.append(sweep(world.db, NOW, batch=7).fired)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(fired) == 3 * n  # no sweep claims an escalation another one recorded
    assert sweep(world.db, NOW).fired == 0
    assert_exactly_once(world.db, n)


def test_concurrent_sweeps_in_processes_fire_once(world):
    n = 30
    seed(world, n)
    procs = [_popen(world.db.url, 5) for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    assert sum(int(out.strip()) for out, _ in outs) == 3 * n
    assert_exactly_once(world.db, n)


def _kill_loop(world, kills: int, seed_: int) -> int:
    rng = random.Random(seed_)
    killed = 0
    for _ in range(kills):
        proc = _popen(world.db.url, 3)
        time.sleep(rng.uniform(0.3, 2.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.communicate(timeout=60)
    return killed


def test_kill_9_during_the_sweep_loses_and_duplicates_nothing(sqlite_world):
    """Fast tier: 5 random SIGKILLs, then a clean run; every effect exactly once."""
    n = 60
    seed(sqlite_world, n)
    _kill_loop(sqlite_world, 5, seed_=5)
    sweep(sqlite_world.db, NOW)
    assert_exactly_once(sqlite_world.db, n)


@pytest.mark.slow
def test_kill_9_during_the_sweep_50_times(sqlite_world):
    """Slow tier: 50 random SIGKILLs over a bigger data set."""
    n = 150
    seed(sqlite_world, n)
    killed = _kill_loop(sqlite_world, 50, seed_=50)
    assert killed >= 20
    sweep(sqlite_world.db, NOW)
    assert_exactly_once(sqlite_world.db, n)
