"""Working-day arithmetic on the seeded Chinese calendar (workflow.clock.calendar).

Every answer is read from a real SQLite database seeded by
``workflow.clock.calendar_load.seed_from_packages``, not from the package directly.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from workflow.clock.calendar import (
    WorkCalendar,
    due_instant,
    end_of_day,
    local_date,
    provisional_is_workday,
    rung_instant,
    start_of_day,
    working_days_left,
)
from workflow.clock.calendar_load import load_calendar_file, seed_from_packages
from workflow.db import Database
from workflow.models import Base, CalendarYear, WorkDay

SH = "Asia/Shanghai"
EXAMPLE_2027 = Path(__file__).resolve().parent.parent / "definitions/calendars/2027.example.yaml"


def D(text: str) -> date:
    return date.fromisoformat(text)


def Z(text: str) -> datetime:
    """An aware UTC instant from ISO text (a trailing Z allowed)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def beijing(text: str) -> datetime:
    """A Beijing wall-clock time (UTC+8) as an aware UTC instant."""
    return (datetime.fromisoformat(text) - timedelta(hours=8)).replace(tzinfo=UTC)


def _new_db(path: Path) -> Database:
    db = Database(f"sqlite:///{path}")
    Base.metadata.create_all(db.engine)
    return db


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Database:
    """A SQLite file with every year chinese-calendar covers (read-only for these tests)."""
    db = _new_db(tmp_path_factory.mktemp("cal") / "seeded.sqlite")
    with db.writing() as s:
        seed_from_packages(s)
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def cal(seeded) -> WorkCalendar:
    with seeded.reading() as s:
        return WorkCalendar.from_session(s)


@pytest.fixture
def db2026(tmp_path) -> Database:
    """A fresh database with 2026 only: 2027 is not loaded."""
    db = _new_db(tmp_path / "cal2026.sqlite")
    with db.writing() as s:
        seed_from_packages(s, years=[2026])
    yield db
    db.dispose()


# ------------------------------------------------------------------ the seeded table


def test_2026_national_day_rows_in_the_table(seeded):
    with seeded.reading() as s:
        rows = {
            r.day: r
            for r in s.scalars(
                select(WorkDay).where(WorkDay.day.between(D("2026-09-19"), D("2026-10-12")))
            )
        }
    for day in range(1, 8):
        row = rows[date(2026, 10, day)]
        assert (row.is_workday, row.kind, row.name) == (False, "holiday", "国庆节")
    assert (rows[D("2026-10-08")].is_workday, rows[D("2026-10-08")].kind) == (True, "workday")
    for makeup in ("2026-09-20", "2026-10-10"):  # Sunday and Saturday
        row = rows[D(makeup)]
        assert (row.is_workday, row.kind, row.name) == (True, "makeup", "国庆节调休")
    assert (rows[D("2026-10-11")].is_workday, rows[D("2026-10-11")].kind) == (False, "weekend")
    assert rows[D("2026-09-25")].kind == "holiday"  # 中秋节, a Friday
    assert rows[D("2026-09-25")].name == "中秋"  # the package's short name


def test_snapshot_matches_the_table(cal):
    assert cal.is_loaded(2004) and cal.is_loaded(2026) and not cal.is_loaded(2027)
    assert not cal.is_workday(D("2026-10-01"))
    assert cal.is_workday(D("2026-10-08"))
    assert cal.is_workday(D("2026-09-20")) and cal.is_workday(D("2026-10-10"))
    assert not cal.is_workday(D("2026-10-11"))


# ------------------------------------------------------------------ working days


