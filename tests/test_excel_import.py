"""Importing the 问题清单: columns found by header, dates in every common form, units matched
with suggestions, per-row messages, nothing written unless all rows are valid, no duplicates
on re-import, and at least fifteen malformed spreadsheets each giving the right message."""

from __future__ import annotations

import tracemalloc
import zipfile
from datetime import datetime

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import event, func, select

from tests.fixtures.excel.helpers import HEADERS, row, write_big_xlsx, write_xlsx
from workflow import audit, imports
from workflow.models import Issue, Round


@pytest.fixture
def w(sqlite_world):
    """The small province with round R1."""
    with sqlite_world.db.writing() as s:
        s.add(Round(code="R1", name="十四届省委第六轮巡视", kind="xunshi", level="province",
                    organiser_unit_id=sqlite_world.units["ZJ"]))  # fmt: skip
    return sqlite_world


def run(w, path, username="office", **kw):
    with w.db.writing() as s:
        return imports.import_issues(s, path, w.user(s, username), w.clock(), **kw)


def count(w):
    with w.db.reading() as s:
        return s.scalar(select(func.count()).select_from(Issue))


# ------------------------------------------------------------------------------ good files


def test_headers_in_any_order_english_dates_merges_blank_rows(w, tmp_path):
    headers = ["Unit", "Description", "No.", "Due date", "Deadline type", "Category", "Round",
               "Supporting units", "Person in charge"]  # fmt: skip
    rows = [
        ["灵隐街道", "会议记录不全。存在补记。", 1, datetime(2026, 12, 31), "限期整改", "党的建设缺失",
         "R1", "湖滨街道、上城区", "王五"],
        [None] * 9,
        ["HZ-SC-HB", "公车私用。", 2, 46387, "", "", "十四届省委第六轮巡视", "", ""],
        ["西湖区", "制度执行不严", 3, "2026/11/30", None, None, None, None, None],
        ["海曙区", "长期问题", 4, "", "长期坚持", None, None, None, None],
        ["上城区", "年底前完成", 5, "2026年12月底", "", None, None, None, None],
    ]  # fmt: skip
    path = write_xlsx(tmp_path / "en.xlsx", rows, headers=headers)
    dry = run(w, path, dry_run=True)
    assert dry.ok and dry.valid == 5 and dry.written is False and count(w) == 0
    assert dry.preview[0].title == "会议记录不全" and dry.preview[0].unit == "HZ-XH-LY"
    report = run(w, path)
    assert report.created == 5 and report.written
    with w.db.reading() as s:
        issues = {i.unit.code: i for i in s.scalars(select(Issue))}
        assert str(issues["HZ-SC-HB"].due_on) == "2026-12-31"  # serial 46387
        assert str(issues["HZ-SC"].due_on) == "2026-12-31"
        assert issues["NB-HS"].deadline_type == "ongoing"
        assert issues["HZ-SC-HB"].round.code == "R1"
        assert {s.unit.code for s in issues["HZ-XH-LY"].supporting} == {"HZ-SC-HB", "HZ-SC"}
    again = run(w, path)
    assert (again.existing, again.created) == (5, 0) and count(w) == 5


def test_a_vertically_merged_unit_column_fills_down(w, tmp_path):
    rows = [row(1), row(2, 责任单位=None), row(3, 责任单位=None)]
    path = write_xlsx(tmp_path / "m.xlsx", rows, merges=["D3:D5"])
    report = run(w, path)
    assert report.created == 3, report.errors


def test_section_heading_rows_across_the_table_are_skipped(w, tmp_path):
    rows = [["一、党的领导方面"] + [None] * (len(HEADERS) - 1), row(1)]
    path = write_xlsx(tmp_path / "s.xlsx", rows, merges=[f"A3:{chr(64 + len(HEADERS))}3"])
    assert run(w, path).created == 1


def test_valid_only_imports_the_good_rows(w, tmp_path):
    path = write_xlsx(tmp_path / "v.xlsx", [row(1), row(2, 责任单位="不存在单位"), row(3)])
    assert run(w, path).created == 0 and count(w) == 0
    report = run(w, path, valid_only=True)
    assert (report.created, report.invalid) == (2, 1) and count(w) == 2


