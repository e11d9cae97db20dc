"""Run the Rectiflow benchmark: every figure beside its floor measured in the same run.

    python -m bench.run --quick|--full [--db sqlite|postgres|both] [--only NAME]

``--quick``: 10,000 issues over 1,000 units, 3 s per throughput measurement (a few
minutes).  ``--full``: 1,000,000 issues over 10,000 units (~5.5 M audit events), 10 s per
measurement.  The table is printed as it goes and written, with the machine and the
profile, to ``bench/out/results-<mode>.md``.  See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import board, excel, generate, lifecycle, profile, sweep, transitions, verify, web
from bench.common import Results, Settings, markdown

# order matters: read-only figures first, then the ones that write to the base data sets
FIGURES: dict[str, Callable[[Settings, Results], None]] = {
    "board": board.run,
    "verify": verify.run,
    "web": web.run,
    "profile": profile.run,
    "transitions": transitions.run,
    "sweep": sweep.run,
    "excel": excel.run,
    "lifecycle": lifecycle.run,
}
OUT = Path(__file__).resolve().parent / "out"


def settings(args: argparse.Namespace, workdir: Path) -> Settings:
    """Sizes for the mode, with the development overrides applied."""
    dbs = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    if args.full:
        cfg = Settings(False, dbs, workdir, 1_000_000, 10_000, 10.0, (100_000, 1_000_000),
                       50_000, 5_000_000)  # fmt: skip
    else:
        cfg = Settings(True, dbs, workdir, 10_000, 1_000, 3.0, (2_000, 10_000), 5_000, 100_000)
    if args.issues:
        cfg.issues = args.issues
        cfg.sweep_sizes = (max(200, args.issues // 5), args.issues)
        cfg.import_rows = min(cfg.import_rows, max(100, args.issues // 2))
    if args.units:
        cfg.units = args.units
    if args.seconds:
        cfg.seconds = args.seconds
    return cfg


def machine() -> list[str]:
    """What the figures were measured on."""
    lines = [f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"]
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    cpu = next((ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")), "?")
    mem = next((ln.split(":", 1)[1].strip() for ln in meminfo if ln.startswith("MemTotal")), "?")
    lines += [f"- CPU: {os.cpu_count()} × {cpu}; memory {mem}",
              f"- load average at start: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}",
              f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"]  # fmt: skip
    try:
        from sqlalchemy import create_engine, text

        eng = create_engine(generate.PG_URL, connect_args={"connect_timeout": 2})
        with eng.connect() as conn:
            lines.append(f"- {conn.execute(text('SELECT version()')).scalar()}")
        eng.dispose()
    except Exception as exc:  # the server may be down: say so, SQLite still runs
        lines.append(f"- PostgreSQL: not reachable ({type(exc).__name__})")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, build the data sets, run the figures, write the results."""
    ap = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--quick", action="store_true", help="10,000 issues; a few minutes")
    mode.add_argument("--full", action="store_true", help="1,000,000 issues; long")
    ap.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    ap.add_argument("--only", choices=sorted(FIGURES), action="append",
                    help="run only this figure (repeatable)")  # fmt: skip
    ap.add_argument("--issues", type=int, help="override the number of issues (development)")
    ap.add_argument("--units", type=int, help="override the number of units (development)")
    ap.add_argument("--seconds", type=float, help="override each throughput measurement")
    args = ap.parse_args(argv)
    t_start = time.perf_counter()
    results = Results()
    with tempfile.TemporaryDirectory(prefix="rectiflow-bench-") as tmp:
        cfg = settings(args, Path(tmp))
        if "postgres" in cfg.dbs and not generate.pg_available():
            results.note(f"PostgreSQL figures skipped: no server at {generate.PG_URL}")
            cfg.dbs = tuple(d for d in cfg.dbs if d != "postgres")
        if not cfg.dbs:
            return 1
        print(f"building {cfg.issues:,} issues over {cfg.units:,} units on {', '.join(cfg.dbs)}",
              flush=True)  # fmt: skip
        for kind in cfg.dbs:
            ds = generate.build(kind, cfg.issues, cfg.units, cfg.workdir, name="base")
            cfg.cache[f"base:{kind}"] = ds
            print(f"  {kind}: {ds.issues:,} issues, {ds.units:,} units, {ds.events:,} events, "
                  f"{ds.size_bytes() / 2**20:.0f} MiB in {ds.seconds:.1f} s", flush=True)  # fmt: skip
            if kind == "sqlite":
                cfg.cache["template:sqlite"] = generate.clone(ds, cfg.workdir, "template")
        for name, fn in FIGURES.items():
            if args.only and name not in args.only:
                continue
            t = time.perf_counter()
            try:
                fn(cfg, results)
            except Exception as exc:
                traceback.print_exc()
                results.note(f"{name} failed: {type(exc).__name__}: {exc}")
            print(f"  [{name}: {time.perf_counter() - t:.1f} s]", flush=True)
        for key, ds in cfg.cache.items():
            if key.startswith(("base:", "template:")):
                ds.drop()
    total = time.perf_counter() - t_start
    mode_name = "full" if args.full else "quick"
    report = [f"# Rectiflow benchmark ({mode_name}), {total:.0f} s", "", *machine(), "",
              f"Command: `python -m bench.run {' '.join(argv or sys.argv[1:])}`", "",
              markdown(results), ""]  # fmt: skip
    report += [f"- {n}" for n in results.notes]
    for name, text in results.profiles.items():
        report += ["", f"## Profile: {name}", "", "```", text, "```"]
    OUT.mkdir(exist_ok=True)
    path = OUT / f"results-{mode_name}.md"
    path.write_text("\n".join(report) + "\n", encoding="utf-8")
    print(f"\nwritten {path} ({total:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
