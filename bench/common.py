"""Shared pieces of the benchmark: the run's settings, timing, and the results table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Settings:
    """Sizes and durations of one run (``--quick`` or ``--full``)."""

    quick: bool
    dbs: tuple[str, ...]
    workdir: Path
    issues: int
    units: int
    seconds: float  # length of each throughput measurement
    sweep_sizes: tuple[int, int]
    import_rows: int
    verify_events: int
    cache: dict[str, Any] = field(default_factory=dict)


@dataclass
class Row:
    """One figure beside its floor."""

    figure: str
    db: str
    what: str
    value: float
    unit: str
    floor: float | None = None
    floor_what: str = ""
    target: str = ""
    ok: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """value / floor."""
        if self.floor in (None, 0) or self.value is None:
            return None
        return self.value / self.floor


@dataclass
class Results:
    """Every row of a run, and the notes (skips, errors)."""

    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    profiles: dict[str, str] = field(default_factory=dict)

    def add(self, row: Row) -> Row:
        """Add a row and print it at once (a long run shows progress)."""
        self.rows.append(row)
        print(" | ".join(format_row(row)), flush=True)
        return row

    def note(self, text: str) -> None:
        """Add a note (a skipped figure, an error) and print it."""
        self.notes.append(text)
        print(f"note: {text}", flush=True)


def fmt(v: float | None) -> str:
    """A number with 3 significant figures (thousands separated)."""
    if v is None:
        return "–"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"


def format_row(r: Row) -> list[str]:
    """The cells of one table row."""
    ok = "" if r.ok is None else ("yes" if r.ok else "**MISSED**")
    ratio = "–" if r.ratio is None else f"{r.ratio:.2f}×"
    floor = "–" if r.floor is None else f"{fmt(r.floor)} ({r.floor_what})"
    return [r.figure, r.db, r.what, f"{fmt(r.value)} {r.unit}", floor, ratio, r.target, ok, r.note]


HEADER = ["figure", "db", "measured", "value", "floor (same run)", "ratio", "target", "met", "note"]


def markdown(results: Results) -> str:
    """The results as a Markdown table (for bench/README.md)."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for r in results.rows:
        lines.append("| " + " | ".join(c.replace("|", "/") for c in format_row(r)) + " |")
    return "\n".join(lines)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds ``fn`` took, and its result."""
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def median_time(fn: Callable[[], Any], runs: int = 5, warmup: int = 1) -> float:
    """Median seconds of ``runs`` calls of ``fn`` after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    return statistics.median(timed(fn)[0] for _ in range(runs))


def rate_for(seconds: float, step: Callable[[int], None], limit: int | None = None) -> float:
    """Call ``step(i)`` for ``seconds`` (or ``limit`` calls); return calls per second."""
    n = 0
    t0 = time.perf_counter()
    end = t0 + seconds
    while time.perf_counter() < end and (limit is None or n < limit):
        step(n)
        n += 1
    return n / (time.perf_counter() - t0)
