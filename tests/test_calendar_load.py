"""Seeding the working calendar from packages and loading a year from YAML/XLSX."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from workflow.clock import calendar_load
from workflow.clock.calendar import WorkCalendar
from workflow.clock.calendar_load import (
    CalendarFileError,
    YearLoad,
    load_calendar_file,
    package_version,
    package_years,
    probe_years,
    seed_from_packages,
)
from workflow.db import Database
from workflow.models import Base, CalendarYear, WorkDay

EXAMPLE_2027 = Path(__file__).resolve().parent.parent / "definitions/calendars/2027.example.yaml"
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def D(text: str) -> date:
    return date.fromisoformat(text)


@pytest.fixture
def db(tmp_path) -> Database:
    """A fresh SQLite file with 2025 and 2026 seeded (what the test world uses)."""
    database = Database(f"sqlite:///{tmp_path / 'cal.sqlite'}")
    Base.metadata.create_all(database.engine)
    with database.writing() as s:
        seed_from_packages(s, years=[2025, 2026], now=NOW)
    yield database
    database.dispose()


def table_state(db: Database) -> tuple:
    """Everything in both tables, to prove a failed load wrote nothing."""
    with db.reading() as s:
        years = s.execute(
            select(CalendarYear.year, CalendarYear.source, CalendarYear.loaded_at).order_by(
                CalendarYear.year
            )
        ).all()
        days = s.execute(
            select(
                WorkDay.day, WorkDay.is_workday, WorkDay.kind, WorkDay.name, WorkDay.source
            ).order_by(WorkDay.day)
        ).all()
    return tuple(years), tuple(days)


def rows_of(db: Database, year: int) -> dict[date, WorkDay]:
    with db.reading() as s:
        return {
            r.day: r
            for r in s.scalars(
                select(WorkDay).where(WorkDay.day.between(date(year, 1, 1), date(year, 12, 31)))
            )
        }


# ------------------------------------------------------------------ seeding


def test_seed_everything_the_package_covers_and_idempotent(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'all.sqlite'}")
    Base.metadata.create_all(database.engine)
    try:
        with database.writing() as s:
            years = seed_from_packages(s, years=[2025, 2026], now=NOW)
        assert years == [2025, 2026]
        with database.writing() as s:
            years = seed_from_packages(s, now=NOW)
        assert years == list(range(2004, 2025))  # the rest; 2025 and 2026 skipped
        assert years.warnings == []  # both packages agree on every year
        with database.reading() as s:
            loaded = dict(s.execute(select(CalendarYear.year, CalendarYear.source)).all())
            per_year = dict(
                s.execute(
                    select(func.strftime("%Y", WorkDay.day), func.count()).group_by(
                        func.strftime("%Y", WorkDay.day)
                    )
                ).all()
            )
        assert set(range(2004, 2027)) <= set(loaded)
        assert set(loaded.values()) == {f"chinese-calendar {package_version()}"}
        for year in range(2004, 2027):
            leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
            assert per_year[str(year)] == (366 if leap else 365)
        before = table_state(database)
        with database.writing() as s:
            assert seed_from_packages(s, now=NOW) == []
        assert table_state(database) == before
    finally:
        database.dispose()


def test_package_range_is_probed_not_hard_coded():
    covered = package_years()
    assert covered.start == 2004 and covered.stop >= 2027  # 2004–2026 with 1.11.0

    class Fake:
        @staticmethod
        def is_workday(d: date) -> bool:
            if not 2010 <= d.year <= 2012:
                raise NotImplementedError(f"no available data for year {d.year}")
            return d.weekday() < 5

    assert probe_years(Fake, 2026) == range(2010, 2013)
    assert probe_years(Fake, 2011) == range(2010, 2013)
    assert probe_years(Fake, 1990) == range(0)


def test_seeding_an_uncovered_year_is_loud(db):
    expected = r"no data for \[2027\].*load those years from a file"
    with pytest.raises(ValueError, match=expected), db.writing() as s:
        seed_from_packages(s, years=[2026, 2027])


def test_seeded_makeup_days_match_the_reference(db):
    for year, expected in {
        2025: ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"],
        2026: [
            "2026-01-04",
            "2026-02-14",
            "2026-02-28",
            "2026-05-09",
            "2026-09-20",
            "2026-10-10",
        ],
    }.items():
        rows = rows_of(db, year)
        makeup = sorted(d for d, r in rows.items() if r.kind == "makeup")
        assert makeup == [D(x) for x in expected]
        assert all(rows[d].is_workday for d in makeup)
        assert all(r.kind in ("workday", "weekend", "holiday", "makeup") for r in rows.values())
        assert all(r.is_workday == (r.kind in ("workday", "makeup")) for r in rows.values())


def test_cross_check_warns_and_never_overrides(db, monkeypatch, caplog):
    import holidays

    class China(dict):
        def __init__(self, years: int) -> None:
            super().__init__({date(years, 10, 8): "Made-up Holiday", date(years, 10, 1): "Nat"})

    monkeypatch.setattr(holidays, "China", China)
    with db.writing() as s, caplog.at_level(logging.WARNING, "workflow.clock.calendar_load"):
        seeded = seed_from_packages(s, years=[2024], now=NOW)
    assert seeded == [2024]
    assert len(seeded.warnings) == 1
    assert "2024-10-08" in seeded.warnings[0] and "Made-up Holiday" in seeded.warnings[0]
    assert "2024-10-08" in caplog.text
    row = rows_of(db, 2024)[D("2024-10-08")]
    assert row.is_workday and row.kind == "workday"  # chinese-calendar's answer kept


def test_seeding_without_the_holidays_package(db, monkeypatch):
    monkeypatch.setitem(sys.modules, "holidays", None)  # `import holidays` → ImportError
    with db.writing() as s:
        seeded = seed_from_packages(s, years=[2024], now=NOW)
    assert seeded == [2024] and seeded.warnings == []


# ------------------------------------------------------------------ loading a YAML year


def test_load_the_example_year(db):
    with db.writing() as s:
        result = load_calendar_file(s, EXAMPLE_2027, now=NOW)
    assert result == YearLoad(year=2027, replaced=False, holidays=28, makeup_days=5)
    rows = rows_of(db, 2027)
    assert len(rows) == 365
    assert (rows[D("2027-02-06")].kind, rows[D("2027-02-06")].name) == ("holiday", "春节")
    assert rows[D("2027-02-08")].is_workday is False
    assert (rows[D("2027-02-20")].kind, rows[D("2027-02-20")].is_workday) == ("makeup", True)
    assert rows[D("2027-02-20")].name == "春节调休"
    assert (rows[D("2027-02-15")].kind, rows[D("2027-02-21")].kind) == ("workday", "weekend")
    assert "2027.example.yaml" in rows[D("2027-01-04")].source
    with db.reading() as s:
        year = s.get(CalendarYear, 2027)
        assert year is not None
        assert year.source.startswith("EXAMPLE") and "2027.example.yaml" in year.source
        assert year.loaded_at >= NOW


def test_loading_again_replaces(db):
    with db.writing() as s:
        load_calendar_file(s, EXAMPLE_2027, now=NOW)
    with db.writing() as s:
        result = load_calendar_file(s, EXAMPLE_2027, now=NOW)
    assert result.replaced and result.year == 2027
    assert len(rows_of(db, 2027)) == 365
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(CalendarYear)) == 3


def test_a_file_may_replace_a_seeded_year(db, tmp_path):
    path = tmp_path / "2026-fix.yaml"
    path.write_text(
        "year: 2026\nsource: 更正\nholidays:\n  - {name: 国庆节, from: 2026-10-01, to: 2026-10-08}\n",
        encoding="utf-8",
    )
    with db.writing() as s:
        assert load_calendar_file(s, path, now=NOW).replaced
    rows = rows_of(db, 2026)
    assert not rows[D("2026-10-08")].is_workday
    assert rows[D("2026-10-10")].kind == "weekend"  # the file lists no make-up days


def test_the_load_is_inside_the_callers_transaction(db):
    before = table_state(db)
    with pytest.raises(RuntimeError), db.writing() as s:
        load_calendar_file(s, EXAMPLE_2027, now=NOW)
        raise RuntimeError("the caller fails afterwards")
    assert table_state(db) == before
    with db.reading() as s:
        assert not WorkCalendar.from_session(s).is_loaded(2027)


GOOD = """\
year: 2027
source: 国办发明电〔2026〕N号
holidays:
  - {name: 元旦, from: 2027-01-01, to: 2027-01-03}
  - {name: 春节, from: 2027-02-06, to: 2027-02-13}
