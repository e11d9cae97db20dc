"""Line-aware reading of definition YAML: a node tree that remembers where every value was.

Owns turning definition text into :class:`YMap` / :class:`YSeq` / :class:`YScalar` nodes that
carry 1-based line and column, and :class:`Reader`, the typed accessors the definition parser
uses ("a string is expected here", "unknown key", "missing key") that record a
:class:`Problem` instead of raising, so one run reports every mistake in a file.

PyYAML's ``safe_load`` silently keeps the last of two equal keys and turns ``on``/``yes``
into booleans; reading the composed node tree instead lets us report both.  Only
``yaml.SafeLoader`` is used.  Must not import flask.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
BOOL_TAG = "tag:yaml.org,2002:bool"
STR_TAG = "tag:yaml.org,2002:str"
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
NULL_TAG = "tag:yaml.org,2002:null"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a definition file, at a 1-based line and column."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


@dataclass(eq=False)
class YNode:
    """A composed YAML node with its 1-based position."""

    line: int
    column: int


@dataclass(eq=False)
class YScalar(YNode):
    """A scalar: ``value`` as YAML 1.1 reads it, ``raw`` as written, ``tag`` as resolved."""

    value: Any
    raw: str
    tag: str


@dataclass(eq=False)
class YSeq(YNode):
    """A sequence of nodes."""

    items: list[YNode] = field(default_factory=list)


@dataclass(eq=False)
class YMap(YNode):
    """A mapping; ``items`` keeps every (key, value) pair in order, duplicates removed."""

    items: list[tuple[YScalar, YNode]] = field(default_factory=list)


def _pos(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Converter:
    """Composed PyYAML nodes → Y nodes, reporting duplicate keys as it goes."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        # a constructor only for scalars; its object cache is irrelevant for them
        self.constructor = yaml.SafeLoader("")

    def convert(self, node: yaml.Node) -> YNode:
        line, col = _pos(node)
        if isinstance(node, yaml.ScalarNode):
            try:
                value = self.constructor.construct_object(node, deep=True)
            except (yaml.YAMLError, ValueError):
                value = node.value  # e.g. an impossible date such as 2024-02-30: keep the text
            return YScalar(line, col, value, str(node.value), node.tag)
        if isinstance(node, yaml.SequenceNode):
            return YSeq(line, col, [self.convert(n) for n in node.value])
        assert isinstance(node, yaml.MappingNode)
        out = YMap(line, col)
        seen: dict[tuple[str, Any], YScalar] = {}
        for knode, vnode in node.value:
            key = self.convert(knode)
            if not isinstance(key, YScalar):
                self.reader.err(key, "a key must be a plain name, not a list or mapping")
                continue
            ident = (type(key.value).__name__, _hashable(key.value))
            if ident in seen:
                first = seen[ident]
                self.reader.err(
                    key,
                    f"duplicate key {key.raw!r} (first at line {first.line}); "
                    "YAML would silently keep only the last one",
                )
                continue
            seen[ident] = key
            out.items.append((key, self.convert(vnode)))
        return out


def _hashable(value: Any) -> Any:
    try:
        hash(value)
        return value
    except TypeError:
        return repr(value)


def describe(node: YNode) -> str:
    """A short name for the kind of value found, for "expected X, got Y" messages."""
    if isinstance(node, YMap):
        return "a mapping"
    if isinstance(node, YSeq):
        return "a list"
    assert isinstance(node, YScalar)
    if node.tag == NULL_TAG:
        return "nothing"
    if node.tag == BOOL_TAG:
        return f"the boolean {node.raw!r}"
    if node.tag == INT_TAG:
        return f"the number {node.raw}"
    if node.tag == FLOAT_TAG:
        return f"the number {node.raw}"
    return f"{node.raw!r}"