def test_number_column_is_the_identity(w, tmp_path):
    headers = ["问题编号", *HEADERS]
    path = write_xlsx(tmp_path / "n.xlsx", [["XC-1", *row(1)], ["XC-2", *row(2)]], headers=headers)
    assert run(w, path).created == 2
    edited = write_xlsx(
        tmp_path / "n2.xlsx", [["XC-1", *row(1, 问题表现="改了描述")]], headers=headers
    )
    assert run(w, edited).existing == 1 and count(w) == 2


# ------------------------------------------------------------------------------ malformed


def _bad(w, path, needle, row_no=None, column=None, **kw):
    report = run(w, path, **kw)
    assert not report.written and count(w) == 0
    text = "\n".join(str(m) for m in report.errors)
    assert needle in text, text
    if row_no is not None:
        assert any(
            m.row == row_no and (column is None or m.column == column) for m in report.errors
        ), text
    return report


def test_wrong_headers(w, tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [[1, 2, 3]], headers=["甲", "乙", "丙"])
    _bad(w, path, "no sheet has a header row")


def test_missing_unit_column(w, tmp_path):
    path = write_xlsx(
        tmp_path / "a.xlsx",
        [["x", "y", "2026-12-31"]],
        headers=["问题表现", "问题类别", "整改时限"],
    )
    _bad(w, path, "no 责任单位/unit column")


def test_bad_date(w, tmp_path):
    _bad(
        w, write_xlsx(tmp_path / "a.xlsx", [row(1, 整改时限="2026-13-45")]), "is not a date", 3, "H"
    )


def test_unknown_unit_with_suggestion(w, tmp_path):
    r = _bad(
        w,
        write_xlsx(tmp_path / "a.xlsx", [row(1, 责任单位="西胡区")]),
        "did you mean 西湖区",
        3,
        "D",
    )
    assert r.errors[0].sheet == "问题清单"


def test_duplicate_rows(w, tmp_path):
    _bad(w, write_xlsx(tmp_path / "a.xlsx", [row(1), row(1)]), "duplicate of row 3", 4)


def test_formula(w, tmp_path):
    _bad(
        w,
        write_xlsx(tmp_path / "a.xlsx", [row(1, 问题表现='=CONCAT("a","b")')]),
        "holds a formula",
        3,
        "C",
    )


def test_huge_cell(w, tmp_path):
    _bad(
        w,
        write_xlsx(tmp_path / "a.xlsx", [row(1, 问题表现="很" * 20000)]),
        "20000 characters long",
        3,
    )


def test_encrypted_workbook(w, tmp_path):
    path = tmp_path / "locked.xlsx"  # an encrypted .xlsx is an OLE2 compound file
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2000)
    _bad(w, path, "the file is encrypted or not an .xlsx")


def test_xls_renamed(w, tmp_path):
    path = tmp_path / "old.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00" + b"Workbook" * 100)
    _bad(w, path, "encrypted or not an .xlsx")


def test_not_a_spreadsheet(w, tmp_path):
    path = tmp_path / "notes.xlsx"
    path.write_text("序号,问题表现\n1,x\n", encoding="utf-8")
    _bad(w, path, "not an .xlsx workbook")


def test_a_zip_that_is_not_a_workbook(w, tmp_path):
    path = tmp_path / "z.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "hi")
    _bad(w, path, "not a readable .xlsx")


def test_empty_workbook(w, tmp_path):
    path = tmp_path / "empty.xlsx"
    Workbook().save(path)
    _bad(w, path, "no sheet has a header row")


def test_only_headers(w, tmp_path):
    _bad(w, write_xlsx(tmp_path / "a.xlsx", []), "no data rows")


def test_date_in_the_past(w, tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [row(1, 整改时限="2020-01-01")])
    _bad(w, path, "2020-01-01 is in the past", 3, "H")
    assert run(w, path, allow_past=True).created == 1


def test_unknown_deadline_type(w, tmp_path):
    _bad(
        w, write_xlsx(tmp_path / "a.xlsx", [row(1, 整改类型="尽快整改")]), "is not 立行立改", 3, "I"
    )


