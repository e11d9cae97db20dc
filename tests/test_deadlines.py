"""Deadlines on the working calendar: across the 2026 National Day break, and into 2027
before and after the office loads 2027's calendar."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from workflow import service
from workflow.clock.calendar import WorkCalendar, due_instant
from workflow.clock.calendar_load import load_calendar_file
from workflow.definition.registry import DEFAULT_DIR, sync_definitions
from workflow.models import ClockInstance, Event, Issue

EXAMPLE_2027 = DEFAULT_DIR / "calendars" / "2027.example.yaml"


def _sign_for_clock(world, issue_id: int) -> ClockInstance:
    with world.db.reading() as s:
        return s.scalars(
            select(ClockInstance).where(
                ClockInstance.issue_id == issue_id, ClockInstance.clock == "sign_for"
            )
        ).one()


def test_sign_for_deadline_skips_national_day_and_counts_make_up_saturday(sqlite_world):
    world = sqlite_world
    world.clock.set(datetime(2026, 9, 30, 1, 0, tzinfo=UTC))  # Wed 09:00 Beijing
    with world.db.writing() as s:
        issue = service.open_issue(
            s,
            "rectification",
            {"title": "t", "unit": "HZ-XH-LY"},
            world.user(s, "office"),
            world.clock(),
        )
    inst = _sign_for_clock(world, issue.id)
    # 10-08 Thu, 10-09 Fri, 10-10 Sat (make-up workday), 10-12 Mon, 10-13 Tue
    assert inst.due_at == datetime(2026, 10, 13, 15, 59, 59, 999999, tzinfo=UTC)
    assert inst.provisional is False


def test_a_deadline_into_2027_is_provisional_until_2027_is_loaded(sqlite_world, tmp_path: Path):
    world = sqlite_world
    # a definition whose sign-for clock runs 40 working days: across the 2027 Spring Festival
    defs = tmp_path / "definitions"
    defs.mkdir()
    for path in DEFAULT_DIR.glob("*.yaml"):
        shutil.copy(path, defs / path.name)
    rect = defs / "rectification.yaml"
    text = rect.read_text("utf-8")
    start = text.index("  sign_for:\n    label: {zh: 签收时限")
    amount = text.index("amount: 5", start)
    rect.write_text(text[:amount] + "amount: 40" + text[amount + len("amount: 5") :], "utf-8")
    world.clock.set(datetime(2026, 12, 28, 1, 0, tzinfo=UTC))
    with world.db.writing() as s:
        sync_definitions(s, world.clock(), defs)
        issue = service.open_issue(
            s,
            "rectification",
            {"title": "t", "unit": "HZ-XH-LY"},
            world.user(s, "office"),
            world.clock(),
        )
        issue_id, version = issue.id, issue.version
    before = _sign_for_clock(world, issue_id)
    assert before.provisional is True
    with world.db.reading() as s:
        assert s.get(Issue, issue_id).due_provisional is True
        guess, provisional = due_instant(
            WorkCalendar.from_session(s), world.clock(), "working_days", 40, "Asia/Shanghai"
        )
    assert provisional and before.due_at == guess

    world.clock.set(datetime(2026, 12, 29, 1, 0, tzinfo=UTC))
    with world.db.writing() as s:
        load_calendar_file(s, EXAMPLE_2027)
        moved = service.recompute_deadlines(s, world.clock())
    assert [(i.id, clock) for i, clock, _old, _new in moved] == [(issue_id, "sign_for")]
    after = _sign_for_clock(world, issue_id)
    assert after.provisional is False
    assert after.due_at > before.due_at  # the Spring Festival break pushed it back
    with world.db.reading() as s:
        expected, provisional = due_instant(
            WorkCalendar.from_session(s),
            datetime(2026, 12, 28, 1, 0, tzinfo=UTC),
            "working_days",
            40,
            "Asia/Shanghai",
        )
        assert not provisional and after.due_at == expected
        issue = s.get(Issue, issue_id)
        assert issue.due_at == after.due_at and not issue.due_provisional
        assert issue.version == version + 1
        ev = s.scalars(select(Event).where(Event.action == "deadline_recomputed")).one()
        assert ev.issue_id == issue_id and ev.data["clock"] == "sign_for"
