"""What the Excel import and the unit tree say to people are Messages: a code, a template
the catalogue translates, and the place (sheet, row, column) among the parameters."""

from __future__ import annotations

import pytest

from tests.fixtures.excel.helpers import row, write_xlsx
from workflow import imports
from workflow.messages import Message
from workflow.org.units import UnitError, add_unit


def test_an_import_row_error_is_a_message_with_its_place(sqlite_world, tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [row(1, 整改时限="2026-13-45")])
    with sqlite_world.db.writing() as s:
        report = imports.import_issues(
            s, path, sqlite_world.user(s, "office"), sqlite_world.clock(), dry_run=True
        )
    problem = next(p for p in report.errors if p.column == "H")
    said = problem.message
    assert isinstance(said, Message)
    assert said.code == "import_due_not_a_date"
    assert said.params["sheet"] == problem.sheet and said.params["row"] == 3
    assert said.params["column"] == "H" and said.params["label"] == "整改时限"
    assert "is not a date" in said and said.template.startswith("%(label)s: ")
    assert str(problem).startswith(f"{problem.sheet}!H3: 整改时限: ")
    assert said in report.preview[0].messages


def test_an_import_file_error_is_a_message(sqlite_world, tmp_path):
    path = tmp_path / "notes.xlsx"
    path.write_text("序号,问题表现\n1,x\n", encoding="utf-8")
    with sqlite_world.db.writing() as s:
        report = imports.check_file(s, path, sqlite_world.user(s, "office"), sqlite_world.clock())
    said = report.errors[0].message
    assert isinstance(said, Message) and said.code == "import_file_not_xlsx"


def test_a_unit_error_is_a_message_with_a_code(sqlite_world):
    with sqlite_world.db.writing() as s, pytest.raises(UnitError) as err:
        add_unit(s, "", "某单位", "county")
    said = err.value.args[0]
    assert isinstance(said, Message) and said.code == "unit_code_bad"
    assert said.params == {"code": ""}
    assert str(err.value) == "unit code '': letters, digits, '.', '_' or '-' (at most 64)"
    with sqlite_world.db.writing() as s, pytest.raises(UnitError) as err:
        add_unit(s, "NEW-1", "某单位", "planet")
    said = err.value.args[0]
    assert said.code == "unit_level_bad" and said.params["level"] == "planet"
    assert "one of province, city, county" in said