def test_too_long_title(w, tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [["标" * 400, *row(1)]], headers=["问题标题", *HEADERS])
    _bad(w, path, "400 characters long; at most 300", 3, "A")


def test_merged_cells_across_fields(w, tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [row(1), row(2)], merges=["B4:D4"])
    _bad(w, path, "merged across 问题类别, 问题表现, 责任单位", 4)


def test_unit_outside_the_importers_office(w, tmp_path):
    _bad(w, write_xlsx(tmp_path / "a.xlsx", [row(1, 责任单位="海曙区")]), "outside your office", 3,
         username="cityoffice")  # fmt: skip


def test_by_deadline_without_a_date_and_unknown_round(w, tmp_path):
    _bad(
        w, write_xlsx(tmp_path / "a.xlsx", [row(1, 整改时限=None)]), "限期整改 needs a due date", 3
    )
    _bad(w, write_xlsx(tmp_path / "b.xlsx", [row(1, 轮次="R9")]), "no round 'R9'", 3, "J")


def test_not_an_office(w, tmp_path):
    _bad(
        w, write_xlsx(tmp_path / "a.xlsx", [row(1)]), "only an inspection office", username="clerk"
    )


# ------------------------------------------------------------------------------ memory


def test_2000_rows_are_checked_with_bounded_memory(w, tmp_path):
    path = write_big_xlsx(tmp_path / "big.xlsx", 2000)
    tracemalloc.start()
    report = run(w, path, dry_run=True)
    _, streamed = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert report.ok and report.valid == 2000
    tracemalloc.start()
    load_workbook(path)  # what loading everything at once takes
    _, whole = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert streamed < whole / 2, (streamed, whole)


def test_rows_are_imported_in_batches(w, tmp_path):
    """Writing goes through service.open_issues in batches: the statements sent do not grow
    with the rows (without batches, 1,200 rows took ~20,000 statements; now under 100)."""
    path = write_big_xlsx(tmp_path / "big.xlsx", 1200)
    sent = []
    listen = lambda _c, _cur, stmt, *_a: sent.append(" ".join(stmt.split()[:4]))  # noqa: E731
    event.listen(w.db.engine, "before_cursor_execute", listen)
    try:
        report = run(w, path)
    finally:
        event.remove(w.db.engine, "before_cursor_execute", listen)
    assert report.created == 1200 and count(w) == 1200
    assert len(sent) < 100, __import__("collections").Counter(sent).most_common(5)
    with w.db.reading() as s:
        assert audit.verify(s).ok  # ids drawn up front keep the chain in id order


@pytest.mark.slow
def test_2000_rows_are_imported(w, tmp_path):
    path = write_big_xlsx(tmp_path / "big.xlsx", 2000)
    assert run(w, path).created == 2000 and count(w) == 2000


@pytest.mark.slow
@pytest.mark.timeout(4 * 3600)
def test_50000_rows_with_bounded_memory(w, tmp_path):
    path = write_big_xlsx(tmp_path / "huge.xlsx", 50_000)
    tracemalloc.start()
    report = run(w, path, dry_run=True)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert report.valid == 50_000 and peak < 40 * 1024 * 1024, peak
    tracemalloc.start()
    report = run(w, path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # written in batches with the identity map cleared after each: memory of a batch, not
    # of the file
    assert report.created == 50_000 and peak < 80 * 1024 * 1024, peak


def test_a_unit_name_and_code_that_disagree_are_refused(w, tmp_path):
    """A row naming 灵隐街道 but giving 湖滨街道's code is not imported to the code's unit
    silently: the row is refused, naming both, in the name's cell."""
    headers = [*HEADERS, "责任单位代码"]
    good = [*row(1), "HZ-XH-LY"]
    wrong = [*row(2), "HZ-SC-HB"]
    report = _bad(w, write_xlsx(tmp_path / "a.xlsx", [good, wrong], headers=headers),
                  "is not unit HZ-SC-HB", 4, "D")  # fmt: skip
    assert report.errors[0].message.code == "import_unit_mismatch"
    report = run(w, write_xlsx(tmp_path / "b.xlsx", [good], headers=headers))
    assert report.written and count(w) == 1  # name and code agreeing: imported