@pytest.mark.parametrize(
    "start, n, expected",
    [
        ("2026-09-30", 1, "2026-10-08"),  # over the National Day break
        ("2026-09-18", 1, "2026-09-20"),  # Friday + 1 = the make-up Sunday
        ("2026-10-09", 1, "2026-10-10"),  # Friday + 1 = the make-up Saturday
        ("2026-09-30", 3, "2026-10-10"),  # 10-08, 10-09, 10-10
        ("2026-09-30", 5, "2026-10-13"),
        ("2026-10-03", 1, "2026-10-08"),  # counted from a holiday
        ("2026-10-08", -1, "2026-09-30"),  # backwards across the break
        ("2026-10-08", -2, "2026-09-29"),
        ("2026-10-10", -2, "2026-10-08"),
        ("2026-09-21", -1, "2026-09-20"),  # back onto the make-up Sunday
        ("2026-09-28", -1, "2026-09-24"),  # the weekend and 09-25 (中秋, Fri) skipped
        ("2026-09-28", -2, "2026-09-23"),
        ("2026-12-31", -1, "2026-12-30"),
        ("2026-10-01", 0, "2026-10-01"),  # zero returns the day itself, even a holiday
    ],
)
def test_add_working_days(cal, start, n, expected):
    assert cal.add_working_days(D(start), n) == (D(expected), False)


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ("2026-09-30", "2026-10-08", 1),
        ("2026-09-30", "2026-10-10", 3),
        ("2026-09-30", "2026-10-07", 0),  # the whole break
        ("2026-10-08", "2026-09-30", -1),
        ("2026-09-18", "2026-09-21", 2),  # make-up Sunday 09-20 and Monday 09-21
        ("2026-10-01", "2026-10-01", 0),
        ("2025-12-31", "2026-12-31", 248),  # the whole of 2026
    ],
)
def test_working_days_between(cal, a, b, expected):
    assert cal.working_days_between(D(a), D(b)) == expected


def test_working_days_in_2026_add_up(cal):
    assert sum(cal.is_workday(D("2026-01-01") + timedelta(days=i)) for i in range(365)) == 248


@settings(max_examples=300, deadline=None)
@given(
    day=st.dates(min_value=date(2004, 3, 1), max_value=date(2026, 10, 15)),
    n=st.integers(min_value=1, max_value=40),
)
def test_add_and_between_agree(cal, day, n):
    forward, provisional = cal.add_working_days(day, n)
    assert not provisional
    assert cal.is_workday(forward)
    assert cal.working_days_between(day, forward) == n
    assert cal.working_days_between(day, forward - timedelta(days=1)) == n - 1
    back, _ = cal.add_working_days(day, -n)
    assert cal.is_workday(back)
    # (back, day] holds the n-1 working days after back, plus day itself if it works
    assert cal.working_days_between(back, day) == n - 1 + cal.is_workday(day)


@settings(max_examples=300, deadline=None)
@given(
    a=st.dates(min_value=date(2003, 6, 1), max_value=date(2028, 6, 30)),
    b=st.dates(min_value=date(2003, 6, 1), max_value=date(2028, 6, 30)),
)
def test_between_counts_what_a_walk_counts(cal, a, b):
    """The running counts per year agree with walking day by day, across loaded and
    provisional years and in both directions."""
    lo, hi = min(a, b), max(a, b)
    walked = sum(cal.is_workday(lo + timedelta(days=i)) for i in range(1, (hi - lo).days + 1))
    assert cal.working_days_between(a, b) == (walked if a <= b else -walked)


# ------------------------------------------------------------------ natural days and months


@pytest.mark.parametrize(
    "start, n, expected",
    [
        ("2026-01-31", 1, "2026-02-28"),
        ("2024-01-31", 1, "2024-02-29"),  # leap year
        ("2026-01-31", 2, "2026-03-31"),
        ("2026-03-31", -1, "2026-02-28"),
        ("2026-11-30", 3, "2027-02-28"),  # across the year
        ("2026-08-15", 6, "2027-02-15"),
        ("2026-05-20", -12, "2025-05-20"),
        ("2026-05-20", 0, "2026-05-20"),
    ],
)
def test_add_months(cal, start, n, expected):
    assert cal.add_months(D(start), n) == D(expected)


