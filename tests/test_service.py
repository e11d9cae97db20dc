"""The service on real databases: every path of the shipped definitions, every guard
rejecting, the stale-version conflict, scope, audit of denied attempts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from workflow import audit, service
from workflow.models import ClockInstance, Event, Evidence, Issue, Outbox
from workflow.service.fields import ValidationFailed

PLAN = [{"text": "召开专题会议研究整改", "due_on": "2026-12-31"}]


class Driver:
    """Opens issues and takes actions in one transaction each, like a request would."""

    def __init__(self, world):
        self.world, self.db, self.clock = world, world.db, world.clock

    def open(self, definition="rectification", **fields):
        fields.setdefault("title", "考核奖金发放不规范")
        fields.setdefault("unit", "HZ-XH-LY")
        with self.db.writing() as s:
            issue = service.open_issue(
                s, definition, fields, self.world.user(s, "office"), self.clock()
            )
            return issue.id

    def act(self, issue_id, action, username, minutes=60, version="current", **data):
        self.clock.advance(minutes=minutes)
        with self.db.write_session() as s:
            issue = s.get(Issue, issue_id)
            v = issue.version if version == "current" else version
            try:
                result = service.act(
                    s, issue, action, self.world.user(s, username), data, v, self.clock()
                )
            except service.Denied:
                s.commit()  # the denied attempt stays in the audit trail
                raise
            s.commit()
            return result.to_state

    def state(self, issue_id):
        with self.db.reading() as s:
            return s.get(Issue, issue_id).state

    def issue(self, issue_id):
        with self.db.reading() as s:
            issue = s.get(Issue, issue_id)
            s.expunge(issue)
            return issue

    def evidence(self, issue_id, username="clerk"):
        with self.db.writing() as s:
            s.add(
                Evidence(
                    issue_id=issue_id,
                    filename="纪要.pdf",
                    stored_name=f"x{issue_id}",
                    content_type="application/pdf",
                    size=10,
                    sha256="0" * 64,
                    uploaded_by=self.world.users[username],
                    uploaded_at=self.clock(),
                )
            )

    def to_correcting(self, issue_id):
        self.act(issue_id, "sign_for", "clerk")
        self.act(issue_id, "submit_plan", "clerk", measures=PLAN)
        self.act(issue_id, "attest_plan", "head", attested=True)
        return self.act(issue_id, "approve_plan", "super")

    def to_acceptance(self, issue_id):
        self.to_correcting(issue_id)
        self.evidence(issue_id)
        self.act(issue_id, "request_closeout", "clerk", completion="已完成", summary="已整改")
        return self.act(issue_id, "attest_closeout", "head", attested=True)


@pytest.fixture
def drive(world):
    return Driver(world)


# ------------------------------------------------------------------ rectification: paths


def test_the_whole_life_of_an_issue(drive):
    i = drive.open()
    assert drive.state(i) == "transferred"
    assert drive.to_correcting(i) == "correcting"
    drive.act(i, "report_progress", "clerk", progress=50, note="过半")
    assert drive.issue(i).progress == 50
    drive.evidence(i)
    assert (
        drive.act(
            i,
            "request_closeout",
            "clerk",
            completion="已完成",
            summary="完成",
            rules_written=2,
            money_recovered="12000.50",
            people_handled=1,
        )
        == "closeout_attest"
    )
    assert drive.act(i, "attest_closeout", "head", attested=True) == "acceptance"
    assert drive.act(i, "accept", "super", grade="好") == "closed"
    issue = drive.issue(i)
    assert issue.grade == "好" and issue.is_open is False and issue.rules_written == 2
    assert str(issue.money_recovered) == "12000.50"
    drive.act(i, "assign_checker", "office", checker="checker")
    assert drive.act(i, "followup_holds", "checker", note="巩固") == "archived"
    with drive.db.reading() as s:
        assert audit.verify(s).ok


def test_return_to_office_and_reassign(drive, world):
    i = drive.open()
    assert drive.act(i, "return_to_office", "clerk", reason="不属于本单位职责") == "returned"
    assert drive.act(i, "reassign", "office", unit="HZ-SC-HB") == "transferred"
    assert drive.issue(i).unit_id == world.units["HZ-SC-HB"]
    assert drive.act(i, "sign_for", "clerk2") == "planning"
    with pytest.raises(service.NotFound):
        drive.act(i, "report_progress", "clerk", progress=1)


def test_plan_rejected_goes_back_to_planning(drive):
    i = drive.open()
    drive.act(i, "sign_for", "clerk")
    drive.act(i, "submit_plan", "clerk", measures=PLAN)
    drive.act(i, "attest_plan", "head", attested=True)
    assert drive.act(i, "reject_plan", "super", reason="措施不具体") == "planning"


def test_extension_keeps_both_dates(drive):
    i = drive.open()
    drive.to_correcting(i)
    with drive.db.reading() as s:
        first = s.scalar(
            select(ClockInstance).where(
                ClockInstance.issue_id == i,
                ClockInstance.clock == "rectify",
                ClockInstance.status == "running",
            )
        )
        original = first.due_at
    assert (
        drive.act(i, "request_extension", "clerk", new_due="2027-06-30", reason="涉及历史遗留问题")
        == "extension_review"
    )
    assert drive.act(i, "approve_extension", "super") == "correcting"
    with drive.db.reading() as s:
        inst = s.scalar(
            select(ClockInstance).where(
                ClockInstance.issue_id == i,
                ClockInstance.clock == "rectify",
                ClockInstance.status == "running",
            )
        )
        assert inst.original_due_at == original
        assert (
            inst.due_at.date().isoformat() >= "2027-06-30"
            or inst.due_at.date().isoformat() == "2027-06-30"
        )
    assert drive.issue(i).due_on.isoformat() == "2027-06-30"


def test_extension_rejected(drive):
    i = drive.open()
    drive.to_correcting(i)
    drive.act(i, "request_extension", "clerk", new_due="2027-06-30", reason="理由")
    assert drive.act(i, "reject_extension", "super", reason="理由不充分") == "correcting"


@pytest.mark.parametrize("grade", ["一般", "差"])
def test_poor_grade_sends_it_back(drive, grade):
    i = drive.open()
    drive.to_acceptance(i)
    assert drive.act(i, "accept", "super", grade=grade) == "re_rectify"


def test_rejected_closeout_and_second_rectification(drive):
    i = drive.open()
    drive.to_acceptance(i)
    assert drive.act(i, "reject_closeout", "super", reason="佐证不足") == "re_rectify"
    assert drive.act(i, "restart_rectification", "clerk", measures=PLAN) == "correcting"


def test_relapse_reopens_with_a_new_deadline(drive):
    i = drive.open()
    drive.to_acceptance(i)
    drive.act(i, "accept", "super", grade="较好")
    drive.act(i, "assign_checker", "office", checker="checker")
    assert (
        drive.act(i, "followup_relapse", "checker", reason="问题反弹", new_due="2027-03-31")
        == "correcting"
    )
    issue = drive.issue(i)
    assert issue.is_open and issue.due_at is not None and issue.relapse_count == 1


def test_fix_now_short_path(drive):
    i = drive.open(deadline_type="fix_now")
    drive.act(i, "sign_for", "clerk")
    drive.evidence(i)
    assert (
        drive.act(
            i, "fix_now_done", "head", completion="已完成", summary="已立行立改", attested=True
        )
        == "acceptance"
    )
    assert drive.act(i, "accept", "super", grade="好") == "closed"


def test_ongoing_items_never_count_as_closed(drive):
    i = drive.open(deadline_type="ongoing")
    drive.to_acceptance(i)
    assert drive.act(i, "mark_ongoing", "super") == "ongoing"
    issue = drive.issue(i)
    assert issue.state_kind == "ongoing" and issue.is_open
    assert drive.act(i, "report_periodic", "clerk", note="季度报告") == "ongoing"


# ------------------------------------------------------------------ guards rejecting


def test_guard_evidence_required_for_closeout(drive):
    i = drive.open()
    drive.to_correcting(i)
    with pytest.raises(service.GuardFailed, match="evidence"):
        drive.act(i, "request_closeout", "clerk", completion="已完成", summary="完成")


def test_guard_measures_required_for_plan(drive):
    i = drive.open()
    drive.act(i, "sign_for", "clerk")
    with pytest.raises((ValidationFailed, service.GuardFailed)):
        drive.act(i, "submit_plan", "clerk", measures=[])


def test_guard_separation_of_duties(drive, world):
    """Whoever requests close-out cannot approve it (a user holding both roles)."""
    from workflow.models import Membership

    with world.db.writing() as s:
        s.add(
            Membership(user_id=world.users["head"], unit_id=world.units["HZ-XH"], role="supervisor")
        )
    i = drive.open()
    drive.to_correcting(i)
    drive.evidence(i)
    drive.act(i, "request_closeout", "clerk", completion="已完成", summary="完成")
    drive.act(i, "attest_closeout", "head", attested=True)
    with pytest.raises(service.GuardFailed, match="separation of duties"):
        drive.act(i, "accept", "head", grade="好")


def test_recusal_refuses_assigning_a_checker_from_the_issues_unit(drive):
    i = drive.open()
    drive.to_acceptance(i)
    drive.act(i, "accept", "super", grade="好")
    with pytest.raises(ValidationFailed, match="回避"):
        drive.act(i, "assign_checker", "office", checker="checker_own")


def test_guard_recusal_reviewer_from_the_issues_unit(drive, world):
    """Even if someone from the unit ends up assigned (e.g. a move), the review is refused."""
    i = drive.open()
    drive.to_acceptance(i)
    drive.act(i, "accept", "super", grade="好")
    with world.db.writing() as s:
        s.get(Issue, i).checker_id = world.users["checker_own"]
    with pytest.raises(service.Denied, match="回避"):
        drive.act(i, "followup_holds", "checker_own", note="巩固")


def test_guard_deadline_type(drive):
    i = drive.open(deadline_type="by_deadline")
    drive.act(i, "sign_for", "clerk")
    drive.evidence(i)
    with pytest.raises(service.GuardFailed, match="deadline type"):
        drive.act(i, "fix_now_done", "head", completion="已完成", summary="x", attested=True)


def test_attestation_must_be_confirmed(drive):
    i = drive.open()
    drive.act(i, "sign_for", "clerk")
    drive.act(i, "submit_plan", "clerk", measures=PLAN)
    with pytest.raises(ValidationFailed) as err:
        drive.act(i, "attest_plan", "head", attested=False)
    assert "attested" in err.value.errors


def test_wrong_role_is_denied_and_audited(drive):
    i = drive.open()
    with pytest.raises(service.Denied):
        drive.act(i, "sign_for", "super")
    with drive.db.reading() as s:
        denied = s.scalars(
            select(Event).where(Event.issue_id == i, Event.outcome == "denied")
        ).all()
    assert [e.action for e in denied] == ["sign_for"]


def test_action_not_available_in_state(drive):
    i = drive.open()
    with pytest.raises(service.Denied, match="not available"):
        drive.act(i, "approve_plan", "super")


def test_other_unit_cannot_see_the_issue(drive):
    i = drive.open()
    with pytest.raises(service.NotFound):
        drive.act(i, "sign_for", "clerk2")


def test_unknown_and_bad_fields_are_named(drive):
    i = drive.open()
    drive.act(i, "sign_for", "clerk")
    with pytest.raises(ValidationFailed) as err:
        drive.act(i, "submit_plan", "clerk", measures="措施 | 2026-13-45", bogus="x")
    assert set(err.value.errors) == {"measures", "bogus"}


def test_stale_version_is_a_conflict_and_writes_nothing(drive):
    i = drive.open()
    seen = drive.issue(i).version
    drive.act(i, "sign_for", "clerk")
    with drive.db.reading() as s:
        before = s.scalar(select(func.count()).select_from(Event))
    with pytest.raises(service.Conflict) as err:
        drive.act(i, "return_to_office", "clerk", version=seen, reason="x")
    assert err.value.current_version == seen + 1
    assert [c["action"] for c in err.value.changes] == ["sign_for"]
    with drive.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Event)) == before
    assert drive.state(i) == "planning"


def test_notifications_are_enqueued_with_the_action(drive):
    i = drive.open()
    drive.act(i, "sign_for", "clerk")
    with drive.db.reading() as s:
        rows = s.scalars(select(Outbox).where(Outbox.issue_id == i)).all()
    assert rows, "the definition notifies on sign-for or open"
    assert all("ZG" in r.subject for r in rows)


def test_a_returned_plan_is_told_to_who_submitted_it(drive, world):
    """``requester`` is who took the latest action *before* this one: the clerk who
    submitted the plan, not the head sending it back.  (Resolved after the current event
    was chained, it named the head himself — fails with that order.)"""
    i = drive.open()
    drive.act(i, "sign_for", "clerk")
    drive.act(i, "submit_plan", "clerk", measures=PLAN)
    drive.act(i, "return_plan", "head", reason="措施不具体")
    with drive.db.reading() as s:
        told = set(
            s.scalars(
                select(Outbox.recipient_id).where(
                    Outbox.issue_id == i, Outbox.template == "plan_returned"
                )
            )
        )
    assert told == {world.users["clerk"]}


# ------------------------------------------------------------------ problem leads


def test_problem_lead_life_and_restriction(drive, world):
    i = drive.open("problem_lead", unit="HZ", title="某局干部涉嫌违规线索", cadre_level="市管干部")
    with pytest.raises(service.NotFound):
        drive.act(i, "accept_lead", "super")
    assert drive.act(i, "accept_lead", "discipline") == "accepted"
    assert drive.act(i, "dispose", "discipline", disposition="初步核实") == "disposed"
    assert (
        drive.act(
            i,
            "record_outcome",
            "discipline",
            cases_opened=1,
            sanctions=1,
            org_measures=0,
            note="立案",
        )
        == "outcome_recorded"
    )
    assert drive.act(i, "send_feedback", "discipline", note="已反馈") == "fed_back"
    issue = drive.issue(i)
    assert issue.restricted and issue.cases_opened == 1 and not issue.is_open
    with drive.db.reading() as s:
        recipients = set(s.scalars(select(Outbox.recipient_id).where(Outbox.issue_id == i)))
    allowed = {world.users["office"], world.users["discipline"], world.users["cityoffice"]}
    assert recipients <= allowed


def test_problem_lead_on_hold_pauses_the_clock(drive):
    i = drive.open("problem_lead", unit="HZ", title="线索")
    drive.act(i, "accept_lead", "discipline")
    due_before = drive.issue(i).due_at
    assert drive.act(i, "dispose", "discipline", disposition="暂存待查") == "on_hold"
    drive.clock.advance(days=30)
    assert drive.act(i, "resume", "discipline") == "accepted"
    assert drive.issue(i).due_at - due_before >= timedelta(days=30)


# ------------------------------------------------------------------ common problems


def test_common_problem_fans_out_and_closes_when_children_do(drive):
    p = drive.open("common_problem", unit="ZJ", title="供销系统共性问题")
    assert drive.act(p, "fan_out", "office", units="HZ-XH-LY,HZ-SC-HB") == "fanned_out"
    with drive.db.reading() as s:
        children = s.scalars(select(Issue.id).where(Issue.parent_id == p)).all()
    assert len(children) == 2
    with pytest.raises(service.GuardFailed, match="not closed"):
        drive.act(p, "close_parent", "office")
    drive.act(p, "add_units", "office", units="HZ-SC-HB")  # the same unit twice opens nothing
    with drive.db.reading() as s:
        assert len(s.scalars(select(Issue.id).where(Issue.parent_id == p)).all()) == 2
    # close both children through their own workflow
    with drive.db.reading() as s:
        by_unit = {s.get(Issue, c).unit.code: c for c in children}
    c1 = by_unit["HZ-XH-LY"]
    drive.to_acceptance(c1)
    drive.act(c1, "accept", "super", grade="好")
    c2 = by_unit["HZ-SC-HB"]
    drive.act(c2, "sign_for", "clerk2")
    drive.act(c2, "submit_plan", "clerk2", measures=PLAN)
    drive.act(c2, "attest_plan", "head2", attested=True)
    drive.act(c2, "approve_plan", "citysuper")
    drive.evidence(c2, "clerk2")
    drive.act(c2, "request_closeout", "clerk2", completion="已完成", summary="完成")
    drive.act(c2, "attest_closeout", "head2", attested=True)
    drive.act(c2, "accept", "citysuper", grade="好")
    assert drive.act(p, "close_parent", "office") == "closed"


# ------------------------------------------------------------------ deadlines


def test_sign_for_deadline_counts_working_days(drive):
    # opened Wed 2026-09-30 09:00 Beijing: the National Day break follows
    drive.clock.set(datetime(2026, 9, 30, 1, 0, tzinfo=UTC))
    i = drive.open()
    with drive.db.reading() as s:
        inst = s.scalar(select(ClockInstance).where(ClockInstance.issue_id == i))
    # 5 working days after 09-30: 10-08, 10-09, 10-10 (make-up Saturday), 10-12, 10-13
    assert inst.due_at == datetime(2026, 10, 13, 15, 59, 59, 999999, tzinfo=UTC)
    assert not inst.provisional


def test_open_validates_fields(drive, world):
    with pytest.raises(ValidationFailed) as err, world.db.writing() as s:
        service.open_issue(
            s,
            "rectification",
            {"title": "", "unit": "NOPE", "due_on": "明天", "colour": "red"},
            world.user(s, "office"),
            drive.clock(),
        )
    assert set(err.value.errors) == {"title", "unit", "due_on", "colour"}


def test_only_an_office_above_may_open(drive, world):
    with pytest.raises(service.Denied), world.db.writing() as s:
        service.open_issue(
            s,
            "rectification",
            {"title": "x", "unit": "NB-HS"},
            world.user(s, "cityoffice"),
            drive.clock(),
        )


def test_unit_head_sends_plan_and_closeout_back(drive):
    i = drive.open()
    drive.act(i, "sign_for", "clerk")
    drive.act(i, "submit_plan", "clerk", measures=PLAN)
    assert drive.act(i, "return_plan", "head", reason="措施不够具体") == "planning"
    drive.act(i, "submit_plan", "clerk", measures=PLAN)
    drive.act(i, "attest_plan", "head", attested=True)
    drive.act(i, "approve_plan", "super")
    drive.evidence(i)
    drive.act(i, "request_closeout", "clerk", completion="已完成", summary="完成")
    assert drive.act(i, "return_closeout", "head", reason="佐证材料不全") == "correcting"


@pytest.mark.parametrize(
    ("disposition", "state"),
    [
        ("谈话函询", "disposed"),
        ("初步核实", "disposed"),
        ("暂存待查", "on_hold"),
        ("予以了结", "outcome_recorded"),
    ],
)
def test_every_lead_disposition(drive, disposition, state):
    i = drive.open("problem_lead", unit="HZ", title="线索")
    drive.act(i, "accept_lead", "discipline")
    assert drive.act(i, "dispose", "discipline", disposition=disposition) == state
    assert drive.issue(i).disposition == disposition


def test_every_shipped_action_is_exercised_by_this_file():
    """A new action in a shipped definition needs a test here (text check, cheap and honest)."""
    from pathlib import Path

    from workflow.definition import load_directory
    from workflow.definition.registry import DEFAULT_DIR

    source = Path(__file__).read_text("utf-8")
    missing = [
        f"{d.name}.{a}"
        for d in load_directory(DEFAULT_DIR).values()
        for a in d.actions
        if f'"{a}"' not in source
    ]
    assert not missing, f"actions without a service test: {missing}"
