"""Static gates (S11, R6c): bandit finds nothing of HIGH severity, and no code updates the
issue table in bulk without bumping its version (a bulk UPDATE bypasses SQLAlchemy's
``version_id_col``, so an open form would silently overwrite the change).

Each gate also runs on a planted bad snippet, so a gate that stopped seeing anything would
fail here instead of passing quietly.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("workflow", "web", "notifications")

# (file, enclosing function) → why the bulk statement is safe.  Add an entry only where the
# statement bumps ``version`` itself in a way this scan cannot see, and say how.
ALLOWED_BULK_UPDATES: dict[tuple[str, str], str] = {}

SQL_UPDATE_ISSUE = re.compile(r"\bUPDATE\s+issue\b", re.IGNORECASE)


# ------------------------------------------------------------------------------- bandit


def _bandit(*targets: str | Path) -> list[dict]:
    pytest.importorskip("bandit")
    cmd = [sys.executable, "-m", "bandit", "-r", *map(str, targets), "-lll", "-q", "-f", "json"]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.stdout, f"bandit produced no report: {out.stderr[-2000:]}"
    return json.loads(out.stdout)["results"]


def test_bandit_finds_no_high_severity_issue():
    """bandit -lll over the application code: 0 HIGH findings (ASVS 14.2, S11a).

    Fails when a HIGH finding appears (e.g. ``subprocess`` with ``shell=True`` on built
    text, ``yaml.load`` without a safe loader, Jinja autoescape off, MD5 for security).
    """
    findings = _bandit(*PACKAGES)
    assert not findings, "\n".join(
        f"{f['filename']}:{f['line_number']} {f['test_id']} {f['issue_text']}" for f in findings
    )


def test_bandit_gate_sees_a_planted_high_finding(tmp_path):
    """The gate itself: bandit reports a planted shell injection as HIGH."""
    bad = tmp_path / "planted.py"
    bad.write_text(
        "import subprocess\n\ndef run(name):\n    subprocess.call('ls ' + name, shell=True)\n"
    )
    findings = _bandit(bad)
    assert [f["test_id"] for f in findings] == ["B602"]


# ------------------------------------------------------------ bulk UPDATE of issue, no version


def _is_issue(node: ast.AST) -> bool:
    """``Issue`` or ``Issue.__table__`` or ``models.Issue``."""
    if isinstance(node, ast.Name):
        return node.id == "Issue"
    if isinstance(node, ast.Attribute):
        return node.attr == "Issue" or (node.attr == "__table__" and _is_issue(node.value))
    return False


def _is_update_of_issue(node: ast.AST) -> bool:
    """``update(Issue)`` / ``sa.update(Issue)`` / ``Issue.__table__.update()``."""
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    if isinstance(f, ast.Name | ast.Attribute) and getattr(f, "id", getattr(f, "attr", "")) == (
        "update"
    ):
        if node.args and _is_issue(node.args[0]):
            return True
        if isinstance(f, ast.Attribute) and _is_issue(f.value):
            return True
    return False


def _query_of_issue(node: ast.AST) -> bool:
    """``session.query(Issue)…`` anywhere down a method chain."""
    while isinstance(node, ast.Call | ast.Attribute):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Attribute) and f.attr == "query" and node.args:
                return _is_issue(node.args[0])
            node = f
        else:
            node = node.value
    return False


def _sets_version(call: ast.Call) -> bool:
    """Whether a ``.values(...)`` / ``.update(...)`` call assigns ``version``."""
    if any(k.arg == "version" for k in call.keywords):
        return True
    for arg in call.args:
        if isinstance(arg, ast.Dict):
            for key in arg.keys:
                if isinstance(key, ast.Constant) and key.value == "version":
                    return True
                if isinstance(key, ast.Attribute) and key.attr == "version":
                    return True
    return False


def _chain_base(node: ast.AST) -> ast.AST:
    """The innermost call of ``a(...).b(...).c(...)``."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        inner = node.func.value
        if not isinstance(inner, ast.Call):
            break
        node = inner
    return node


def _chain_calls(node: ast.AST) -> list[ast.Call]:
    calls = []
    while isinstance(node, ast.Call):
        calls.append(node)
        node = node.func.value if isinstance(node.func, ast.Attribute) else None
    return calls


class _Scan(ast.NodeVisitor):
    def __init__(self, path: str) -> None:
        self.path, self.func, self.hits = path, "<module>", []
        self.seen: set[int] = set()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        outer, self.func = self.func, node.name
        self.generic_visit(node)
        self.func = outer

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def _hit(self, node: ast.AST, what: str) -> None:
        if (self.path, self.func) not in ALLOWED_BULK_UPDATES:
            self.hits.append(f"{self.path}:{node.lineno} in {self.func}(): {what}")

    def visit_Call(self, node: ast.Call) -> None:
        if id(node) not in self.seen:
            calls = _chain_calls(node)
            self.seen.update(id(c) for c in calls)
            base = _chain_base(node)
            if _is_update_of_issue(base):
                values = [
                    c
                    for c in calls
                    if isinstance(c.func, ast.Attribute) and c.func.attr == "values"
                ]
                if not any(_sets_version(c) for c in values):
                    self._hit(node, "update(Issue) without version = version + 1")
            elif (
                isinstance(node.func, ast.Attribute)
                and node.func.attr == "update"
                and _query_of_issue(node.func.value)
                and not _sets_version(node)
            ):
                self._hit(node, "query(Issue).update() without version")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        text = node.value
        if (
            isinstance(text, str)
            and SQL_UPDATE_ISSUE.search(text)
            and "version" not in text.lower()
        ):
            self._hit(node, "SQL text UPDATE issue without version")


def scan_source(source: str, path: str = "<string>") -> list[str]:
    """Bulk updates of the issue table that do not set ``version``."""
    scan = _Scan(path)
    scan.visit(ast.parse(source, filename=path))
    return scan.hits


def test_no_bulk_update_of_issue_skips_the_version():
    """Every bulk UPDATE of issue sets ``version`` (R6c; ARCHITECTURE "what to avoid").

    Fails when a bulk ``update(Issue)`` / ``query(Issue).update()`` / SQL ``UPDATE issue``
    does not bump version — e.g. the sweep's warning-level update in
    workflow/clock/escalation.py with ``version=Issue.version + 1`` removed.
    """
    hits = []
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = str(path.relative_to(ROOT))
            hits += scan_source(path.read_text(encoding="utf-8"), rel)
    assert not hits, "bulk UPDATE of issue without the version bump:\n" + "\n".join(hits)


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ("session.execute(update(Issue).where(Issue.id == 1).values(warning_level='red'))", True),
        ("s.execute(sa.update(Issue).values({'progress': 5}))", True),
        ("s.execute(update(Issue), [{'id': 1, 'progress': 5}])", True),
        ("s.execute(Issue.__table__.update().values(progress=5))", True),
        ("s.query(Issue).filter(Issue.id == 1).update({'progress': 5})", True),
        ("s.execute(text('UPDATE issue SET progress = 5 WHERE id = 1'))", True),
        ("s.execute(update(Issue).values(progress=5, version=Issue.version + 1))", False),
        ("s.query(Issue).update({Issue.progress: 5, Issue.version: Issue.version + 1})", False),
        ("s.execute(update(Escalation).values(letter_id=3))", False),
        ("names.update(other)", False),
    ],
)
def test_the_bulk_update_scan_sees_what_it_should(source, flagged):
    """The scan itself, on planted snippets: it flags each bypass and nothing harmless."""
    assert bool(scan_source(source)) is flagged
