"""Workflow definitions: YAML files read line-aware, checked, frozen, versioned and drawn.

- :mod:`~workflow.definition.model`: the vocabulary and the frozen objects;
- :mod:`~workflow.definition.reader`: YAML as a node tree that remembers file:line:col;
- :mod:`~workflow.definition.loader`: loading files and text, every problem with its place;
- :mod:`~workflow.definition.parser` (over ``parse_base``, ``parse_clocks``,
  ``parse_actions``): nodes to objects — header and states, clocks, actions and fields;
- :mod:`~workflow.definition.checks`: guard/effect arguments;
- :mod:`~workflow.definition.graph`: reachability, dead ends, final states;
- :mod:`~workflow.definition.migration`: what moving issues to another version changes;
- :mod:`~workflow.definition.registry`: versions kept in the database;
- :mod:`~workflow.definition.diagram`: a definition as an SVG state diagram.

Must not import flask or ``notifications``.
"""

from workflow.definition.loader import (
    check_paths,
    load_definition,
    load_directory,
    parse_definition,
)
from workflow.definition.migration import MigrationReport, migration_report
from workflow.definition.model import (
    FIELD_TYPES,
    ISSUE_ATTRS,
    LETTERS,
    LEVELS,
    RECIPIENTS,
    ROLES,
    STAGES,
    Action,
    Clock,
    CountRule,
    Definition,
    DefinitionError,
    Effect,
    Rung,
)
from workflow.definition.reader import Problem

__all__ = [
    "FIELD_TYPES",
    "ISSUE_ATTRS",
    "LETTERS",
    "LEVELS",
    "RECIPIENTS",
    "ROLES",
    "STAGES",
    "Action",
    "Clock",
    "CountRule",
    "Definition",
    "DefinitionError",
    "Effect",
    "MigrationReport",
    "Problem",
    "Rung",
    "check_paths",
    "load_definition",
    "load_directory",
    "migration_report",
    "parse_definition",
]
