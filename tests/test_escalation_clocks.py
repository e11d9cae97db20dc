"""The other clocks the sweep runs: the follow-up visit after close-out (回访) and the
problem lead's feedback clock — each rung once, to the right people."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.test_escalation import local, open_rect, walk_to_correcting
from workflow import service
from workflow.clock.escalation import sweep
from workflow.models import ClockInstance, Escalation, Evidence, Issue, Outbox


def fired(db, issue_id: int) -> list[tuple[str, str]]:
    """(clock, rung) of every escalation of an issue, in firing order."""
    with db.reading() as s:
        return [
            tuple(r)
            for r in s.execute(
                select(Escalation.clock, Escalation.rung)
                .where(Escalation.issue_id == issue_id)
                .order_by(Escalation.id)
            )
        ]


def _close(session, world, issue, at):
    """From correcting to 已销号 (closed): evidence, request, attest, accept."""
    session.add(
        Evidence(
            issue_id=issue.id,
            filename="纪要.pdf",
            stored_name=f"f{issue.id}",
            content_type="application/pdf",
            size=1,
            sha256="0" * 64,
            uploaded_by=world.users["clerk"],
            uploaded_at=at,
        )
    )
    for n, (action, user, data) in enumerate(
        [
            ("request_closeout", "clerk", {"completion": "已完成", "summary": "完成"}),
            ("attest_closeout", "head", {"attested": True}),
            ("accept", "super", {"grade": "好"}),
        ]
    ):
        service.act(
            session,
            issue,
            action,
            world.user(session, user),
            data,
            issue.version,
            at + timedelta(minutes=n + 1),
        )


def test_follow_up_visit_reminder_and_overdue_fire_once_after_close_out(sqlite_world):
    world = sqlite_world
    opened = local(2026, 1, 5)
    with world.db.writing() as s:
        issue = open_rect(s, world, "HZ-XH-LY", "2026-03-31", opened)
        walk_to_correcting(s, world, issue, opened + timedelta(days=1))
        _close(s, world, issue, opened + timedelta(days=20))
        service.act(
            s,
            issue,
            "assign_checker",
            world.user(s, "office"),
            {"checker": "checker"},
            issue.version,
            opened + timedelta(days=21),
        )
        issue_id = issue.id
    with world.db.reading() as s:
        follow = s.scalars(
            select(ClockInstance).where(
                ClockInstance.issue_id == issue_id,
                ClockInstance.clock == "followup",
                ClockInstance.status == "running",
            )
        ).one()
        assert s.get(Issue, issue_id).state == "closed"
    due = follow.due_at
    sweep(world.db, due - timedelta(days=30))
    assert [r for c, r in fired(world.db, issue_id) if c == "followup"] == []
    sweep(world.db, due - timedelta(hours=1))
    sweep(world.db, due + timedelta(days=5))
    sweep(world.db, due + timedelta(days=5))  # a second run adds nothing
    got = [(c, r) for c, r in fired(world.db, issue_id) if c == "followup"]
    assert got == [("followup", "remind_7"), ("followup", "yellow")]
    with world.db.reading() as s:
        told = set(
            s.scalars(
                select(Outbox.recipient_id).where(
                    Outbox.issue_id == issue_id, Outbox.template == "escalation"
                )
            )
        )
        # the checker, and the nearest inspection office (the city's 巡察办)
        assert world.users["checker"] in told and world.users["cityoffice"] in told


def test_problem_lead_feedback_clock_reminds_then_cards_only_discipline_and_office(sqlite_world):
    world = sqlite_world
    opened = local(2026, 3, 2)
    with world.db.writing() as s:
        lead = service.open_issue(
            s, "problem_lead", {"title": "线索", "unit": "HZ"}, world.user(s, "office"), opened
        )
        service.act(
            s,
            lead,
            "accept_lead",
            world.user(s, "discipline"),
            {},
            lead.version,
            opened + timedelta(days=1),
        )
        lead_id, due = lead.id, lead.due_at
    assert due is not None
    sweep(world.db, due + timedelta(days=40))
    got = fired(world.db, lead_id)
    assert got == [("feedback", "remind_7"), ("feedback", "yellow"), ("feedback", "red")]
    with world.db.reading() as s:
        told = set(s.scalars(select(Outbox.recipient_id).where(Outbox.issue_id == lead_id)))
        offices = {world.users["office"], world.users["cityoffice"]}
        assert told and told <= {world.users["discipline"]} | offices
        assert s.get(Issue, lead_id).warning_level == "red"
