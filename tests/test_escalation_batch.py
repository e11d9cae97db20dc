"""The sweep's set-based paths: an idle sweep sends a handful of statements, a batch sends a
constant number whatever its size, and the batched recipients, outbox rows and letter
numbers are exactly what the single-issue paths (``outbox.recipients``/``enqueue``,
``letters.issue_letter``) would have written."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import event, select, text

from tests.test_escalation import local, open_rect, walk_to_correcting
from workflow import outbox, service
from workflow.audit import verify
from workflow.clock import escalation, letters
from workflow.clock.escalation import sweep
from workflow.db import lease
from workflow.definition.registry import definition_of
from workflow.models import DefinitionVersion, Escalation, Event, Issue, Lease, Letter, Outbox

T0 = local(2026, 9, 8)
NOW = local(2026, 11, 2, 9)  # the sign_for clock (5 working days) is long overdue
SIGN_FOR = ("remind_1", "yellow", "red")
IDLE_MAX = 6  # BEGIN, calendar check, versions, the probe (+ the pool's own)
WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|BEGIN IMMEDIATE)", re.IGNORECASE)


@contextlib.contextmanager
def statements(db) -> Iterator[list[str]]:
    """Every SQL statement ``db`` sends inside the block (executemany counts once)."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def seed(world, n: int, at, unit: str = "HZ-XH-LY") -> list[int]:
    with world.db.writing() as s:
        return [
            open_rect(s, world, unit, "2026-12-31", at + timedelta(seconds=k)).id for k in range(n)
        ]


def test_an_idle_sweep_sends_a_handful_of_statements_and_writes_nothing(world):
    seed(world, 5, T0)
    assert sweep(world.db, NOW).fired == 3 * 5
    with statements(world.db) as seen:
        report = sweep(world.db, NOW)
    assert report.fired == 0 and report.batches == 0
    assert len(seen) <= IDLE_MAX, seen
    assert not [s for s in seen if WRITES.match(s)]


def test_statements_per_batch_do_not_grow_with_its_size(world):
    """3 issues, then 24 more one day later: the same three rungs fire for each set, and
    the second sweep sends no more statements than the first."""
    seed(world, 3, T0)
    with statements(world.db) as small:
        assert sweep(world.db, NOW).fired == 3 * 3
    seed(world, 24, T0 + timedelta(days=1))
    with statements(world.db) as large:
        report = sweep(world.db, NOW + timedelta(days=1))
    assert report.fired == 3 * 24
    assert report.batches == 3  # one per rung
    assert len(large) <= len(small), (len(small), len(large))
    per_batch = (len(large) - IDLE_MAX) / report.batches
    assert per_batch <= 20, large
    with world.db.reading() as s:
        assert verify(s).ok


def test_batches_of_a_few_rows_keep_the_same_shape(sqlite_world):
    """batch=4 over 10 issues: three transactions per rung, each of constant size."""
    seed(sqlite_world, 10, T0)
    with statements(sqlite_world.db) as seen:
        report = sweep(sqlite_world.db, NOW, batch=4)
    assert report.fired == 3 * 10 and report.batches == 3 * 3
    assert len(seen) <= IDLE_MAX + report.batches * 20 + 3 * 3  # + an empty read per rung
    with sqlite_world.db.reading() as s:
        assert s.scalar(select(Lease.name).limit(1)) is None  # leases given back


def test_the_keyset_walk_fires_exactly_the_unfired_among_fired_candidates(world):
    """Pages of 4 candidates: issues whose rungs fired a month ago lie between issues
    opened later (every third one), whose rungs are due only now: each fires once,
    nothing twice, nothing skipped."""
    late_start = local(2026, 10, 26, 9)
    with world.db.writing() as s:
        ids = [
            open_rect(s, world, "HZ-XH-LY", "2026-12-31", at + timedelta(seconds=k)).id
            for k, at in enumerate(late_start if k % 3 == 0 else T0 for k in range(14))
        ]
    late = ids[::3]
    first = sweep(world.db, local(2026, 10, 27, 9), batch=4)
    assert first.fired == 3 * (len(ids) - len(late))
    report = sweep(world.db, local(2026, 11, 20, 9), batch=4)
    assert report.fired == 3 * len(late)
    with world.db.reading() as s:
        per_rung = s.execute(
            select(Escalation.issue_id, Escalation.rung, text("count(*)"))
            .group_by(Escalation.issue_id, Escalation.rung)
        ).all()  # fmt: skip
    assert {n for *_k, n in per_rung} == {1}
    assert {(i, r) for i, r, _n in per_rung} == {(i, r) for i in ids for r in SIGN_FOR}
    assert sweep(world.db, local(2026, 11, 20, 9), batch=4).fired == 0