def test_add_natural_days_ignores_holidays(cal):
    assert cal.add_natural_days(D("2026-09-30"), 1) == D("2026-10-01")
    assert cal.add_natural_days(D("2026-09-30"), 10) == D("2026-10-10")
    assert cal.add_natural_days(D("2026-03-01"), -1) == D("2026-02-28")


def test_unknown_unit_is_an_error(cal):
    with pytest.raises(ValueError, match="unknown unit 'weeks'"):
        cal.add(D("2026-01-05"), 1, "weeks")


# ------------------------------------------------------------------ instants


def test_local_date_end_and_start_of_day():
    assert end_of_day(D("2026-10-08"), SH) == Z("2026-10-08T15:59:59.999999Z")
    assert start_of_day(D("2026-10-08"), SH) == Z("2026-10-07T16:00:00Z")
    assert local_date(Z("2026-10-07T15:59:59Z"), SH) == D("2026-10-07")
    assert local_date(Z("2026-10-07T16:00:00Z"), SH) == D("2026-10-08")
    assert end_of_day(D("2026-10-08"), "UTC") == Z("2026-10-08T23:59:59.999999Z")
    with pytest.raises(ValueError, match="naive"):
        local_date(datetime(2026, 10, 8, 12, 0), SH)


def test_due_instant_working_days_in_utc(cal):
    # Wednesday 2026-09-30 09:00 Beijing + 1 working day = end of Thursday 10-08 Beijing
    due, provisional = due_instant(cal, beijing("2026-09-30T09:00"), "working_days", 1, SH)
    assert (due, provisional) == (Z("2026-10-08T15:59:59.999999Z"), False)
    assert due.tzinfo is UTC
    # 23:30 UTC on 09-30 is already 10-01 07:30 in Beijing: the local date counts
    due, _ = due_instant(cal, Z("2026-09-30T23:30:00Z"), "working_days", 1, SH)
    assert due == Z("2026-10-08T15:59:59.999999Z")
    # signed on Friday 09-18 + 1 working day = the make-up Sunday 09-20
    due, _ = due_instant(cal, beijing("2026-09-18T17:00"), "working_days", 1, SH)
    assert due == Z("2026-09-20T15:59:59.999999Z")
    due, _ = due_instant(cal, beijing("2026-09-30T09:00"), "working_days", 5, SH)
    assert due == Z("2026-10-13T15:59:59.999999Z")


def test_due_instant_natural_days_and_months(cal):
    due, provisional = due_instant(cal, beijing("2026-01-31T10:00"), "months", 1, SH)
    assert (due, provisional) == (Z("2026-02-28T15:59:59.999999Z"), False)
    due, _ = due_instant(cal, beijing("2026-01-31T10:00"), "months", 2, SH)
    assert due == Z("2026-03-31T15:59:59.999999Z")
    due, provisional = due_instant(cal, beijing("2026-09-30T10:00"), "natural_days", 3, SH)
    assert (due, provisional) == (Z("2026-10-03T15:59:59.999999Z"), False)


def test_rung_instants(cal):
    due = end_of_day(D("2026-10-08"), SH)
    assert rung_instant(cal, due, 0, "working_days", SH) == (due, False)
    # T-1 working day: the start of Wednesday 09-30 (the break is skipped)
    assert rung_instant(cal, due, -1, "working_days", SH) == (Z("2026-09-29T16:00:00Z"), False)
    # T-7: 09-30, 29, 28, (27 Sun, 26 Sat, 25 中秋 skipped) 24, 23, 22, 21 → start of 09-21
    assert rung_instant(cal, due, -7, "working_days", SH) == (Z("2026-09-20T16:00:00Z"), False)
    # +1 working day: the start of the first working day after the due date (Fri 10-09)
    assert rung_instant(cal, due, 1, "working_days", SH) == (Z("2026-10-08T16:00:00Z"), False)
    # +2: the make-up Saturday 10-10
    assert rung_instant(cal, due, 2, "working_days", SH) == (Z("2026-10-09T16:00:00Z"), False)
    # natural days do not skip the break
    assert rung_instant(cal, due, -3, "natural_days", SH) == (Z("2026-10-04T16:00:00Z"), False)
    assert rung_instant(cal, due, 1, "months", SH) == (Z("2026-11-07T16:00:00Z"), False)


