"""Lost-update prevention under real concurrency (R6), on SQLite and PostgreSQL.

Threads, each with its own session, act on the same issues at once: two users submitting
forms opened on the same version, and eight writers racing the escalation sweep.  Exactly
one of two racing decisions wins, the loser learns what happened (Conflict with the
winner's change) and keeps their input, no update is lost, "database is locked" never
reaches a caller, and the audit chain verifies afterwards.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from workflow import audit, service
from workflow.clock.escalation import sweep
from workflow.models import Event, Issue

PLAN = [{"text": "召开专题会议研究整改", "due_on": "2026-12-31"}]
BARRIER_TIMEOUT = 20


def _act(world, issue_id, action, username, data, version="current"):
    """One request: its own session and transaction; a denied attempt is committed."""
    with world.db.write_session() as s:
        issue = s.get(Issue, issue_id)
        v = issue.version if version == "current" else version
        try:
            result = service.act(s, issue, action, world.user(s, username), data, v, world.clock())
        except service.Denied:
            s.commit()
            raise
        s.commit()
        return result


def _correcting_issue(world) -> int:
    """An issue of 灵隐街道 whose plan was approved: it takes progress reports."""
    with world.db.writing() as s:
        issue_id = service.open_issue(
            s,
            "rectification",
            {"title": "考核奖金发放不规范", "unit": "HZ-XH-LY"},
            world.user(s, "office"),
            world.clock(),
        ).id
    _act(world, issue_id, "sign_for", "clerk", {})
    _act(world, issue_id, "submit_plan", "clerk", {"measures": PLAN})
    _act(world, issue_id, "attest_plan", "head", {"attested": True})
    _act(world, issue_id, "approve_plan", "super", {})
    return issue_id


def _version(world, issue_id) -> int:
    with world.db.reading() as s:
        return s.get(Issue, issue_id).version


def _run(threads: list[threading.Thread], limit: float = 60) -> None:
    for t in threads:
        t.start()
    for t in threads:
        t.join(limit)
        assert not t.is_alive(), "a thread hung (deadlock?)"


# ------------------------------------------------------------------ (a) two users, one issue


def test_two_forms_on_the_same_version_one_wins_the_other_gets_a_conflict(world):
    """Two users submit forms opened on the same version at the same instant.

    Fails when the version check is removed: on SQLite removing service.act's
    ``expected_version`` comparison is enough for both submissions to succeed (the second
    overwrites the first); on PostgreSQL the ``version_id_col`` of Issue still catches the
    race, so it fails only with both removed.
    """
    issue_id = _correcting_issue(world)
    seen = _version(world, issue_id)  # both forms were rendered with this version
    inputs = {
        "clerk": ("report_progress", {"progress": 40, "note": "已完成四成"}),
        "head": ("request_extension", {"new_due": "2027-06-30", "reason": "需跨年度实施"}),
    }
    kept = {u: (a, dict(d)) for u, (a, d) in inputs.items()}
    barrier = threading.Barrier(2, timeout=BARRIER_TIMEOUT)
    outcome: dict[str, Any] = {}

    def submit(username: str) -> None:
        action, data = inputs[username]
        barrier.wait()
        try:
            outcome[username] = _act(world, issue_id, action, username, data, version=seen)
        except Exception as exc:  # recorded and asserted below
            outcome[username] = exc

    _run([threading.Thread(target=submit, args=(u,)) for u in inputs])

    winners = [u for u, r in outcome.items() if isinstance(r, service.ActResult)]
    losers = [u for u, r in outcome.items() if isinstance(r, service.Conflict)]
    assert len(winners) == 1 and len(losers) == 1, outcome
    winner, loser = winners[0], losers[0]
    conflict = outcome[loser]
    assert conflict.current_version == seen + 1
    assert [c["action"] for c in conflict.changes] == [inputs[winner][0]]
    assert inputs[loser] == kept[loser], "the loser's input is kept for the re-rendered form"
    assert _version(world, issue_id) == seen + 1
    with world.db.reading() as s:
        events = [
            e
            for e in s.scalars(select(Event).where(Event.issue_id == issue_id))
            if e.outcome == "ok" and e.data.get("v", 0) > seen
        ]
        assert [e.action for e in events] == [inputs[winner][0]]
        assert audit.verify(s).ok
    # the loser resubmits the kept input on the version they were shown now
    action, data = inputs[loser]
    try:
        _act(world, issue_id, action, loser, data, version=conflict.current_version)
    except service.Denied:
        # the winner moved the issue on (extension under review): no report possible now
        assert winner == "head" and loser == "clerk"
    else:
        assert _version(world, issue_id) == seen + 2


@pytest.mark.postgres
def test_two_writers_that_both_loaded_the_row_one_wins(pg_world):
    """Both transactions load the issue at version v, then race their UPDATEs (PostgreSQL).

    Only PostgreSQL lets two writers hold the same row version at once (SQLite's BEGIN
    IMMEDIATE queues the second writer before it reads).  Fails when Issue loses its
    ``version_id_col`` (models.py): the second UPDATE then matches the row, both commit,
    and the first report is lost.
    """
    issue_id = _correcting_issue(pg_world)
    seen = _version(pg_world, issue_id)
    loaded = threading.Barrier(2, timeout=BARRIER_TIMEOUT)
    outcome: dict[int, Any] = {}

    def submit(progress: int) -> None:
        with pg_world.db.write_session() as s:
            issue = s.get(Issue, issue_id)
            assert issue.version == seen
            user = pg_world.user(s, "clerk")
            loaded.wait()
            try:
                outcome[progress] = service.act(
                    s,
                    issue,
                    "report_progress",
                    user,
                    {"progress": progress},
                    seen,
                    pg_world.clock(),
                )
                s.commit()
            except Exception as exc:
                s.rollback()
                outcome[progress] = exc

    _run([threading.Thread(target=submit, args=(p,)) for p in (30, 70)])
    wins = [p for p, r in outcome.items() if isinstance(r, service.ActResult)]
    conflicts = [r for r in outcome.values() if isinstance(r, service.Conflict)]
    assert len(wins) == 1 and len(conflicts) == 1, outcome
    assert [c["action"] for c in conflicts[0].changes] == ["report_progress"]
    with pg_world.db.reading() as s:
        issue = s.get(Issue, issue_id)
        assert (issue.version, issue.progress) == (seen + 1, wins[0])
        assert audit.verify(s).ok


# ------------------------------------------------------------------ (b) writers + the sweep

WRITERS = 8
ROUNDS = 12


def test_eight_writers_and_the_sweep_lose_no_update(world):
    """Eight writers report progress on their own issues while the sweep escalates them.

    Each writer sets progress to the number of reports it got through, retrying on
    Conflict (the sweep's card bumps the version under it).  Fails when the version check
    is bypassed (a bulk UPDATE of issue without ``version = version + 1`` in the sweep, or
    no version_id_col): a report then overwrites a card silently and the version count no
    longer adds up; fails with "database is locked" when writers do not BEGIN IMMEDIATE
    (workflow/db.py) on SQLite.
    """
    issues = [_correcting_issue(world) for _ in range(WRITERS)]
    start = {i: _version(world, i) for i in issues}
    done: Counter[int] = Counter()
    conflicts: Counter[int] = Counter()
    errors: list[BaseException] = []
    stop = threading.Event()
    go = threading.Barrier(WRITERS + 1, timeout=BARRIER_TIMEOUT)

    def writer(issue_id: int) -> None:
        go.wait()
        try:
            while done[issue_id] < ROUNDS:
                seen = _version(world, issue_id)  # the form, rendered
                try:
                    _act(
                        world,
                        issue_id,
                        "report_progress",
                        "clerk",
                        {"progress": done[issue_id] + 1},
                        version=seen,
                    )
                except service.Conflict:
                    conflicts[issue_id] += 1
                    continue
                done[issue_id] += 1
        except BaseException as exc:
            errors.append(exc)

    def sweeper() -> None:
        # the rectify deadline is 2027-03-08: walk the sweep through its whole ladder
        go.wait()
        at = datetime(2027, 2, 20, 2, tzinfo=UTC)
        try:
            while not stop.is_set() and at < datetime(2027, 6, 1, tzinfo=UTC):
                sweep(world.db, at, batch=3)
                at += timedelta(days=4)
        except BaseException as exc:
            errors.append(exc)

    sweep_thread = threading.Thread(target=sweeper)
    started = time.monotonic()
    _run([threading.Thread(target=writer, args=(i,)) for i in issues] + [sweep_thread], 120)
    stop.set()
    elapsed = time.monotonic() - started
    assert not errors, f"a caller saw {errors[0]!r}"
    print(
        f"\n{WRITERS}×{ROUNDS} reports + sweep on {world.db.engine.dialect.name}: "
        f"{elapsed:.1f} s, {sum(conflicts.values())} conflicts retried"
    )

    with world.db.reading() as s:
        assert audit.verify(s).ok
        for issue_id in issues:
            issue = s.get(Issue, issue_id)
            reports = s.scalar(
                select(func.count(Event.id)).where(
                    Event.issue_id == issue_id,
                    Event.action == "report_progress",
                    Event.outcome == "ok",
                )
            )
            cards = s.scalars(
                select(Event).where(Event.issue_id == issue_id, Event.action.like("escalate:%"))
            ).all()
            raised = sum(1 for e in cards if "changes" in e.data)
            assert issue.progress == ROUNDS == reports, "a progress report was lost"
            assert issue.version == start[issue_id] + ROUNDS + raised, "a version bump was lost"
            assert issue.warning_level in ("yellow", "red")