def test_letter_numbers_stay_consecutive_across_batches(sqlite_world):
    ids = seed(sqlite_world, 7, T0)
    sweep(sqlite_world.db, NOW, batch=3)
    with sqlite_world.db.reading() as s:
        for kind, prefix in (("reminder", "提醒"), ("supervision_notice", "督办")):
            numbers = s.scalars(
                select(Letter.number).where(Letter.kind == kind).order_by(Letter.id)
            )
            assert list(numbers) == [f"{prefix}〔2026〕第{n:04d}号" for n in range(1, 8)]
        for esc in s.scalars(select(Escalation).where(Escalation.rung != "remind_1")):
            letter = s.get(Letter, esc.letter_id)
            assert letter is not None and letter.issue_id == esc.issue_id
            ev = s.scalars(select(Event).where(Event.data["escalation_id"].as_integer() == esc.id))
            assert ev.one().data["letter"] == letter.number
        # the archived text is what the single-letter path renders for that issue
        letter = s.scalars(select(Letter).where(Letter.issue_id == ids[0]).limit(1)).one()
        issue = s.get(Issue, ids[0])
        expected = letters.issue_letter(
            s, issue, letter.kind, letter.issued_at, tz="Asia/Shanghai",
            due_at=_clock_due(s, ids[0]), rung_label="黄牌预警",
        )  # fmt: skip
        assert expected.number == "提醒〔2026〕第0008号"  # the next one: no gap
        assert expected.html.replace(expected.number, letter.number) == letter.html
        s.rollback()


def _clock_due(session, issue_id: int):
    from workflow.models import ClockInstance

    return session.scalar(
        select(ClockInstance.due_at).where(
            ClockInstance.issue_id == issue_id, ClockInstance.clock == "sign_for"
        )
    )


def _rectification(session):
    dv = session.scalars(
        select(DefinitionVersion).where(DefinitionVersion.name == "rectification")
    ).first()
    return definition_of(dv)


NAME_SETS = [
    ("responsible_unit",),
    ("responsible_unit", "supervisor"),
    ("responsible_unit", "supervisor", "leader"),
    ("unit_head", "office", "discipline"),
    ("office", "spot_check"),
    ("supervisor", "office", "leader", "discipline", "spot_check", "responsible_unit"),
]


def test_batched_recipients_equal_outbox_recipients_issue_by_issue(world):
    """Townships, a county, a city, the province, a restricted lead, a spot-check member."""
    with world.db.writing() as s:
        issues = [
            open_rect(s, world, unit, "2026-12-31", T0)
            for unit in ("HZ-XH-LY", "HZ-SC-HB", "HZ-XH", "NB-HS", "HZ", "ZJ")
        ]
        issues.append(
            service.open_issue(
                s, "problem_lead", {"title": "线索", "unit": "HZ"}, world.user(s, "office"), T0
            )
        )
        issues[0].checker_id = world.users["checker"]
        s.flush()
        for names in NAME_SETS:
            audience = outbox.Audience(s, names, issues)
            for issue in issues:
                got = audience.of(issue)
                want = outbox.recipients(s, issue, names)
                assert sorted(got, key=lambda r: r.id) == sorted(want, key=lambda r: r.id), (
                    names,
                    issue.unit_path,
                    issue.restricted,
                )


OUTBOX_FIELDS = (
    "event_id", "issue_id", "recipient_id", "channel", "template", "subject", "body", "payload",
    "status", "attempts", "next_attempt_at", "created_at",
)  # fmt: skip


def _outbox_rows(session, prefix: str) -> list[tuple]:
    """Outbox rows whose key starts with ``prefix``, as plain tuples (key without prefix)."""
    cols = [getattr(Outbox, f) for f in OUTBOX_FIELDS]
    rows = session.execute(
        select(Outbox.dedupe_key, *cols).where(Outbox.dedupe_key.startswith(prefix))
    ).all()
    return sorted((key.removeprefix(prefix), *rest) for key, *rest in rows)


def test_outbox_rows_equal_what_outbox_enqueue_writes(world):
    """A guard against drift from outbox.enqueue (the sweep writes the rows itself)."""
    seed(world, 2, T0)
    seed(world, 2, T0, unit="HZ-SC-HB")
    sweep(world.db, NOW)
    with world.db.writing() as s:
        d = _rectification(s)
        ladder = {r.name: r for r in d.clocks["sign_for"].ladder}
        escs = s.scalars(select(Escalation).order_by(Escalation.id)).all()
        assert len(escs) == 4 * 3
        for esc in escs:
            rung = ladder[esc.rung]
            issue = s.get(Issue, esc.issue_id)
            ev = s.scalars(
                select(Event).where(Event.data["escalation_id"].as_integer() == esc.id)
            ).one()
            payload = {
                "issue_id": issue.id,
                "number": issue.number,
                "escalation_id": esc.id,
                "rung": rung.name,
                "level": rung.level,
            }
            with s.begin_nested() as nested:
                outbox.enqueue(
                    s,
                    issue,
                    outbox.recipients(s, issue, rung.notify),
                    "escalation",
                    rung.label.zh,
                    esc.fired_at,
                    ev,
                    key=f"cmp{esc.id}",
                    payload=payload,
                )
                want = _outbox_rows(s, f"cmp{esc.id}:")
                nested.rollback()
            got = _outbox_rows(s, f"esc{esc.id}:")
            assert got == want and got, esc.rung


