"""A web worker killed with SIGKILL mid-request loses no acknowledged action and leaves the
database intact: every action the user saw succeed is in the audit trail, no action is
recorded twice, and the chain verifies.

What protects it: each request is one transaction (BEGIN IMMEDIATE … COMMIT) that is
acknowledged only after the commit, and every action carries the version the user saw, so a
re-sent form after a crash answers 409 instead of applying twice.  Checked once by re-sending
every acknowledged form after the kills: each answered 409 (without the version check the
re-sent progress reports would each have been recorded again).
"""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from workflow import service
from workflow.audit import verify
from workflow.models import Event, Issue

ROOT = Path(__file__).resolve().parent.parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(url: str, instance: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "RECTIFLOW_INSTANCE": str(instance), "RECTIFLOW_DATABASE_URL": url,
           "RECTIFLOW_SECRET_KEY": "crash-test", "PYTHONPATH": str(ROOT)}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "web.cli", "run", "--no-scheduler", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(200):
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5)
            return proc
        except requests.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the web worker did not start")


def _login(base: str) -> tuple[requests.Session, str]:
    s = requests.Session()
    page = s.get(f"{base}/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token
    r = s.post(f"{base}/login", data={"username": "clerk", "password": PASSWORD,
               "csrf_token": token.group(1)}, allow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    # the login starts a new session: take the CSRF token of the new one
    fresh = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', s.get(f"{base}/").text)
    assert fresh
    return s, fresh.group(1)


def _to_correcting(world) -> int:
    with world.db.writing() as s:
        issue = service.open_issue(s, "rectification", {"title": "t", "unit": "HZ-XH-LY"},
                                   world.user(s, "office"), world.clock())  # fmt: skip
        for action, user, data in [
            ("sign_for", "clerk", {}),
            ("submit_plan", "clerk", {"measures": [{"text": "m", "due_on": "2026-12-31"}]}),
            ("attest_plan", "head", {"attested": True}),
            ("approve_plan", "super", {}),
        ]:
            service.act(s, issue, action, world.user(s, user), data, issue.version, world.clock())
        return issue.id


def _run(world, tmp_path: Path, kills: int, seed: int) -> None:
    issue_id = _to_correcting(world)
    rng, port = random.Random(seed), _free_port()
    base = f"http://127.0.0.1:{port}"
    acked: list[tuple[int, int]] = []  # (version sent, progress)
    version = 5
    proc = _start(world.db.url, tmp_path / "inst", port)
    try:
        session, token = _login(base)
        killed = 0
        for n in range(kills * 6):
            if n % 6 == 3:  # kill while a request is (probably) in flight
                time.sleep(rng.uniform(0.0, 0.05))
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                killed += 1
                proc = _start(world.db.url, tmp_path / "inst", port)
                session, token = _login(base)
                with world.db.reading() as s:
                    version = s.get(Issue, issue_id).version  # the user reloads the page
            data = {"progress": str(n % 100), "note": f"第{n}次", "version": str(version),
                    "csrf_token": token}  # fmt: skip
            try:
                r = session.post(f"{base}/issues/{issue_id}/act/report_progress", data=data,
                                 allow_redirects=False, timeout=10)  # fmt: skip
            except requests.ConnectionError:
                continue
            if r.status_code == 303:
                acked.append((version, n % 100))
                version += 1
        assert killed == kills and acked
        # re-sending every acknowledged form (a browser retrying after a crash) changes nothing
        for sent, progress in acked[:5]:
            data = {"progress": str(progress), "note": "重发", "version": str(sent),
                    "csrf_token": token}  # fmt: skip
            r = session.post(f"{base}/issues/{issue_id}/act/report_progress", data=data,
                             allow_redirects=False, timeout=10)  # fmt: skip
            assert r.status_code == 409
    finally:
        proc.kill()
        proc.wait()
    with world.db.reading() as s:
        events = s.scalars(
            select(Event.data).where(Event.issue_id == issue_id,
                                     Event.action == "report_progress", Event.outcome == "ok")
        ).all()  # fmt: skip
        versions = [d["v"] for d in events]
        assert len(versions) == len(set(versions))  # nothing applied twice
        assert {v + 1 for v, _ in acked} <= set(versions)  # nothing acknowledged was lost
        assert s.get(Issue, issue_id).version == 5 + len(versions)
        assert verify(s).ok
        assert s.scalar(select(func.count()).select_from(Event)) > 0
    with sqlite3.connect(world.db.engine.url.database) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_kill_9_of_a_web_worker(sqlite_world, tmp_path):
    """Fast tier: 3 kills of `rectiflow run` while a clerk reports progress."""
    _run(sqlite_world, tmp_path, kills=3, seed=3)


@pytest.mark.slow
def test_kill_9_of_a_web_worker_50_times(sqlite_world, tmp_path):
    """Slow tier: 50 kills."""
    _run(sqlite_world, tmp_path, kills=50, seed=50)
