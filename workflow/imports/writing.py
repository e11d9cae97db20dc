"""Running an import: every row checked against the database, then the valid rows opened.

Two passes over the file: the first checks every row (the dry run); the second, only when
allowed, checks each row again and opens it.  Neither keeps the rows: the report holds
counts, the first errors and a short preview, so a 50,000-row list needs little memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.imports.cells import Lookup
from workflow.imports.report import (
    PREVIEW_ROWS,
    ImportFileError,
    ImportReport,
    Message,
    RowPreview,
    located,
)
from workflow.imports.rows import Row, check_row
from workflow.imports.sheet import Source, data_rows, open_workbook, sheets
from workflow.messages import N_, Text
from workflow.messages import Message as Said
from workflow.models import Issue, User

CHUNK = 500
# rows opened per service call: big enough that the per-batch statements vanish per row,
# small enough that the identity map (expunged after each batch) stays small
WRITE_BATCH = 500

NOT_OFFICE = Text(
    "import_not_office", N_("only an inspection office (巡视办/巡察办) may import issues")
)
NO_HEADER = Text(
    "import_no_header",
    N_("no sheet has a header row: expected columns such as 问题表现/description, "
       "责任单位/unit, 整改时限/due date (sheets: %(sheets)s)"),
)  # fmt: skip
NO_UNIT_COLUMN = Text(
    "import_no_unit_column", N_("sheet %(sheet)s: no 责任单位/unit column in row %(row)s")
)
NO_DATA_ROWS = Text("import_no_data_rows", N_("the header row has no data rows below it"))
DUPLICATE_NUMBER = Text("import_duplicate_number", N_("duplicate of row %(first)s (same 问题编号)"))
DUPLICATE_ROW = Text(
    "import_duplicate_row",
    N_("duplicate of row %(first)s (same round, unit and description)"),
)
FILE_PROBLEM = Text("import_file_problem", N_("the file cannot be imported: %(error)s"))
NOT_IMPORTED = Text("import_not_imported", N_("not imported: %(reason)s"))


def _resolve_existing(session: Session, chunk: list[Row]) -> None:
    """Mark rows whose key or number is already in the database as existing."""
    keys = [r.fields["import_key"] for r in chunk if r.status == "valid"]
    numbers = [r.fields["number"] for r in chunk if r.status == "valid" and r.fields["number"]]
    have_keys = (
        set(session.scalars(select(Issue.import_key).where(Issue.import_key.in_(keys))))
        if keys
        else set()
    )
    have_numbers = (
        set(session.scalars(select(Issue.number).where(Issue.number.in_(numbers))))
        if numbers
        else set()
    )
    for r in chunk:
        if r.status == "valid" and (
            r.fields["import_key"] in have_keys
            or (r.fields["number"] and r.fields["number"] in have_numbers)
        ):
            r.status = "existing"


def _checked_rows(session: Session, wb: Any, look: Lookup, report: ImportReport) -> Iterator[Row]:
    """Every data row of every sheet, checked, in chunks resolved against the database."""
    found = sheets(wb, report)
    if not found:
        names = ", ".join(ws.title for ws in wb.worksheets) or "none"
        raise ImportFileError(NO_HEADER(sheets=names))
    seen: dict[bytes, int] = {}
    any_rows = False
    for sheet in found:
        if "unit" not in sheet.columns and "unit_code" not in sheet.columns:
            raise ImportFileError(NO_UNIT_COLUMN(sheet=sheet.name, row=sheet.header_row))
        ws = wb[sheet.name]
        chunk: list[Row] = []
        for n, raw, problems in data_rows(ws, sheet):
            any_rows = True
            row = check_row(sheet, n, raw, problems, look)
            key = row.fields.get("import_key")
            if key and row.status == "valid":
                digest = bytes.fromhex(key)[:16]
                if digest in seen:
                    same = DUPLICATE_NUMBER if row.fields["number"] else DUPLICATE_ROW
                    row.problems.append(located(sheet.name, n, None, same, first=seen[digest]))
                    row.status = "invalid"
                else:
                    seen[digest] = n
            chunk.append(row)
            if len(chunk) >= CHUNK:
                _resolve_existing(session, chunk)
                yield from chunk
                chunk = []
        _resolve_existing(session, chunk)
        yield from chunk
    if not any_rows:
        raise ImportFileError(NO_DATA_ROWS())


def _tally(report: ImportReport, row: Row) -> None:
    """Count a checked row, keep its problems and (the first rows) its preview."""
    report.rows += 1
    if row.status == "invalid":
        report.invalid += 1
        for p in row.problems:
            report.error(p)
    elif row.status == "existing":
        report.existing += 1
    else:
        report.valid += 1
    if len(report.preview) < PREVIEW_ROWS:
        f = row.fields
        report.preview.append(RowPreview(
            row.sheet, row.n, row.status, f.get("number"), f.get("title") or "", f.get("unit"),
            f.get("due_on"), f.get("deadline_type"), [p.message for p in row.problems],
        ))  # fmt: skip


def _rewind(source: Source) -> None:
    """Back to the start of a stream for the second pass."""
    if not isinstance(source, str | Path):
        source.seek(0)


def import_issues(
    session: Session,
    source: Source,
    user: User,
    now: datetime,
    *,
    dry_run: bool = False,
    valid_only: bool = False,
    allow_past: bool = False,
    definition: str = "rectification",
) -> ImportReport:
    """Check ``source`` and, unless a dry run, open its rows as issues in ``session``.

    Nothing is written unless every row is valid, or ``valid_only`` asks to skip the bad
    ones.  The caller commits.  Returns the report either way.
    """
    from workflow.clock.calendar import WorkCalendar

    report = ImportReport()
    today = now.date()
    try:
        look = Lookup.load(session, user, today, allow_past)
        if not look.reach:
            raise ImportFileError(NOT_OFFICE())
        wb = open_workbook(source)
        try:
            for row in _checked_rows(session, wb, look, report):
                _tally(report, row)
        finally:
            wb.close()
    except ImportFileError as exc:
        said = exc.args[0] if exc.args else None
        if not isinstance(said, Said):
            said = FILE_PROBLEM(error=str(exc))
        report.errors.insert(0, Message(None, None, None, said))
        return report
    if dry_run or (not report.ok and not valid_only) or report.valid == 0:
        return report
    _rewind(source)
    cal = WorkCalendar.from_session(session)  # one snapshot for the whole import
    wb = open_workbook(source)
    try:
        batch: list[Row] = []
        for row in _checked_rows(session, wb, look, ImportReport()):
            if row.status == "valid":
                batch.append(row)
            if len(batch) >= WRITE_BATCH:
                user = _write_batch(session, definition, batch, user, now, cal, report)
                batch = []
        _write_batch(session, definition, batch, user, now, cal, report)
    finally:
        wb.close()
    report.written = report.created > 0
    session.flush()
    return report


# rows opened per service call: big enough that the per-batch statements vanish per row,
# small enough that the identity map (expunged after each batch) stays small
def _write_batch(
    session: Session,
    definition: str,
    batch: list[Row],
    user: User,
    now: datetime,
    cal: Any,
    report: ImportReport,
) -> User:
    """Open a batch of valid rows; return the user, reloaded after the identity map is cleared."""
    from workflow.service import open_issues

    if not batch:
        return user
    user_id = user.id
    outcomes = open_issues(session, definition, [r.fields for r in batch], user, now, calendar=cal)
    for row, outcome in zip(batch, outcomes, strict=True):
        if isinstance(outcome, Exception):
            # open_issues validates before it adds anything: a refused row writes nothing
            report.error(located(row.sheet, row.n, None, NOT_IMPORTED, reason=str(outcome)))
        else:
            report.created += 1
    # keep the identity map small: a long import must not hold every issue
    session.flush()
    session.expunge_all()
    found = session.get(User, user_id)
    assert found is not None
    return found


def check_file(
    session: Session, source: Source, user: User, now: datetime, **kw: Any
) -> ImportReport:
    """The dry run: every row checked, nothing written."""
    return import_issues(session, source, user, now, dry_run=True, **kw)
