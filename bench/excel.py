"""Excel: importing an inspection team's 问题清单 and exporting a city's 整改台账.

Import: ``excel_import.import_issues`` of a generated .xlsx (50,000 rows; quick 5,000)
into the data set as the province office, committed at the end.  Floor: openpyxl's
read-only iteration over the same file's values (the parsing alone).  Export:
``excel_export.export_ledger`` of one city's subtree; floor: openpyxl write-only writing
the same number of rows of plain values.  Each runs in a forked child so that its peak
resident memory (``ru_maxrss`` above the child's starting RSS) is its own.
"""

from __future__ import annotations

import io
import multiprocessing as mp
import os
import resource
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench import generate
from bench.common import Results, Row, Settings
from workflow.models import Unit, User

HEADERS = [
    "序号",
    "问题编号",
    "问题类别",
    "问题表现",
    "责任单位代码",
    "整改时限",
    "整改类型",
    "来源",
]


def _rss_kib() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _in_child(fn: Callable[[], int]) -> tuple[int, float, int]:
    """Run ``fn`` in a forked child: (rows, seconds, peak RSS growth in KiB)."""
    ctx = mp.get_context("fork")
    q: Any = ctx.Queue()

    def target() -> None:
        base = _rss_kib()
        t = time.perf_counter()
        n = fn()
        secs = time.perf_counter() - t
        q.put((n, secs, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base))

    p = ctx.Process(target=target)
    p.start()
    out = q.get(timeout=1800)
    p.join()
    return out


def make_sheet(ds: generate.Dataset, rows: int, path: Path) -> None:
    """A 问题清单 of ``rows`` rows over the data set's township and village units."""
    from openpyxl import Workbook

    db = ds.database()
    with db.reading() as s:
        codes = list(s.scalars(select(Unit.code).where(Unit.level.in_(("township", "village")))))
    db.dispose()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("问题清单")
    ws.append(HEADERS)
    due = (ds.now + timedelta(days=120)).date()
    for i in range(1, rows + 1):
        ws.append([i, f"XS2026-IMP-{i:06d}", "全面从严治党不力",
                   f"第{i}项：专项资金拨付滞后，部分资金被挪作他用，会议记录不完整。",
                   codes[i % len(codes)], due, "限期整改", "巡视"])  # fmt: skip
    wb.save(path)


def run(cfg: Settings, results: Results) -> None:
    """Import and export rows/s and peak memory, beside openpyxl alone."""
    try:
        from workflow.imports.excel import import_issues
        from workflow.queries import Filters
        from workflow.queries.export import export_ledger
    except ImportError as exc:
        results.note(f"excel figure skipped: Excel modules not available ({exc})")
        return
    from openpyxl import Workbook, load_workbook

    kind = "sqlite" if "sqlite" in cfg.dbs else cfg.dbs[0]
    base: generate.Dataset = cfg.cache[f"base:{kind}"]
    ds = (
        generate.clone(cfg.cache["template:sqlite"], cfg.workdir, "excel")
        if kind == "sqlite"
        else base
    )
    sheet = cfg.workdir / "import.xlsx"
    make_sheet(ds, cfg.import_rows, sheet)
    office = ds.users[(ds.root_id, "office")]

    def do_import() -> int:
        db = ds.database()
        with db.writing() as s:
            user = s.get(User, office)
            report = import_issues(s, str(sheet), user, ds.now)
            if not report.ok:
                raise RuntimeError(f"import refused: {report.errors[:3]}")
        db.dispose()
        return int(report.created)

    def parse_only() -> int:
        wb = load_workbook(sheet, read_only=True, data_only=True)
        n = sum(1 for _ in wb.active.iter_rows(min_row=2, values_only=True))
        wb.close()
        return n

    n, secs, rss = _in_child(do_import)
    fn, fsecs, frss = _in_child(parse_only)
    results.add(Row("excel", kind, f"import {n:,} rows", n / secs, "rows/s", fn / fsecs,
                    "openpyxl read-only parse", "report", None,
                    f"peak RSS +{rss / 1024:.0f} MiB (parse alone +{frss / 1024:.0f} MiB)"))  # fmt: skip

    city = ds.city_ids[0]

    def do_export() -> int:
        db = ds.database()
        with db.reading() as s:
            user = s.get(User, office)
            out = io.BytesIO()
            rows = export_ledger(s, user, out, ds.now, Filters(unit_id=city))
        db.dispose()
        return int(rows)

    n, secs, rss = _in_child(do_export)

    def write_only() -> int:
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("整改台账")
        for i in range(n):
            ws.append([i, f"ZG2026-{i:07d}", "巡视", "全面从严治党不力", "考核奖金发放不规范",
                       "专项资金拨付滞后，部分资金被挪作他用。", "第1乡镇", "T00001", None, "分管领导",
                       "责任人", "限期整改", "2026-07-01", None, "30%", "未完成", "整改中",
                       "绿", 0])  # fmt: skip
        wb.save(io.BytesIO())
        return n

    wn, wsecs, wrss = _in_child(write_only)
    results.add(Row("excel", kind, f"export a city's ledger, {n:,} rows", n / secs, "rows/s",
                    wn / wsecs, "openpyxl write-only, plain values", "report", None,
                    f"peak RSS +{rss / 1024:.0f} MiB (writer alone +{wrss / 1024:.0f} MiB)"))  # fmt: skip
    if ds is not base:
        ds.drop()