def test_a_count_rule_left_pending_by_a_killed_sweep_is_found_by_the_next(
    sqlite_world, monkeypatch
):
    """The second yellow card commits, the sweep dies before 书面督办; the next sweep at the
    same instant (nothing else due) finds the rule by its probe and fires it once."""
    db, w = sqlite_world.db, sqlite_world
    with db.writing() as s:
        issue = open_rect(s, w, "HZ-XH-LY", "2026-10-08", local(2026, 9, 8))
        walk_to_correcting(s, w, issue, local(2026, 9, 8, 10))
        issue_id = issue.id
    sweep(db, local(2026, 10, 9, 9))
    with db.writing() as s:
        issue = s.get(Issue, issue_id)
        for action, user, data, minute in (
            ("request_extension", "clerk", {"new_due": "2026-10-20", "reason": "审批"}, 0),
            ("approve_extension", "super", {}, 30),
        ):
            service.act(
                s, issue, action, w.user(s, user), data, issue.version,
                local(2026, 10, 9, 10, minute),
            )  # fmt: skip
    drain = escalation._Run.drain

    class Killed(BaseException):
        """The process dies here: nothing after this point of the sweep runs."""

    def killed_before_rules(run, work):
        if work.spec.rule is not None:
            raise Killed
        return drain(run, work)

    monkeypatch.setattr(escalation._Run, "drain", killed_before_rules)
    now = local(2026, 10, 21, 9)
    with pytest.raises(Killed):
        sweep(db, now)
    with db.reading() as s:
        yellows = s.scalars(
            select(Escalation.id).where(
                Escalation.issue_id == issue_id, Escalation.rung == "yellow"
            )
        ).all()
    assert len(yellows) == 2  # the second yellow card is committed, 书面督办 is not
    monkeypatch.setattr(escalation._Run, "drain", drain)
    report = sweep(db, now)
    assert report.fired == 1
    assert report.rungs["rectification/rectify/written_supervision"].fired == 1
    assert sweep(db, now).fired == 0


def test_a_partition_leased_by_another_sweep_is_skipped_and_said_so(sqlite_world):
    seed(sqlite_world, 2, T0)  # 灵隐街道, in the partition of 杭州市
    seed(sqlite_world, 2, T0, unit="NB-HS")
    with sqlite_world.db.writing() as s:
        hz = s.scalar(text("SELECT path FROM unit WHERE code = 'HZ'"))
        s.add(
            Lease(
                name=f"sweep:{hz}",
                holder="elsewhere:1:x",
                expires_at=lease.wall_now() + timedelta(minutes=5),
            )
        )
    report = sweep(sqlite_world.db, NOW)
    assert report.fired == 2 * 3
    assert report.skipped == [(hz, "lease held by elsewhere:1:x")]
    with sqlite_world.db.writing() as s:
        lease.release(s, f"sweep:{hz}", "elsewhere:1:x")
    assert sweep(sqlite_world.db, NOW).fired == 2 * 3


def test_a_partition_locked_by_another_sweep_is_skipped_on_postgresql(pg_world):
    seed(pg_world, 2, T0)
    seed(pg_world, 2, T0, unit="NB-HS")
    with pg_world.db.reading() as s:
        hz = s.scalar(text("SELECT path FROM unit WHERE code = 'HZ'"))
        key = lease.session_key(s, f"sweep:{hz}")
    with pg_world.db.engine.connect() as other:
        other.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
        report = sweep(pg_world.db, NOW)
        other.execute(text("SELECT pg_advisory_unlock_all()"))
    assert report.fired == 2 * 3
    assert report.skipped == [(hz, "another sweep holds its advisory lock")]
    assert sweep(pg_world.db, NOW).fired == 2 * 3


@pytest.mark.parametrize("prefix_of", ["=/1/", "city"])
def test_a_sweep_of_one_partition_fires_only_there(sqlite_world, prefix_of):
    seed(sqlite_world, 2, T0)
    seed(sqlite_world, 1, T0, unit="ZJ")
    with sqlite_world.db.reading() as s:
        part = prefix_of if prefix_of.startswith("=") else escalation.partitions(s)[1]
    report = sweep(sqlite_world.db, NOW, unit_path_prefix=part)
    assert report.fired == (1 if part.startswith("=") else 2) * 3
    assert report.partitions == [part]


def test_advisory_lock_keys_are_per_schema(pg_world, tmp_path):
    """Two installations in one PostgreSQL database (two schemas) lock apart: the same lock
    name gives different keys (a shared key made concurrent test runs skip each other)."""
    from tests.conftest import _database

    for second in _database("postgres", tmp_path):
        with pg_world.db.reading() as a, second.reading() as b, pg_world.db.reading() as a2:
            assert lease.session_key(a, "sweep:/1/") != lease.session_key(b, "sweep:/1/")
            # two sessions of one database agree on the key, or two runners would both run
            assert lease.session_key(a, "sweep:/1/") == lease.session_key(a2, "sweep:/1/")
