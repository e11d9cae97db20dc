"""What the service says is a Message (a code and parameters), not only an English string."""

from __future__ import annotations

import io
import os

import pytest
from sqlalchemy import select

from tests.test_service import PLAN, Driver
from workflow import service
from workflow.messages import Message, from_data
from workflow.models import Event, Issue
from workflow.service import evidence
from workflow.service.fields import ValidationFailed, parse_date


@pytest.fixture
def drive(world):
    return Driver(world)


def test_a_guard_failure_is_a_message_kept_in_the_denied_event(drive, world):
    i = drive.open()
    drive.to_correcting(i)
    with pytest.raises(service.GuardFailed) as info:
        drive.act(i, "request_closeout", "clerk", completion="已完成", summary="完成")
    said = info.value.args[0]
    assert isinstance(said, Message) and said.code == "service_guard_evidence"
    assert said.params["n"] == 0 and "evidence file(s) are required" in said
    with world.db.reading() as s:
        ev = s.scalars(select(Event).where(Event.issue_id == i, Event.outcome == "denied")).one()
        assert ev.data["reason"] == str(said)  # the old string stays as it was
        assert ev.data["message_data"]["code"] == "service_guard_evidence"
        assert from_data(ev.data["message_data"]) == said


def test_a_denial_by_role_is_a_message(drive):
    i = drive.open()
    with pytest.raises(service.Denied) as info:
        drive.act(i, "sign_for", "office")
    said = info.value.args[0]
    assert isinstance(said, Message) and said.code in (
        "service_denied_role",
        "service_denied_state",
    )


def test_a_field_error_is_a_message_with_a_code(drive):
    i = drive.open()
    drive.act(i, "sign_for", "clerk")
    drive.act(i, "submit_plan", "clerk", measures=PLAN)
    with pytest.raises(ValidationFailed) as info:
        drive.act(i, "attest_plan", "head", attested=False)
    (said,) = info.value.errors["attested"]
    assert isinstance(said, Message) and said.code == "service_field_unconfirmed"
    assert said == "must be confirmed"
    with pytest.raises(ValueError) as bad_date:
        parse_date("yesterday")
    assert bad_date.value.args[0].code == "service_field_bad_date"


def test_open_validation_says_messages(world):
    with world.db.writing() as s, pytest.raises(ValidationFailed) as info:
        service.open_issue(
            s, "rectification", {"title": "", "unit": "NOPE"}, world.user(s, "office"),
            world.clock(),
        )  # fmt: skip
    errors = info.value.errors
    assert errors["title"][0].code == "service_field_required"
    assert errors["unit"][0].code == "service_field_no_unit"
    assert errors["unit"][0] == "no unit with code 'NOPE'"


def test_a_conflict_is_a_message(drive, world):
    i = drive.open()
    with world.db.reading() as s:
        stale = s.get(Issue, i).version
    drive.act(i, "sign_for", "clerk")
    with pytest.raises(service.Conflict) as info:
        drive.act(i, "submit_plan", "clerk", version=stale, measures=PLAN)
    assert info.value.args[0].code == "service_conflict"


def test_refused_files_say_why_and_leave_nothing(tmp_path):
    for body, code in [(b"", "service_evidence_empty"), (b"hello", "service_evidence_type"),
                       (b"%PDF-1.4 <script>", "service_evidence_active")]:  # fmt: skip
        with pytest.raises(evidence.BadFile) as info:
            evidence.store_file(str(tmp_path), io.BytesIO(body), 1024)
        assert isinstance(info.value.args[0], Message) and info.value.args[0].code == code
    with pytest.raises(evidence.FileTooLarge):
        evidence.store_file(str(tmp_path), io.BytesIO(b"%PDF-1.4\n" + b"0" * 2048), 1024)
    assert os.listdir(tmp_path) == []
