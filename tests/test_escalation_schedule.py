"""``clock_instance.check_at``: every sweep schedules the deadlines it looked at on their
next rung, so an idle sweep reads none; starts, resumes and calendar loads make the next
sweep look again, and nothing fires late or twice because of it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.test_escalation import fired, local, open_rect
from workflow import service
from workflow.clock import escalation
from workflow.clock.calendar import WorkCalendar, rung_instant
from workflow.clock.calendar_load import load_calendar_file
from workflow.clock.escalation import sweep
from workflow.models import CHECK_NOW, ClockInstance, Issue

T0 = local(2026, 11, 2, 9)  # Monday; sign_for: 5 working days, remind_1 at -1, yellow +1, red +5


def deadline(db, issue_id: int, clock: str = "sign_for") -> ClockInstance:
    with db.reading() as s:
        inst = s.scalars(
            select(ClockInstance)
            .where(ClockInstance.issue_id == issue_id, ClockInstance.clock == clock)
            .order_by(ClockInstance.generation.desc())
            .limit(1)
        ).one()
        s.expunge(inst)
        return inst


def instant(db, due, at: int):
    with db.reading() as s:
        return rung_instant(WorkCalendar.from_session(s), due, at, "working_days")[0]


def test_each_sweep_moves_a_deadline_on_to_its_next_rung_then_retires_it(world):
    db = world.db
    with db.writing() as s:
        issue_id = open_rect(s, world, "HZ-XH-LY", "2026-12-31", T0).id
    assert deadline(db, issue_id).check_at == CHECK_NOW  # new: the next sweep looks at it
    due = deadline(db, issue_id).due_at
    remind, yellow, red = (instant(db, due, at) for at in (-1, 1, 5))
    assert sweep(db, T0 + timedelta(hours=1)).fired == 0  # nothing due: scheduled only
    assert deadline(db, issue_id).check_at == remind
    for at, expected_next, rung in ((remind, yellow, "remind_1"), (yellow, red, "yellow")):
        assert sweep(db, at - timedelta(minutes=1)).fired == 0
        assert sweep(db, at + timedelta(minutes=1)).fired == 1
        assert fired(db, issue_id)[-1][0] == rung
        assert deadline(db, issue_id).check_at == expected_next
    assert sweep(db, red + timedelta(minutes=1)).fired == 1
    assert deadline(db, issue_id).check_at is None  # every rung fired: never looked at again
    with db.reading() as s:
        assert s.scalar(select(ClockInstance.id).where(ClockInstance.check_at.is_not(None))) is None


def test_a_stopped_or_paused_deadline_is_retired_and_a_resumed_one_looked_at(sqlite_world):
    db, w = sqlite_world.db, sqlite_world

    def act(action: str, user: str, data: dict, at) -> None:
        with db.writing() as s:
            issue = s.get(Issue, issue_id)
            service.act(s, issue, action, w.user(s, user), data, issue.version, at)

    with db.writing() as s:
        issue_id = open_rect(s, w, "HZ-XH-LY", "2026-12-31", T0).id
    act("sign_for", "clerk", {}, T0 + timedelta(minutes=1))
    act("submit_plan", "clerk", {"measures": [{"text": "建立制度", "due_on": "2026-12-31"}]},
        T0 + timedelta(minutes=2))  # fmt: skip
    act("attest_plan", "head", {"attested": True}, T0 + timedelta(minutes=3))  # pauses 方案
    sweep(db, T0 + timedelta(hours=1))
    assert deadline(db, issue_id, "sign_for").check_at is None  # stopped by sign_for
    assert deadline(db, issue_id, "plan").status == "paused"
    assert deadline(db, issue_id, "plan").check_at is None  # paused: nothing can fire
    act("reject_plan", "super", {"reason": "措施不具体"}, T0 + timedelta(days=3))  # resumes it
    plan = deadline(db, issue_id, "plan")
    assert plan.status == "running" and plan.check_at == CHECK_NOW
    sweep(db, T0 + timedelta(days=3, hours=1))
    assert deadline(db, issue_id, "plan").check_at == instant(db, plan.due_at, -7)


def test_loading_a_calendar_year_makes_the_next_sweep_look_again(sqlite_world, tmp_path):
    """A holiday declared on the reminder's day moves the reminder one working day
    earlier; the deadline, scheduled for the old day, is looked at again and the
    reminder fires on the new one."""
    db = sqlite_world.db
    with db.writing() as s:
        issue_id = open_rect(s, sqlite_world, "HZ-XH-LY", "2026-12-31", T0).id
    sweep(db, T0 + timedelta(hours=1))
    inst = deadline(db, issue_id)
    old = instant(db, inst.due_at, -1)
    assert inst.check_at == old
    day = (old + timedelta(hours=8)).date()  # the reminder's local day
    path = tmp_path / "2026.yaml"
    path.write_text(
        f"year: 2026\nsource: 测试\nholidays:\n  - {{name: 调休, from: {day}, to: {day}}}\n"
        "  - {name: 国庆节, from: 2026-10-01, to: 2026-10-07}\n",
        encoding="utf-8",
    )
    with db.writing() as s:
        load_calendar_file(s, path, now=T0 + timedelta(hours=2))
    assert deadline(db, issue_id).check_at == CHECK_NOW
    new = instant(db, inst.due_at, -1)
    assert new < old
    assert sweep(db, new + timedelta(minutes=1)).fired == 1
    assert [r for r, *_ in fired(db, issue_id)] == ["remind_1"]


def test_next_check_of_an_issue_in_a_final_state_is_none(sqlite_world):
    with sqlite_world.db.reading() as s:
        versions = escalation._versions(s)
        cal = WorkCalendar.from_session(s)
    d = next(d for _id, d in versions if d.name == "rectification")
    final = next(name for name, st in d.states.items() if st.final)
    bounds = escalation._Bounds(cal, T0)
    clock = next(iter(d.clocks))
    assert escalation.next_check(d, clock, "running", final, T0, set(), bounds) is None
    assert escalation.next_check(d, clock, "paused", "transferred", T0, set(), bounds) is None
