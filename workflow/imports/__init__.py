"""Imports from other systems: the inspection team's 问题清单 (.xlsx) as issues.

:mod:`~workflow.imports.excel` is the front door; the work is split into ``sheet`` (reading
the workbook), ``cells`` (units, rounds, dates), ``rows`` (checking a row, column by column),
``writing`` (the two passes and the writes) and ``report``.  Every sentence said to a person
is a :class:`~workflow.messages.Message` (codes ``import_*``) with its sheet, row and column.
Must not import flask or ``notifications``.
"""

from workflow.imports.excel import (
    ImportFileError,
    ImportReport,
    Message,
    check_file,
    import_issues,
)

__all__ = [
    "ImportFileError",
    "ImportReport",
    "Message",
    "check_file",
    "import_issues",
]
