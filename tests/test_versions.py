"""Definition versions: issues stay pinned; a changed file is a new version; a broken file
never takes down running issues; migration is a dry run first and refuses unsafe moves."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from workflow import service
from workflow.definition.registry import DEFAULT_DIR, plan_migration, sync_definitions
from workflow.models import DefinitionVersion, Event, Issue


@pytest.fixture
def defs_dir(tmp_path) -> Path:
    """A private copy of the shipped definitions to edit."""
    target = tmp_path / "definitions"
    target.mkdir()
    for path in DEFAULT_DIR.glob("*.yaml"):
        shutil.copy(path, target / path.name)
    return target


def _open(world, **fields) -> int:
    fields.setdefault("title", "问题")
    fields.setdefault("unit", "HZ-XH-LY")
    with world.db.writing() as s:
        return service.open_issue(
            s, "rectification", fields, world.user(s, "office"), world.clock()
        ).id


def _edit(defs_dir: Path, old: str, new: str) -> None:
    path = defs_dir / "rectification.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_changed_file_is_a_new_version_and_issues_stay_pinned(sqlite_world, defs_dir):
    world = sqlite_world
    first = _open(world)
    _edit(defs_dir, "label: {zh: 签收, en: Sign for}", "label: {zh: 签收问题, en: Sign for}")
    with world.db.writing() as s:
        report = sync_definitions(s, world.clock(), defs_dir)
    assert ("rectification", True) in {(n, new) for n, _v, new in report.loaded}
    second = _open(world)
    with world.db.reading() as s:
        a, b = s.get(Issue, first), s.get(Issue, second)
        assert a.definition_id != b.definition_id
        assert service.get_definition(a).actions["sign_for"].label.zh == "签收"
        assert service.get_definition(b).actions["sign_for"].label.zh == "签收问题"
        assert (
            len(
                s.scalars(
                    select(DefinitionVersion).where(DefinitionVersion.name == "rectification")
                ).all()
            )
            == 2
        )


def test_a_broken_file_is_skipped_and_running_issues_keep_working(sqlite_world, defs_dir):
    world = sqlite_world
    issue_id = _open(world)
    (defs_dir / "rectification.yaml").write_text("name: rectification\nstates: [\n", "utf-8")
    with world.db.writing() as s:
        report = sync_definitions(s, world.clock(), defs_dir)
    assert report.problems and "rectification.yaml:" in str(report.problems[0])
    with world.db.write_session() as s:
        issue = s.get(Issue, issue_id)
        result = service.act(
            s, issue, "sign_for", world.user(s, "clerk"), {}, issue.version, world.clock()
        )
        s.commit()
    assert result.to_state == "planning"


def test_migration_dry_run_lists_changes_and_applies_safely(sqlite_world, defs_dir):
    world = sqlite_world
    issue_id = _open(world)
    _edit(defs_dir, "label: {zh: 签收, en: Sign for}", "label: {zh: 签收问题, en: Sign for}")
    with world.db.writing() as s:
        sync_definitions(s, world.clock(), defs_dir)
        plan = plan_migration(s, "rectification")
        assert not plan.blocked and plan.per_version[0][1] == 1
        moved = service.apply_migration(s, plan, None, world.clock())
    assert moved == 1
    with world.db.reading() as s:
        issue = s.get(Issue, issue_id)
        assert issue.definition.version == plan.target.version and issue.version == 2
        ev = s.scalars(select(Event).where(Event.action == "definition_migrated")).one()
        assert ev.issue_id == issue_id


def test_migration_refuses_when_a_state_in_use_is_gone(sqlite_world, defs_dir):
    world = sqlite_world
    _open(world)  # sits in `transferred`
    path = defs_dir / "rectification.yaml"
    text = path.read_text("utf-8").replace("transferred", "handed_over")
    path.write_text(text, "utf-8")
    with world.db.writing() as s:
        sync_definitions(s, world.clock(), defs_dir)
        plan = plan_migration(s, "rectification")
        assert plan.blocked
        assert any(
            "transferred" in b for _dv, _n, _c, blockers in plan.per_version for b in blockers
        )
        with pytest.raises(service.Denied):
            service.apply_migration(s, plan, None, world.clock())
        mapped = plan_migration(s, "rectification", {"transferred": "handed_over"})
        assert not mapped.blocked
        assert (
            service.apply_migration(s, mapped, {"transferred": "handed_over"}, world.clock()) == 1
        )
    with world.db.reading() as s:
        assert s.scalar(select(Issue.state)) == "handed_over"


def test_migration_refuses_changed_clock_semantics(sqlite_world, defs_dir):
    world = sqlite_world
    _open(world)
    path = defs_dir / "rectification.yaml"
    text = path.read_text("utf-8")
    start = text.index("  sign_for:\n    label: {zh: 签收时限")
    amount = text.index("amount:", start)
    end = text.index("\n", amount)
    path.write_text(text[:amount] + "amount: 9" + text[end:], "utf-8")
    with world.db.writing() as s:
        sync_definitions(s, world.clock(), defs_dir)
        assert plan_migration(s, "rectification").blocked
        assert not plan_migration(s, "rectification", allow_clock_changes=True).blocked