@pytest.mark.parametrize(
    "now, expected",
    [
        ("2026-09-30T10:00", 1),
        ("2026-10-03T10:00", 1),  # in the middle of the break
        ("2026-10-08T08:00", 0),  # the due date itself
        ("2026-10-08T23:59", 0),
        ("2026-10-09T00:01", -1),
        ("2026-10-12T09:00", -3),  # 10-09, the make-up Saturday 10-10, 10-12
    ],
)
def test_working_days_left(cal, now, expected):
    due = end_of_day(D("2026-10-08"), SH)
    assert working_days_left(cal, beijing(now), due, SH) == expected


# ------------------------------------------------------------------ the snapshot itself


def test_snapshot_is_immutable_and_copies_its_input():
    days = {D("2026-10-01"): False}
    snap = WorkCalendar(days, frozenset({2026}))
    days[D("2026-10-01")] = True
    assert snap.days[D("2026-10-01")] is False
    with pytest.raises(TypeError):
        snap.days[D("2026-10-01")] = True  # type: ignore[index]
    with pytest.raises(AttributeError):
        snap.extra = 1  # type: ignore[attr-defined]


def test_a_loaded_year_with_a_missing_day_is_loud():
    snap = WorkCalendar({D("2026-10-01"): False}, frozenset({2026}))
    with pytest.raises(LookupError, match="2026-10-02"):
        snap.is_workday(D("2026-10-02"))


def test_from_session_is_cached(seeded):
    with seeded.reading() as s:
        first = WorkCalendar.from_session(s)
    with seeded.writing() as s:  # another session, even the write engine copy
        assert WorkCalendar.from_session(s) is first


# ------------------------------------------------------------------ 2027: provisional, then loaded


def test_provisional_rule():
    assert not provisional_is_workday(D("2027-01-01"))  # Friday, fixed-date holiday
    assert not provisional_is_workday(D("2027-10-01"))
    assert provisional_is_workday(D("2027-10-04"))  # Monday: no guess about the break
    assert provisional_is_workday(D("2027-02-08"))  # lunar holidays are not guessed
    assert not provisional_is_workday(D("2027-02-20"))  # nor make-up weekends
    assert not provisional_is_workday(D("2027-05-01"))  # Saturday anyway
    assert provisional_is_workday(D("2027-05-03"))


def test_reaching_into_an_unloaded_year_is_provisional_then_exact(db2026):
    with db2026.reading() as s:
        before = WorkCalendar.from_session(s)
    assert not before.is_loaded(2027)
    # fixed-date holiday Jan 1 (Friday) skipped: 12-31 + 1 = Monday 01-04, provisional
    assert before.add_working_days(D("2026-12-31"), 1) == (D("2027-01-04"), True)
    # no lunar calendar: Friday 02-05 + 1 = Monday 02-08, provisional
    assert before.add_working_days(D("2027-02-05"), 1) == (D("2027-02-08"), True)
    # Oct 1-3 only: 09-30 + 1 = Monday 10-04
    due, provisional = due_instant(before, beijing("2027-09-30T09:00"), "working_days", 1, SH)
    assert (due, provisional) == (Z("2027-10-04T15:59:59.999999Z"), True)
    # a natural-day deadline in an unloaded year is provisional too (like an explicit date)
    _, provisional = due_instant(before, beijing("2026-12-30T09:00"), "natural_days", 5, SH)
    assert provisional
    # a computation that stays inside 2026 is not
    assert before.add_working_days(D("2026-12-30"), 1) == (D("2026-12-31"), False)

    with db2026.writing() as s:
        load_calendar_file(s, EXAMPLE_2027)
    with db2026.reading() as s:
        after = WorkCalendar.from_session(s)
    assert after is not before  # the load invalidated the cached snapshot
    assert after.is_loaded(2027)
    assert after.add_working_days(D("2026-12-31"), 1) == (D("2027-01-04"), False)
    assert after.add_working_days(D("2027-02-05"), 1) == (D("2027-02-15"), False)
    assert after.add_working_days(D("2027-02-19"), 1) == (D("2027-02-20"), False)  # 调休
    due, provisional = due_instant(after, beijing("2027-09-30T09:00"), "working_days", 1, SH)
    assert (due, provisional) == (Z("2027-10-08T15:59:59.999999Z"), False)
    _, provisional = due_instant(after, beijing("2026-12-30T09:00"), "natural_days", 5, SH)
    assert not provisional


