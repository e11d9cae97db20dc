"""Importing the inspection team's 问题清单 (.xlsx) as issues, streamed with bounded memory.

The import's front door: re-exports what callers use from the modules that do the work —
:mod:`~workflow.imports.sheet` (reading the workbook, finding the columns by their Chinese
or English headers in any order), :mod:`~workflow.imports.cells` (units, rounds, dates,
identity), :mod:`~workflow.imports.rows` (checking a row: a located Message per bad cell),
:mod:`~workflow.imports.writing` (the two passes and the writes) and
:mod:`~workflow.imports.report` (the report).  Nothing is written unless every row is valid
or the caller asked for the valid rows only.  Must not import flask.

Identity: ``Issue.import_key`` is the SHA-256 of the 问题编号 when the list has one, else of
the normalised (round, unit, description).  A row whose key (or number) is already in the
database is reported as existing and skipped, so re-importing a file creates nothing twice.
"""

from __future__ import annotations

from workflow.imports.cells import (
    DEADLINE_NAMES,
    MAX_LEN,
    Lookup,
    derive_title,
    import_key,
    parse_cell_date,
)
from workflow.imports.report import (
    MAX_ERRORS,
    PREVIEW_ROWS,
    ImportFileError,
    ImportReport,
    Message,
    RowPreview,
)
from workflow.imports.rows import Row, check_row
from workflow.imports.sheet import HEADERS, LABELS, Formula, Sheet, Source, norm_header, sheets
from workflow.imports.writing import CHUNK, WRITE_BATCH, check_file, import_issues

__all__ = [
    "CHUNK", "DEADLINE_NAMES", "HEADERS", "LABELS", "MAX_ERRORS", "MAX_LEN", "PREVIEW_ROWS",
    "WRITE_BATCH", "Formula", "ImportFileError", "ImportReport", "Lookup", "Message", "Row",
    "RowPreview", "Sheet", "Source", "check_file", "check_row", "derive_title", "import_issues",
    "import_key", "norm_header", "parse_cell_date", "sheets",
]  # fmt: skip
