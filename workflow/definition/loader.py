"""Loading workflow definitions: YAML files turned into frozen, validated objects the engine runs.

Owns :func:`parse_definition`, :func:`load_definition`, :func:`load_directory` and
:func:`check_paths`, and re-exports the vocabulary and the frozen dataclasses of
:mod:`workflow.definition.model` for older callers.  A definition with any problem is refused
as a whole with a :class:`DefinitionError` listing *every* problem with its file, line and
column, so the office fixes a file in one pass.

The schema walk is :class:`workflow.definition.parser.Parser` (over ``parse_base``,
``parse_clocks`` and ``parse_actions``); line-aware YAML reading is in
:mod:`workflow.definition.reader`; guard/effect argument rules in
:mod:`workflow.definition.checks`, the graph in :mod:`~workflow.definition.graph` and
:func:`migration_report` in :mod:`~workflow.definition.migration`.  The format is documented
for office staff in ``definitions/README.md``.  Must not import flask; reads files only when
asked to.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from pathlib import Path

from workflow.definition.migration import MigrationReport, migration_report
from workflow.definition.model import (
    DEADLINE_TYPES,
    DEFINITION_KINDS,
    EFFECT_KINDS,
    FIELD_TYPES,
    GUARD_KINDS,
    ISSUE_ATTRS,
    LETTERS,
    LEVELS,
    RECIPIENTS,
    ROLES,
    STAGES,
    STATE_KINDS,
    Action,
    Branch,
    Clock,
    CountRule,
    Definition,
    DefinitionError,
    Effect,
    FieldSpec,
    Guard,
    Label,
    Rung,
    State,
    frozen,
)
from workflow.definition.parser import Parser
from workflow.definition.reader import Problem, Reader

__all__ = [
    "DEADLINE_TYPES", "DEFINITION_KINDS", "EFFECT_KINDS", "FIELD_TYPES", "GUARD_KINDS",
    "ISSUE_ATTRS", "LETTERS", "LEVELS", "RECIPIENTS", "ROLES", "STAGES", "STATE_KINDS",
    "Action", "Branch", "Clock", "CountRule", "Definition", "DefinitionError", "Effect",
    "FieldSpec", "Guard", "Label", "MigrationReport", "Problem", "Rung", "State",
    "check_paths", "load_definition", "load_directory", "migration_report", "parse_definition",
]  # fmt: skip


# ---------------------------------------------------------------------------------- loading


def parse_definition(
    text: str, filename: str = "<string>", known_definitions: Collection[str] | None = None
) -> Definition:
    """Parse and validate ``text``; raise DefinitionError listing every problem found.

    ``known_definitions`` (when given) are the names ``spawn_children`` may refer to.
    """
    reader = Reader(filename)
    root = reader.read(text)
    parser = Parser(reader, known_definitions)
    top = None
    if root is None and not reader.problems:
        reader.err(None, "the file is empty: a definition is a mapping of name, title, states, …")
    elif root is not None:
        top = parser.parse(root, filename)
    if reader.problems or top is None:
        raise DefinitionError(sorted(set(reader.problems), key=lambda p: (p.line, p.column)))
    return Definition(
        name=top["name"], title=top["title"], kind=top["kind"], restricted=top["restricted"],
        timezone=top["timezone"], initial=top["initial"], on_open=top["on_open"],
        states=frozen(parser.states), actions=frozen(parser.actions),
        clocks=frozen(parser.clocks), source=text, filename=filename,
        version=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )  # fmt: skip


def _read(path: Path) -> str | Problem:
    """The file's text, or the problem that stops reading it."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return Problem(str(path), 1, 1, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
    except OSError as exc:
        return Problem(str(path), 1, 1, f"cannot read: {exc.strerror or exc}")


def load_definition(
    path: str | Path, known_definitions: Collection[str] | None = None
) -> Definition:
    """Load and validate one definition file."""
    path = Path(path)
    text = _read(path)
    if isinstance(text, Problem):
        raise DefinitionError([text])
    return parse_definition(text, str(path), known_definitions)


def load_directory(path: str | Path) -> dict[str, Definition]:
    """Load every ``*.yaml`` of a directory; raise one DefinitionError for all files' problems."""
    files = sorted(Path(path).glob("*.yaml"))
    known = {f.stem for f in files}
    out: dict[str, Definition] = {}
    problems: list[Problem] = []
    for f in files:
        try:
            d = load_definition(f, known)
        except DefinitionError as exc:
            problems.extend(exc.problems)
        else:
            out[d.name] = d
    if problems:
        raise DefinitionError(problems)
    return out


def check_paths(paths: list[Path]) -> list[Problem]:
    """Every problem in the given files and directories (each *.yaml of a directory)."""
    problems: list[Problem] = []
    for p in map(Path, paths):
        files, known = ([p], None) if not p.is_dir() else (sorted(p.glob("*.yaml")), None)
        if p.is_dir():
            known = {f.stem for f in files}
        for f in files:
            try:
                load_definition(f, known)
            except DefinitionError as exc:
                problems.extend(exc.problems)
    return problems