workdays:
  - {date: 2027-02-20, name: 春节调休}
"""


def _lines(*replacements: tuple[str, str]) -> str:
    text = GOOD
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    return text


BAD_YAML = [
    # (id, text, line, fragment of the message)
    ("year quoted", _lines(("year: 2027", 'year: "2027"')), 1, "year: expected a whole number"),
    ("year with 年", _lines(("year: 2027", "year: 2027年")), 1, "got '2027年'"),
    ("year a float", _lines(("year: 2027", "year: 2027.0")), 1, "year: expected a whole number"),
    (
        "date outside the year",
        _lines(("from: 2027-01-01", "from: 2026-12-31")),
        4,
        "2026-12-31 lies outside the year 2027",
    ),
    (
        "from after to",
        _lines(("from: 2027-02-06, to: 2027-02-13", "from: 2027-02-13, to: 2027-02-06")),
        5,
        "holiday 春节: from 2027-02-13 is after to 2027-02-06",
    ),
    (
        "overlapping ranges",
        _lines(("from: 2027-02-06", "from: 2027-01-03")),
        5,
        "overlaps 元旦 (2027-01-01–2027-01-03, line 4)",
    ),
    (
        "make-up workday on a weekday",
        _lines(("date: 2027-02-20", "date: 2027-02-22")),
        7,
        "workday 2027-02-22 is a weekday (星期一); a make-up working day",
    ),
    (
        "holiday and workday at once",
        _lines(("date: 2027-02-20", "date: 2027-02-13")),
        7,
        "2027-02-13 is listed both as a workday and inside the holiday 春节 (line 5)",
    ),
    (
        "missing key in a holiday",
        _lines((", to: 2027-01-03}", "}")),
        4,
        "holiday: missing required key 'to'",
    ),
    (
        "missing top-level key",
        _lines(("source: 国办发明电〔2026〕N号\n", "")),
        1,
        "calendar: missing required key 'source'",
    ),
    (
        "unknown key in a holiday",
        _lines(("to: 2027-01-03", "until: 2027-01-03")),
        4,
        "holiday: unknown key 'until' (allowed: name, from, to)",
    ),
    (
        "unknown top-level key",
        _lines(("workdays:", "make_up:")),
        6,
        "calendar: unknown key 'make_up'",
    ),
    (
        "duplicate key",
        _lines(("source: 国办发明电〔2026〕N号\n", "source: a\nsource: b\n")),
        3,
        "duplicate key 'source' (first at line 2)",
    ),
    (
        "impossible date",
        _lines(("to: 2027-02-13", "to: 2027-02-30")),
        5,
        "2027-02-30 is not a valid date",
    ),
    (
        "not a date",
        _lines(("to: 2027-02-13", "to: 2027-2-13")),
        5,
        "expected a date such as 2027-01-01, got '2027-2-13'",
    ),
    (
        "holidays not a list",
        "year: 2027\nsource: x\nholidays: 元旦\n",
        3,
        "holidays: expected a list, got '元旦'",
    ),
    ("syntax error", "year: 2027\nsource: [unclosed\n", 3, "YAML syntax error"),
    ("empty file", "# nothing here\n", 1, "the file is empty"),
    ("top level a list", "- 2027\n", 1, "calendar: expected a mapping"),
    (
        "workday listed twice",
        _lines(("  - {date: 2027-02-20, name: 春节调休}\n", "  - {date: 2027-02-20}\n" * 2)),
        8,
        "workday 2027-02-20 is listed twice (first at line 7)",
    ),
]


@pytest.mark.parametrize(
    "text, line, fragment", [c[1:] for c in BAD_YAML], ids=[c[0] for c in BAD_YAML]
)
def test_a_bad_yaml_names_file_and_line_and_writes_nothing(db, tmp_path, text, line, fragment):
    path = tmp_path / "2027.yaml"
    path.write_text(text, encoding="utf-8")
    before = table_state(db)
    with pytest.raises(CalendarFileError) as err, db.writing() as s:
        load_calendar_file(s, path, now=NOW)
    assert any(p.startswith(f"2027.yaml:{line}:") and fragment in p for p in err.value.problems), (
        err.value.problems
    )
    assert table_state(db) == before


def test_every_problem_is_reported_in_one_run(tmp_path):
    path = tmp_path / "2027.yaml"
    path.write_text(
        _lines(
            ("year: 2027", 'year: "2027"'),
            ("to: 2027-01-03", "til: 2027-01-03"),
            ("date: 2027-02-20", "date: 2027-02-22"),
        ),  # fmt: skip
        encoding="utf-8",
    )
    with pytest.raises(CalendarFileError) as err:
        calendar_load.read_calendar_file(path)
    lines = sorted(int(p.split(":")[1]) for p in err.value.problems)
    assert lines == [1, 4, 4, 7]  # year; unknown til + missing to; weekday make-up
    assert str(err.value).count("2027.yaml:") == 4


def test_a_bad_file_for_a_loaded_year_keeps_the_old_one(db, tmp_path):
    with db.writing() as s:
        load_calendar_file(s, EXAMPLE_2027, now=NOW)
    before = table_state(db)
    path = tmp_path / "2027.yaml"
    path.write_text(_lines(("date: 2027-02-20", "date: 2027-02-22")), encoding="utf-8")
    with pytest.raises(CalendarFileError), db.writing() as s:
        load_calendar_file(s, path, now=NOW)
    assert table_state(db) == before


def test_other_extensions_are_refused(db, tmp_path):
    path = tmp_path / "2027.csv"
    path.write_text("date,kind\n", encoding="utf-8")
    before = table_state(db)
    expected = r"2027\.csv: unsupported file type '\.csv'"
    with pytest.raises(CalendarFileError, match=expected), db.writing() as s:
        load_calendar_file(s, path)
    assert table_state(db) == before


# ------------------------------------------------------------------ XLSX


def write_xlsx(path: Path, rows: list[list], extra_sheet: bool = False) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "2027"
    for row in rows:
        ws.append(row)
    if extra_sheet:
        wb.create_sheet("说明")
    wb.save(path)
    return path


def example_rows() -> list[list]:
    """The example year as one row per day, dates as real date cells."""
    spec = calendar_load.read_calendar_file(EXAMPLE_2027)
    rows: list[list] = [
        ["年份", 2027],
        ["来源", "国办发明电〔2026〕N号 (示例)"],
        [],
        ["日期", "类型", "名称"],
    ]
    rows += [[d, "放假", name] for d, name in sorted(spec.holidays.items())]
    rows += [[d, "上班", name] for d, name in sorted(spec.workdays.items())]
    return rows


def test_load_an_xlsx_year_like_the_yaml(db, tmp_path):
    rows = example_rows()
    rows[5][0] = "2027/1/2"  # dates may be typed as text too
    rows[6][0] = "2027年1月3日"
    path = write_xlsx(tmp_path / "2027.xlsx", rows)
    with db.writing() as s:
        result = load_calendar_file(s, path, now=NOW)
    assert result == YearLoad(year=2027, replaced=False, holidays=28, makeup_days=5)
    from_xlsx = {d: (r.is_workday, r.kind, r.name) for d, r in rows_of(db, 2027).items()}
    with db.writing() as s:
        assert load_calendar_file(s, EXAMPLE_2027, now=NOW).replaced
    from_yaml = {d: (r.is_workday, r.kind, r.name) for d, r in rows_of(db, 2027).items()}
    assert from_xlsx == from_yaml
    with db.writing() as s:
        load_calendar_file(s, path, now=NOW)
        year = s.get(CalendarYear, 2027)
        assert year is not None and year.source == "国办发明电〔2026〕N号 (示例) (2027.xlsx)"


def test_xlsx_english_headers_and_no_metadata(db, tmp_path):
    path = write_xlsx(
        tmp_path / "y.xlsx",
        [
            ["date", "kind", "name"],
            [date(2027, 1, 1), "holiday", "New Year"],
            [date(2027, 2, 20), "workday", None],
        ],
    )
    with db.writing() as s:
        assert load_calendar_file(s, path, now=NOW) == YearLoad(2027, False, 1, 1)
    rows = rows_of(db, 2027)
    assert rows[D("2027-02-20")].name == "调休上班"
    with db.reading() as s:
        year = s.get(CalendarYear, 2027)
        assert year is not None and year.source == "y.xlsx (y.xlsx)"


HEADER = ["日期", "类型", "名称"]
BAD_XLSX = [
    # (id, rows, fragment expected in one problem)
    (
        "not a date",
        [HEADER, [date(2027, 1, 1), "放假", "元旦"], ["明年元旦", "放假", "元旦"]],
        "sheet '2027' row 3 column A (日期): expected a date such as 2027-01-01, got '明年元旦'",
    ),
    (
        "unknown kind",
        [HEADER, [date(2027, 1, 1), "放假", "元旦"], [date(2027, 1, 2), "请假", "元旦"]],
        "sheet '2027' row 3 column B (类型): expected 放假/holiday or 上班/workday, got '请假'",
    ),
    (
        "make-up on a weekday",
        [HEADER, [date(2027, 1, 1), "放假", "元旦"], [date(2027, 2, 22), "上班", "调休"]],
        "sheet '2027' row 3 column A (日期): 2027-02-22 is a weekday (星期一)",
    ),
    (
        "listed twice",
        [HEADER, [date(2027, 1, 1), "放假", "元旦"], [date(2027, 1, 1), "上班", "x"]],
        "sheet '2027' row 3 column A (日期): 2027-01-01 is listed twice (first at row 2)",
    ),
    (
        "holiday without a name",
        [HEADER, [date(2027, 1, 1), "放假", None]],
        "sheet '2027' row 2 column C (名称): a holiday needs a name",
    ),
    (
        "outside the given year",
        [
            ["年份", 2027],
            HEADER,
            [date(2027, 1, 1), "放假", "元旦"],
            [date(2028, 1, 1), "放假", "元旦"],
        ],
        "sheet '2027' row 4 column A (日期): 2028-01-01 lies outside the year 2027",
    ),
    (
        "dates in two years",
        [HEADER, [date(2027, 1, 1), "放假", "元旦"], [date(2028, 1, 1), "放假", "元旦"]],
        "the dates span several years (2027 (row 2), 2028 (row 3))",
    ),
    (
        "bad year cell",
        [["年份", "明年"], HEADER, [date(2027, 1, 1), "放假", "元旦"]],
        "sheet '2027' row 1 column B: year: expected a whole number",
    ),
    (
        "no header",
        [["day", "type"], [date(2027, 1, 1), "放假"]],
        "no header row with the columns 日期/date and 类型/kind",
    ),
    (
        "no name column",
        [["日期", "类型"], [date(2027, 1, 1), "放假"]],
        "sheet '2027' row 1: no 名称/name column",
    ),
    ("no rows", [HEADER], "no days listed below the header row"),
    (
        "a date with a time",
        [HEADER, [datetime(2027, 1, 1, 9, 30), "放假", "元旦"]],
        "row 2 column A (日期): 2027-01-01 09:30:00 has a time of day",
    ),
]


@pytest.mark.parametrize("rows, fragment", [c[1:] for c in BAD_XLSX], ids=[c[0] for c in BAD_XLSX])
def test_a_bad_xlsx_names_sheet_row_column_and_writes_nothing(db, tmp_path, rows, fragment):
    path = write_xlsx(tmp_path / "2027.xlsx", rows)
    before = table_state(db)
    with pytest.raises(CalendarFileError) as err, db.writing() as s:
        load_calendar_file(s, path, now=NOW)
    assert any(p.startswith("2027.xlsx: ") and fragment in p for p in err.value.problems), (
        err.value.problems
    )
    assert table_state(db) == before


def test_an_xlsx_with_two_sheets_is_refused(db, tmp_path):
    path = write_xlsx(tmp_path / "2027.xlsx", example_rows(), extra_sheet=True)
    before = table_state(db)
    expected = "expected exactly one sheet, found 2"
    with pytest.raises(CalendarFileError, match=expected), db.writing() as s:
        load_calendar_file(s, path, now=NOW)
    assert table_state(db) == before


def test_a_broken_xlsx_is_refused(db, tmp_path):
    path = tmp_path / "2027.xlsx"
    path.write_bytes(b"not a zip file")
    expected = "2027.xlsx: not a readable .xlsx workbook"
    with pytest.raises(CalendarFileError, match=expected), db.writing() as s:
        load_calendar_file(s, path, now=NOW)


def test_loaded_at_moves_past_the_last_load(db):
    """Replacing with an earlier clock still changes the snapshot cache key."""
    with db.writing() as s:
        load_calendar_file(s, EXAMPLE_2027, now=NOW + timedelta(days=1))
    with db.writing() as s:
        load_calendar_file(s, EXAMPLE_2027, now=NOW)
    with db.reading() as s:
        year = s.get(CalendarYear, 2027)
        assert year is not None and year.loaded_at == NOW + timedelta(days=1, microseconds=1)
