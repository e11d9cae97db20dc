"""The escalation sweep: every rung once, on the right working day; idempotent; catch-up;
pause, extension and count rules; warning level and version; letters; the CLI."""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from workflow import service
from workflow.audit import verify
from workflow.clock.calendar import WorkCalendar, local_date, start_of_day
from workflow.clock.escalation import partitions, sweep
from workflow.clock.letters import letters_of, to_docx
from workflow.models import ClockInstance, Escalation, Event, Issue, Letter, Outbox

TZ = ZoneInfo("Asia/Shanghai")


def local(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    """An instant given in Beijing time, as aware UTC."""
    return datetime(y, m, d, hh, mm, tzinfo=TZ).astimezone(UTC)


def open_rect(session, world, unit: str, due_on: str, at: datetime) -> Issue:
    office = world.user(session, "office")
    return service.open_issue(
        session,
        "rectification",
        {"title": "考核奖金发放不规范", "unit": unit, "due_on": due_on},
        office,
        at,
    )


def walk_to_correcting(session, world, issue: Issue, at: datetime, unit: str = "HZ-XH-LY") -> None:
    """sign_for → submit_plan → attest_plan → approve_plan: the rectify clock runs on due_on."""
    clerk, head, sup = (
        ("clerk", "head", "super") if unit == "HZ-XH-LY" else ("clerk2", "head2", "citysuper")
    )
    steps = [
        ("sign_for", clerk, {}),
        ("submit_plan", clerk, {"measures": [{"text": "建立制度", "due_on": str(issue.due_on)}]}),
        ("attest_plan", head, {"attested": True}),
        ("approve_plan", sup, {}),
    ]
    for n, (action, user, data) in enumerate(steps):
        service.act(
            session,
            issue,
            action,
            world.user(session, user),
            data,
            issue.version,
            at + timedelta(minutes=n),
        )


def counts(db) -> dict[str, int]:
    with db.reading() as s:
        return {
            name: s.scalar(select(func.count()).select_from(model)) or 0
            for name, model in [
                ("escalation", Escalation),
                ("event", Event),
                ("outbox", Outbox),
                ("letter", Letter),
            ]
        } | {"versions": sum(s.scalars(select(Issue.version)))}


def fired(db, issue_id: int) -> list[tuple[str, int, str]]:
    """(rung, generation, local fired date) of an issue, in firing order."""
    with db.reading() as s:
        rows = s.execute(
            select(Escalation.rung, ClockInstance.generation, Escalation.fired_at)
            .join(ClockInstance, ClockInstance.id == Escalation.clock_instance_id)
            .where(Escalation.issue_id == issue_id)
            .order_by(Escalation.id)
        ).all()
    return [(r, g, str(local_date(f))) for r, g, f in rows]


def test_reminder_one_working_day_before_a_due_date_after_national_day(world):
    """Due 2026-10-08 (first workday after the 1–7 Oct holiday): T-1 is 30 Sep, T-7 is
    21 Sep (Mid-Autumn, 25 Sep, is a holiday too), the yellow card 9 Oct, the red card on the 15th working day after (10 Oct is a
    make-up working Saturday) — 28 Oct."""
    db = world.db
    with db.writing() as s:
        issue = open_rect(s, world, "HZ-XH-LY", "2026-10-08", local(2026, 9, 8))
        walk_to_correcting(s, world, issue, local(2026, 9, 8, 10))
        issue_id = issue.id

    def rect_rungs() -> list[str]:
        return [
            r
            for r, _g, _d in fired(db, issue_id)
            if r in ("remind_7", "remind_1", "yellow", "red", "admonition")
        ]

    sweep(db, local(2026, 9, 20, 23, 59))
    assert rect_rungs() == []
    sweep(db, local(2026, 9, 21, 0, 0))
    assert rect_rungs() == ["remind_7"]
    sweep(
        db,
        local(
            2026,
            9,
            29,
            23,
            59,
        ),
    )
    assert rect_rungs() == ["remind_7"]
    sweep(db, local(2026, 9, 30, 0, 0))  # the last working day before the holiday
    assert rect_rungs() == ["remind_7", "remind_1"]
    sweep(db, local(2026, 10, 8, 23, 0))  # due day itself: still not overdue
    assert rect_rungs() == ["remind_7", "remind_1"]
    sweep(db, local(2026, 10, 9, 0, 0))
    assert rect_rungs()[-1] == "yellow"
    sweep(db, local(2026, 10, 27, 23, 59))
    assert "red" not in rect_rungs()
    sweep(db, local(2026, 10, 28, 0, 0))
    assert rect_rungs()[-1] == "red"
    with db.reading() as s:
        issue = s.get(Issue, issue_id)
        assert issue.warning_level == "red"
        assert verify(s).ok


def test_second_run_at_the_same_instant_changes_nothing(world):
    db = world.db
    with db.writing() as s:
        for n in range(6):
            issue = open_rect(s, world, "HZ-XH-LY", f"2026-10-{12 + n:02d}", local(2026, 9, 8))
            walk_to_correcting(s, world, issue, local(2026, 9, 8, 10))
        open_rect(s, world, "HZ-SC-HB", "2026-10-20", local(2026, 9, 8))  # left unsigned
    now = local(2026, 11, 20)
    first = sweep(db, now)
    assert first.fired > 0
    before = counts(db)
    second = sweep(db, now)
    assert second.fired == 0 and second.batches == 0
    assert counts(db) == before


def test_three_days_of_downtime_catch_up_every_rung_once_in_ladder_order(sqlite_world):
    db = sqlite_world.db
    with db.writing() as s:
        issue = open_rect(s, sqlite_world, "HZ-XH-LY", "2026-10-08", local(2026, 9, 8))
        walk_to_correcting(s, sqlite_world, issue, local(2026, 9, 8, 10))
        issue_id = issue.id
    sweep(db, local(2026, 10, 8, 9))  # remind_7 and remind_1 fired on time
    report = sweep(db, local(2026, 12, 4, 9))  # down since 8 Oct: yellow, red, admonition due
    rect = [r for r, g, _d in fired(db, issue_id) if g == 1 and r != "remind_1" or r == "remind_1"]
    assert [r for r in rect if r in ("remind_7", "remind_1", "yellow", "red", "admonition")] == [
        "remind_7",
        "remind_1",
        "yellow",
        "red",
        "admonition",
    ]
    assert report.rungs["rectification/rectify/admonition"].fired == 1
    with db.reading() as s:
        late = s.scalars(
            select(Event).where(Event.action == "escalate:yellow", Event.issue_id == issue_id)
        ).one()
        assert late.data["late"] is True and late.actor_role == "system"
    before = counts(db)
    assert sweep(db, local(2026, 12, 7, 9)).fired == 0
    assert counts(db) == before


def test_paused_clock_never_fires_and_resume_shifts_the_same_instance(sqlite_world):
    db, w = sqlite_world.db, sqlite_world
    t0 = local(2026, 9, 8)
    with db.writing() as s:
        issue = open_rect(s, w, "HZ-XH-LY", "2026-12-31", t0)
        for n, (action, user, data) in enumerate(
            [
                ("sign_for", "clerk", {}),
                (
                    "submit_plan",
                    "clerk",
                    {"measures": [{"text": "建立制度", "due_on": "2026-12-31"}]},
                ),
                ("attest_plan", "head", {"attested": True}),  # pauses the plan clock (under review)
            ]
        ):
            service.act(
                s, issue, action, w.user(s, user), data, issue.version, t0 + timedelta(minutes=n)
            )
        issue_id = issue.id
        plan = s.scalars(select(ClockInstance).where(ClockInstance.clock == "plan")).one()
        assert plan.status == "paused"
        due_before = plan.due_at
    assert sweep(db, local(2026, 12, 20)).fired == 0  # far past the 2-month plan deadline
    resume_at = local(2026, 12, 21)
    with db.writing() as s:
        issue = s.get(Issue, issue_id)
        service.act(
            s,
            issue,
            "reject_plan",
            w.user(s, "super"),
            {"reason": "措施不具体"},
            issue.version,
            resume_at,
        )
        plan = s.scalars(select(ClockInstance).where(ClockInstance.clock == "plan")).one()
        assert plan.status == "running" and plan.generation == 1
        assert plan.due_at == due_before + (resume_at - (t0 + timedelta(minutes=2)))
    assert sweep(db, resume_at + timedelta(hours=1)).fired == 0  # shifted into 2027-ish


def test_extension_rearms_the_ladder_and_two_yellow_cards_mean_written_supervision(world):
    db, w = world.db, world
    with db.writing() as s:
        issue = open_rect(s, w, "HZ-XH-LY", "2026-10-08", local(2026, 9, 8))
        walk_to_correcting(s, w, issue, local(2026, 9, 8, 10))
        issue_id = issue.id
    sweep(db, local(2026, 10, 9, 9))
    with db.writing() as s:
        issue = s.get(Issue, issue_id)
        assert issue.warning_level == "yellow"
        service.act(
            s,
            issue,
            "request_extension",
            w.user(s, "clerk"),
            {"new_due": "2026-10-20", "reason": "需要上级审批"},
            issue.version,
            local(2026, 10, 9, 10),
        )
        service.act(
            s,
            issue,
            "approve_extension",
            w.user(s, "super"),
            {},
            issue.version,
            local(2026, 10, 9, 11),
        )
        assert issue.warning_level == "green"
    sweep(db, local(2026, 10, 21, 9))
    got = fired(db, issue_id)
    assert ("yellow", 1, "2026-10-09") in got and ("yellow", 2, "2026-10-21") in got
    assert [r for r, _g, _d in got].count("written_supervision") == 1
    sweep(db, local(2026, 10, 22, 9))
    assert [r for r, _g, _d in fired(db, issue_id)].count("written_supervision") == 1
    with db.reading() as s:
        kinds = [(lt.kind, lt.number) for lt in letters_of(s, issue_id)]
        assert ("supervision_notice", "督办〔2026〕第0001号") in kinds
        assert [k for k, _n in kinds].count("reminder") == 2
        numbers = [n for k, n in kinds if k == "reminder"]
        assert numbers == ["提醒〔2026〕第0001号", "提醒〔2026〕第0002号"]
        esc = s.scalars(select(Escalation).where(Escalation.rung == "written_supervision")).one()
        assert esc.letter_id is not None and esc.level == "red"
        assert s.get(Issue, issue_id).warning_level == "red"


def test_a_card_bumps_the_version_so_a_stale_form_gets_a_conflict(world):
    db, w = world.db, world
    with db.writing() as s:
        issue = open_rect(s, w, "HZ-XH-LY", "2026-10-08", local(2026, 9, 8))
        walk_to_correcting(s, w, issue, local(2026, 9, 8, 10))
        issue_id, seen = issue.id, issue.version
    sweep(db, local(2026, 9, 30, 9))  # reminders only: the issue row is untouched
    with db.reading() as s:
        assert s.get(Issue, issue_id).version == seen
    sweep(db, local(2026, 10, 9, 9))  # yellow card
    with db.writing() as s:
        issue = s.get(Issue, issue_id)
        assert issue.version == seen + 1 and issue.warning_level == "yellow"
        with pytest.raises(service.Conflict) as exc:
            service.act(
                s,
                issue,
                "report_progress",
                w.user(s, "clerk"),
                {"progress": 50},
                seen,
                local(2026, 10, 9, 10),
            )
        assert any(
            c["action"] == "escalate:yellow" and c["by"] == "system" for c in exc.value.changes
        )


def test_admonition_letter_with_new_final_date_as_html_and_docx(sqlite_world):
    from docx import Document

    db, w = sqlite_world.db, sqlite_world
    with db.writing() as s:
        issue = open_rect(s, w, "HZ-XH-LY", "2026-10-08", local(2026, 9, 8))
        walk_to_correcting(s, w, issue, local(2026, 9, 8, 10))
        issue_id = issue.id
    now = local(2026, 11, 25, 9)  # the admonition (+30 working days) was due 18 Nov
    sweep(db, now)
    with db.reading() as s:
        letter = s.scalars(select(Letter).where(Letter.kind == "admonition")).one()
        cal = WorkCalendar.from_session(s)
        assert letter.number == "告诫〔2026〕第0001号"
        assert letter.new_final_date == cal.add_working_days(date(2026, 11, 25), 10)[0]
        assert letter.new_final_date == date(2026, 12, 9)
        assert "2026年12月9日前完成整改" in letter.html and "告诫书" in letter.html
        doc = Document(io.BytesIO(to_docx(letter)))
        texts = [p.text for p in doc.paragraphs]
        # GB/T 9704: the office's red header first, then the number, then the title
        assert (
            texts[0] == "中共浙江省委巡视巡察工作领导小组办公室"
            and texts[1] == "告诫〔2026〕第0001号"
        )
        assert "告诫书" in texts
        assert any("2026年12月9日" in t for t in texts)
        ev = s.scalars(select(Event).where(Event.action == "escalate:admonition")).one()
        assert ev.data["letter"] == letter.number and ev.issue_id == issue_id


def test_partitions_swept_one_by_one_equal_one_full_sweep(sqlite_world, tmp_path):
    db, w = sqlite_world.db, sqlite_world
    with db.writing() as s:
        for unit in ("HZ-XH-LY", "HZ-SC-HB", "NB-HS", "ZJ"):
            open_rect(s, w, unit, "2026-10-08", local(2026, 9, 8))
        parts = partitions(s)
    assert parts[0].startswith("=/") and len(parts) == 3
    now = local(2026, 9, 30, 9)
    total = sum(sweep(db, now, unit_path_prefix=p).fired for p in parts)
    assert total == 4 * 3  # sign_for: remind_1, yellow, red for each of the 4 issues
    assert sweep(db, now).fired == 0


def test_problem_lead_escalations_name_only_the_number(sqlite_world):
    db, w = sqlite_world.db, sqlite_world
    with db.writing() as s:
        lead = service.open_issue(
            s,
            "problem_lead",
            {"title": "某局长涉嫌收受红包", "description": "详情保密", "unit": "HZ"},
            w.user(s, "office"),
            local(2026, 9, 8),
        )
        lead_id = lead.id
    sweep(db, local(2026, 12, 31, 9))  # 3-month feedback clock: reminder and yellow card
    with db.reading() as s:
        rows = s.scalars(select(Outbox).where(Outbox.dedupe_key.startswith("esc"))).all()
        assert rows
        for row in rows:
            assert "红包" not in row.subject + row.body and "局长" not in row.subject + row.body
        for letter in letters_of(s, lead_id):
            assert "红包" not in letter.html


def test_rectiflow_sweep_command_prints_per_rung(sqlite_world, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from web.cli import cli

    db, w = sqlite_world.db, sqlite_world
    with db.writing() as s:
        open_rect(s, w, "HZ-XH-LY", "2026-10-08", local(2026, 9, 8))
    monkeypatch.setenv("RECTIFLOW_INSTANCE", str(tmp_path / "inst"))
    monkeypatch.setenv("RECTIFLOW_DATABASE_URL", db.url)
    result = CliRunner().invoke(
        cli, ["sweep", "--now", "2026-09-30T09:00:00+08:00"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "rectification/sign_for/yellow: fired 1, letters 1" in result.output
    again = CliRunner().invoke(cli, ["sweep", "--now", "2026-09-30T09:00:00+08:00"])
    assert "total: 0 escalations" in again.output


def test_months_of_calendar_time_every_rung_fires_once_on_its_working_day(sqlite_world):
    """~100 issues (a third left unsigned, the rest rectifying with due dates spread over
    Sep–Nov 2026), swept every day at 09:00 until the end of 2026: each rung of each
    running instance fires once, on the day the calendar gives for it."""
    db, w = sqlite_world.db, sqlite_world
    t0 = local(2026, 9, 7, 8)
    expected: dict[tuple[int, str], date] = {}
    with db.writing() as s:
        cal = WorkCalendar.from_session(s)
        ladder = {
            "rectify": [
                ("remind_7", -7),
                ("remind_1", -1),
                ("yellow", 1),
                ("red", 15),
                ("admonition", 30),
            ],
            "sign_for": [("remind_1", -1), ("yellow", 1), ("red", 5)],
        }
        for n in range(99):
            unit = "HZ-XH-LY" if n % 2 else "HZ-SC-HB"
            due = date(2026, 9, 21) + timedelta(days=n % 60)
            issue = open_rect(s, w, unit, due.isoformat(), t0 + timedelta(seconds=n))
            if n % 3:
                walk_to_correcting(s, w, issue, t0 + timedelta(minutes=10), unit)
                clock = "rectify"
            else:
                clock = "sign_for"
            inst = s.scalars(
                select(ClockInstance).where(
                    ClockInstance.issue_id == issue.id, ClockInstance.status == "running"
                )
            ).one()
            assert inst.clock == clock
            for rung, at in ladder[clock]:
                day = cal.add_working_days(local_date(inst.due_at), at)[0]
                if start_of_day(day) > t0:  # rungs already due at the first sweep fire then
                    expected[(issue.id, rung)] = day
    now = local(2026, 9, 7)
    while now <= local(2026, 12, 31):
        sweep(db, now, batch=40)
        now += timedelta(days=1)
    with db.reading() as s:
        rows = s.execute(
            select(
                Escalation.issue_id, Escalation.rung, Escalation.fired_at, Escalation.clock
            ).where(Escalation.clock.in_(["rectify", "sign_for"]))
        ).all()
        assert not [
            k for k, c in Counter((r.issue_id, r.clock, r.rung) for r in rows).items() if c > 1
        ]
        got = {(r.issue_id, r.rung): local_date(r.fired_at) for r in rows}
        for key, day in expected.items():
            assert got.get(key) == day, key
        events = Counter(
            e.data["escalation_id"]
            for e in s.scalars(select(Event).where(Event.action.startswith("escalate:")))
        )
        assert set(events.values()) == {1}
        assert len(events) == s.scalar(select(func.count()).select_from(Escalation))
        assert verify(s).ok
    before = counts(db)
    assert sweep(db, now - timedelta(days=1)).fired == 0
    assert counts(db) == before
