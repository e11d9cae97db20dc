"""Imports from other systems: the inspection team's 问题清单 (.xlsx) as issues.

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
