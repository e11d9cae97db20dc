"""Crash safety of the outbox dispatcher: SIGKILL at random points loses nothing and
duplicates nothing; the database stays intact and the audit chain verifies.

What protects it: a row is claimed with a lease (``next_attempt_at`` pushed forward) in one
transaction and delivered and marked sent in another; the in-app write and the mark commit
together, and the inbox's unique (user, outbox) key makes a re-delivery a no-op.  Checked
once by running the clean dispatch before the lease expired: the rows the killed runs had
claimed were still pending (``assert 8 == 0``), i.e. without the lease's expiry they would
be lost; after it they are delivered exactly once.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from notifications.dispatch import dispatch_all
from tests.test_escalation import local, open_rect
from workflow.audit import verify
from workflow.clock.escalation import sweep
from workflow.models import InboxMessage, Outbox

ROOT = Path(__file__).resolve().parent.parent.parent
T0 = local(2026, 9, 8)
NOW = local(2026, 11, 2, 9)
DISPATCH = (
    "import sys; from datetime import datetime; from workflow.db import Database; "
    "from notifications.dispatch import dispatch_all; "
    "r = dispatch_all(Database(sys.argv[1]), datetime.fromisoformat(sys.argv[2]), {}, batch=5);"
    " print(r.sent, flush=True)"
)


def _seed(world, n: int) -> int:
    """n overdue issues, swept: in-app outbox rows waiting for delivery."""
    with world.db.writing() as s:
        for k in range(n):
            open_rect(s, world, "HZ-XH-LY", "2026-12-31", T0 + timedelta(seconds=k))
    sweep(world.db, NOW)
    with world.db.reading() as s:
        return s.scalar(select(func.count()).where(Outbox.channel == "in_app")) or 0


def _kill_loop(world, kills: int, seed: int) -> int:
    rng, killed = random.Random(seed), 0
    for _ in range(kills):
        proc = subprocess.Popen(
            [sys.executable, "-c", DISPATCH, world.db.url, NOW.isoformat()],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        time.sleep(rng.uniform(0.2, 1.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.communicate(timeout=60)
    return killed


def _assert_delivered_once(world, in_app: int) -> None:
    # a clean run after the claim lease has passed picks up whatever the kills left
    dispatch_all(world.db, NOW + timedelta(hours=1), {}, batch=50)
    with world.db.reading() as s:
        pending = s.scalar(
            select(func.count()).where(Outbox.channel == "in_app", Outbox.status != "sent")
        )
        assert pending == 0
        inbox = s.scalar(select(func.count()).select_from(InboxMessage))
        distinct = s.scalar(select(func.count(func.distinct(InboxMessage.outbox_id))))
        assert inbox == distinct == in_app  # nothing lost, nothing twice
        assert verify(s).ok
    path = world.db.engine.url.database
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_kill_9_during_dispatch_loses_and_duplicates_nothing(sqlite_world):
    """Fast tier: 5 random SIGKILLs of `dispatch_all`, then a clean run."""
    in_app = _seed(sqlite_world, 40)
    assert in_app > 0
    assert _kill_loop(sqlite_world, 5, seed=5) >= 1  # at least one run really died
    _assert_delivered_once(sqlite_world, in_app)


@pytest.mark.slow
def test_kill_9_during_dispatch_50_times(sqlite_world):
    """Slow tier: 50 random SIGKILLs over a bigger outbox."""
    in_app = _seed(sqlite_world, 150)
    _kill_loop(sqlite_world, 50, seed=50)
    _assert_delivered_once(sqlite_world, in_app)