def test_rung_reaching_into_an_unloaded_year_is_provisional(db2026):
    with db2026.reading() as s:
        cal = WorkCalendar.from_session(s)
    due = end_of_day(D("2026-12-31"), SH)
    assert rung_instant(cal, due, -1, "working_days", SH) == (Z("2026-12-29T16:00:00Z"), False)
    assert rung_instant(cal, due, 1, "working_days", SH) == (Z("2027-01-03T16:00:00Z"), True)


def test_a_load_in_the_same_transaction_is_seen_at_once(db2026):
    """`rectiflow calendar load` loads and recomputes deadlines in one transaction."""
    with db2026.writing() as s:
        assert WorkCalendar.from_session(s).add_working_days(D("2027-02-05"), 1)[1]
        load_calendar_file(s, EXAMPLE_2027)
        cal = WorkCalendar.from_session(s)
        assert cal.add_working_days(D("2027-02-05"), 1) == (D("2027-02-15"), False)


def test_a_load_by_another_process_is_seen(db2026):
    """No invalidate_cache() call: the (count, max loaded_at) key notices the new year."""
    with db2026.reading() as s:
        before = WorkCalendar.from_session(s)
    with db2026.engine.begin() as conn:  # what another process writing the tables does
        conn.execute(
            insert(WorkDay),
            [
                {
                    "day": day,
                    "is_workday": day.weekday() < 5,
                    "kind": "workday" if day.weekday() < 5 else "weekend",
                    "name": None,
                    "source": "elsewhere",
                }
                for day in (date(2027, 1, 1) + timedelta(days=i) for i in range(365))
            ],
        )
        conn.execute(
            insert(CalendarYear),
            [{"year": 2027, "source": "elsewhere", "loaded_at": Z("2030-01-01T00:00:00Z")}],
        )
    with db2026.reading() as s:
        after = WorkCalendar.from_session(s)
    assert after is not before and after.is_loaded(2027)
    assert after.is_workday(D("2027-01-01"))  # that process said so


def test_replacing_a_year_with_the_same_clock_still_invalidates(db2026, tmp_path):
    now = Z("2026-11-20T02:00:00Z")
    with db2026.writing() as s:
        load_calendar_file(s, EXAMPLE_2027, now=now)
    with db2026.reading() as s:
        first = WorkCalendar.from_session(s)
    assert not first.is_workday(D("2027-06-09"))  # 端午节 in the example
    moved = tmp_path / "2027.yaml"
    moved.write_text(
        EXAMPLE_2027.read_text(encoding="utf-8").replace(
            "{name: 端午节, from: 2027-06-09, to: 2027-06-09}",
            "{name: 端午节, from: 2027-06-10, to: 2027-06-10}",
        ),
        encoding="utf-8",
    )
    with db2026.writing() as s:
        assert load_calendar_file(s, moved, now=now).replaced
    with db2026.reading() as s:
        second = WorkCalendar.from_session(s)
    assert second.is_workday(D("2027-06-09")) and not second.is_workday(D("2027-06-10"))
