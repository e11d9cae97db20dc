"""Exporting the 整改台账 and the statistics report; an export re-imports to the same data;
the CLI commands (import-issues, export-ledger, export-stats, token …)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from tests.conftest import FakeClock, build_world, make_database
from tests.fixtures.excel.helpers import row, write_xlsx
from workflow import imports, queries, service
from workflow.models import Issue, Round
from workflow.queries import export

FIELDS = ("number", "title", "description", "category", "source", "supervising_leader",
          "person_in_charge", "deadline_type", "due_on")  # fmt: skip


def _round(world):
    with world.db.writing() as s:
        s.add(Round(code="R1", name="十四届省委第六轮巡视", kind="xunshi", level="province",
                    organiser_unit_id=world.units["ZJ"]))  # fmt: skip


@pytest.fixture
def w(sqlite_world):
    _round(sqlite_world)
    with sqlite_world.db.writing() as s:
        office = sqlite_world.user(s, "office")
        for n, (unit, extra) in enumerate([
            ("HZ-XH-LY", {"supporting_units": ["HZ-SC-HB"], "category": "党的建设缺失"}),
            ("HZ-SC-HB", {"deadline_type": "fix_now", "due_on": None}),
            ("NB-HS", {"deadline_type": "ongoing", "due_on": None, "source": "巡察"}),
        ], 1):  # fmt: skip
            fields = {"title": f"问题{n}", "description": f"第{n}个问题的表现。细节。", "unit": unit,
                      "round": "R1", "due_on": "2026-12-31", "supervising_leader": "张三",
                      "person_in_charge": "李四", "source": "巡视", **extra}  # fmt: skip
            service.open_issue(s, "rectification", fields, office, sqlite_world.clock())
    return sqlite_world


def snapshot(world):
    with world.db.reading() as s:
        out = {}
        for i in s.scalars(select(Issue).order_by(Issue.number)):
            out[i.number] = (
                *(getattr(i, f) for f in FIELDS), i.unit.code, i.round.code if i.round else None,
                tuple(sorted(x.unit.code for x in i.supporting)),
            )  # fmt: skip
        return out


def test_ledger_layout(w, tmp_path):
    path = tmp_path / "ledger.xlsx"
    with w.db.reading() as s:
        n = export.export_ledger(s, w.user(s, "office"), path, w.clock(),
                                       queries.Filters(unit_id=w.units["HZ"]))  # fmt: skip
    assert n == 2
    wb = load_workbook(path)
    ws = wb.active
    assert "杭州市" in ws["A1"].value and "A1:T1" in {str(r) for r in ws.merged_cells.ranges}
    assert [c.value for c in ws[3]][:4] == ["序号", "问题编号", "轮次", "来源"]
    assert ws.freeze_panes == "A4" and ws.print_title_rows == "$3:$3"
    assert ws.page_setup.orientation == "landscape" and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.column_dimensions["G"].width == 48
    values = [c.value for c in ws[4]]
    assert values[7] == "灵隐街道" and values[9] == "湖滨街道" and values[12] == "限期整改"
    assert values[18] == "正常" and values[19] == 0 and values[15] == "0%"


def test_an_export_reimports_to_the_same_data(w, tmp_path):
    path = tmp_path / "ledger.xlsx"
    with w.db.reading() as s:
        export.export_ledger(s, w.user(s, "office"), path, w.clock())
    before = snapshot(w)
    # into the same database: nothing new
    with w.db.writing() as s:
        again = imports.import_issues(s, path, w.user(s, "office"), w.clock())
    assert (again.existing, again.created, again.invalid) == (3, 0, 0), again.errors
    # into a fresh database: the same issues
    fresh = build_world(
        make_database(f"sqlite:///{tmp_path / 'fresh.sqlite'}"), FakeClock(w.clock())
    )
    _round(fresh)
    with fresh.db.writing() as s:
        report = imports.import_issues(s, path, fresh.user(s, "office"), fresh.clock())
    assert report.created == 3, report.errors
    assert snapshot(fresh) == before


def test_statistics_report_has_a_sheet_per_dimension(w, tmp_path):
    path = tmp_path / "stats.xlsx"
    with w.db.reading() as s:
        export.export_statistics(s, w.user(s, "leader"), path, w.clock(),
                                       queries.Filters(unit_id=w.units["ZJ"]))  # fmt: skip
    wb = load_workbook(path)
    assert wb.sheetnames[:5] == ["总体", "按单位", "按类别", "按轮次", "按月份"]
    overall = {r[0]: r[1] for r in wb["总体"].iter_rows(min_row=3, values_only=True)}
    assert overall["问题总数"] == 3
    units = {r[0]: r[1] for r in wb["按单位"].iter_rows(min_row=3, values_only=True)}
    assert units == {"杭州市": 2, "宁波市": 1}


# ------------------------------------------------------------------------------ CLI


@pytest.fixture
def cli(w, monkeypatch, tmp_path):
    from web.cli import cli as group

    monkeypatch.setenv("RECTIFLOW_DATABASE_URL", w.db.url)
    monkeypatch.setenv("RECTIFLOW_INSTANCE", str(tmp_path / "inst"))
    runner = CliRunner()

    def invoke(*args, ok=True):
        result = runner.invoke(group, list(args), catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return invoke


def test_cli_import_dry_run_valid_only_and_exports(cli, w, tmp_path):
    good = write_xlsx(tmp_path / "g.xlsx", [row(1), row(2, 责任单位="西胡区")])
    out = cli("import-issues", str(good), "--as", "office", "--dry-run", ok=False)
    assert (
        out.exit_code == 1 and "问题清单!D4" in out.output and "did you mean 西湖区" in out.output
    )
    out = cli("import-issues", str(good), "--as", "office", "--valid-only")
    assert "1 issues created" in out.output
    cli("export-ledger", str(tmp_path / "l.xlsx"), "--unit", "HZ")
    assert load_workbook(tmp_path / "l.xlsx").active.max_row == 3 + 3
    cli("export-stats", str(tmp_path / "s.xlsx"))
    assert "总体" in load_workbook(tmp_path / "s.xlsx").sheetnames
    assert cli("export-ledger", str(tmp_path / "x.xlsx"), "--unit", "NOPE", ok=False).exit_code == 1


def test_cli_tokens(cli):
    created = cli("token", "create", "super", "--name", "督办系统")
    plaintext = created.stdout.strip().splitlines()[0]
    assert plaintext.startswith("rf_")
    listed = cli("token", "list").output
    assert "督办系统" in listed and plaintext not in listed and "never" in listed
    token_id = listed.split()[0]
    assert "revoked" in cli("token", "revoke", token_id).output
    assert "revoked" in cli("token", "list", "--user", "super").output
    assert cli("token", "create", "nobody", ok=False).exit_code == 1
    assert cli("token", "revoke", "999", ok=False).exit_code == 1