class Reader:
    """Typed, position-aware access to a Y node tree; problems are collected, never raised."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.problems: list[Problem] = []

    def err(self, node: YNode | None, message: str) -> None:
        """Record a problem at ``node`` (line 1 column 1 when there is no node)."""
        line, col = (node.line, node.column) if node is not None else (1, 1)
        self.problems.append(Problem(self.filename, line, col, message))

    def read(self, text: str) -> YNode | None:
        """Compose ``text``; a YAML syntax error becomes a problem at the mark YAML gives."""
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            what = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
            self.problems.append(Problem(self.filename, line, col, f"YAML syntax error: {what}"))
            return None
        except yaml.YAMLError as exc:
            self.problems.append(Problem(self.filename, 1, 1, f"YAML error: {exc}"))
            return None
        if node is None:
            return None
        return _Converter(self).convert(node)

    # ------------------------------------------------------------------ shapes

    def mapping(self, node: YNode, what: str) -> YMap | None:
        """``node`` as a mapping, or None after reporting."""
        if isinstance(node, YMap):
            return node
        self.err(node, f"{what}: expected a mapping (key: value lines), got {describe(node)}")
        return None

    def keys(
        self,
        m: YMap,
        what: str,
        allowed: Iterable[str],
        required: Iterable[str] = (),
    ) -> dict[str, YNode]:
        """The values of ``m`` by key; unknown and missing keys are reported."""
        allowed = tuple(allowed)
        out: dict[str, YNode] = {}
        for key, value in m.items:
            if key.tag == STR_TAG and key.value in allowed:
                out[key.value] = value
            else:
                self.err(key, f"{what}: unknown key {key.raw!r} (allowed: {', '.join(allowed)})")
        for name in required:
            if name not in out:
                self.err(m, f"{what}: missing required key {name!r}")
        return out

    def seq(self, node: YNode, what: str, single: bool = False) -> list[YNode] | None:
        """``node`` as a list; with ``single`` a lone scalar counts as a list of one."""
        if isinstance(node, YSeq):
            return node.items
        if single and isinstance(node, YScalar) and node.tag != NULL_TAG:
            return [node]
        self.err(node, f"{what}: expected a list, got {describe(node)}")
        return None

    # ------------------------------------------------------------------ scalars

    def string(self, node: YNode, what: str) -> str | None:
        """A non-empty string."""
        if isinstance(node, YScalar) and node.tag == STR_TAG and node.value.strip():
            return str(node.value)
        if isinstance(node, YScalar) and node.tag == STR_TAG:
            self.err(node, f"{what}: must not be empty")
        else:
            self.err(node, f"{what}: expected text, got {describe(node)}")
        return None

    def name(self, node: YNode, what: str) -> str | None:
        """An identifier such as a state or action name ([a-z_][a-z0-9_]*)."""
        if isinstance(node, YScalar) and node.tag == BOOL_TAG:
            self.err(
                node,
                f"{what} {node.raw!r} is read as a boolean by YAML; quote it or rename",
            )
            return None
        if isinstance(node, YScalar) and node.tag == STR_TAG:
            if IDENTIFIER.match(node.value):
                return str(node.value)
            self.err(
                node,
                f"{what} {node.raw!r} is not a valid identifier "
                "(lower-case letters, digits and _, not starting with a digit)",
            )
            return None
        self.err(node, f"{what}: expected a name, got {describe(node)}")
        return None

    def integer(self, node: YNode, what: str) -> int | None:
        """A whole number."""
        if isinstance(node, YScalar) and node.tag == INT_TAG:
            return int(node.value)
        self.err(node, f"{what}: expected a whole number, got {describe(node)}")
        return None

    def number(self, node: YNode, what: str) -> float | None:
        """A number (whole or decimal)."""
        if isinstance(node, YScalar) and node.tag in (INT_TAG, FLOAT_TAG):
            return float(node.value)
        self.err(node, f"{what}: expected a number, got {describe(node)}")
        return None

    def boolean(self, node: YNode, what: str) -> bool | None:
        """true or false."""
        if isinstance(node, YScalar) and node.tag == BOOL_TAG:
            return bool(node.value)
        self.err(node, f"{what}: expected true or false, got {describe(node)}")
        return None

    def choice(self, node: YNode, what: str, allowed: Iterable[str]) -> str | None:
        """A string out of ``allowed``."""
        allowed = sorted(allowed)
        value = self.string(node, what)
        if value is not None and value not in allowed:
            self.err(node, f"{what}: unknown value {value!r} (one of {', '.join(allowed)})")
            return None
        return value
