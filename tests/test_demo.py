"""The demo province loads through the real service: every role has an account, issues sit
in many stages, the linkage story plays, and the audit chain verifies."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from workflow import audit
from workflow.clock.calendar_load import seed_from_packages
from workflow.demo.province import build, is_empty
from workflow.models import Issue, Membership


def test_demo_province(sqlite_database):
    db = sqlite_database
    now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    with db.writing() as s:
        seed_from_packages(s, years=[2025, 2026])
        assert is_empty(s)
    demo = build(db, now, issues_per_county=8, max_counties=8)
    assert demo.units > 300 and demo.issues > 60
    roles = {role for _u, role, _unit in demo.accounts}
    assert {
        "office",
        "leader",
        "discipline",
        "supervisor",
        "spot_check",
        "unit_user",
        "unit_head",
    } <= roles
    with db.reading() as s:
        states = set(s.scalars(select(Issue.state).where(Issue.kind == "rectification")))
        assert {"transferred", "planning", "correcting", "acceptance", "closed"} <= states
        assert s.scalar(select(func.count()).where(Issue.kind == "problem_lead")) >= 10
        assert s.scalar(select(func.count()).where(Issue.parent_id.is_not(None))) >= 5
        assert s.scalar(select(func.count()).select_from(Membership)) > 500
        assert audit.verify(s).ok
        assert not is_empty(s)


def test_demo_evidence_files_are_real_and_accepted(sqlite_database, tmp_path):
    """Every demo evidence row has a stored file of an accepted type whose SHA-256 is the
    row's, so a demo download answers the file instead of 404."""
    import hashlib

    from workflow.demo.steps import write_evidence_files
    from workflow.models import Evidence
    from workflow.service.evidence import TYPES, sniff_bytes

    db = sqlite_database
    now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    with db.writing() as s:
        seed_from_packages(s, years=[2025, 2026])
    build(db, now, issues_per_county=6, max_counties=3)
    folder = tmp_path / "uploads"
    with db.reading() as s:
        written = write_evidence_files(s, str(folder))
        rows = list(s.scalars(select(Evidence)))
        assert rows and written == len(rows)
        assert write_evidence_files(s, str(folder)) == 0  # a second run writes nothing again
    for ev in rows:
        data = (folder / ev.stored_name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == ev.sha256 and len(data) == ev.size
        assert TYPES[sniff_bytes(data)] == ev.content_type and ev.filename.endswith(".pdf")
