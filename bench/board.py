"""The unit board's roll-up (``queries.unit_board``) vs a raw GROUP BY.

The board of the province office: the root's own line plus one line per city, each rolled
up over its subtree by path prefix, exactly as ``web/pages/overview/board.py`` calls it (one scan of
the subtree grouped by child).  Floor: ``SELECT unit_id, stage, count(*) FROM issue GROUP
BY unit_id, stage`` (the per-unit dashboard of the performance floors).  One county: its
board (its line and its townships'), beside ``SELECT stage, count(*) … WHERE unit_path
LIKE :prefix GROUP BY stage``.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from sqlalchemy import text

from bench import generate
from bench.common import Results, Row, Settings, timed
from workflow import queries
from workflow.models import Unit, User

RAW_ALL = "SELECT unit_id, stage, count(*) FROM issue GROUP BY unit_id, stage"
RAW_ONE = "SELECT stage, count(*) FROM issue WHERE unit_path LIKE :p GROUP BY stage"


def _paired(fn: Callable[[], Any], floor: Callable[[], Any], runs: int) -> tuple[float, float]:
    """Median seconds of ``fn`` and of ``floor``, timed in turns (load hits both alike)."""
    fn()  # warm-up: caches, compiled statements
    floor()
    pairs = [(timed(fn)[0], timed(floor)[0]) for _ in range(runs)]
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def _measure(ds: generate.Dataset, runs: int) -> tuple[float, float, float, float, int]:
    """(board s, raw s, one county s, raw one county s, cities) medians."""
    db = ds.database()
    with db.reading() as s:
        user = s.get(User, ds.users[(ds.root_id, "office")])
        root, county = s.get(Unit, ds.root_id), s.get(Unit, ds.county_ids[0])
        assert user is not None and root is not None and county is not None
        _ = [m.unit for m in user.memberships]
        cities = queries.child_units(s, ds.root_id)

        def board() -> None:
            queries.unit_board(s, user, root, ds.now)

        def one() -> None:
            queries.unit_board(s, user, county, ds.now)

        t_board, t_raw = _paired(board, lambda: s.execute(text(RAW_ALL)).all(), runs)
        prefix = {"p": county.path + "%"}
        t_one, t_raw_one = _paired(one, lambda: s.execute(text(RAW_ONE), prefix).all(), 4 * runs)
    db.dispose()
    return t_board, t_raw, t_one, t_raw_one, len(cities)


def run(cfg: Settings, results: Results) -> None:
    """Root board and one county, service query vs raw SQL, on each database."""
    for kind in cfg.dbs:
        ds: generate.Dataset = cfg.cache[f"base:{kind}"]
        t_board, t_raw, t_one, t_raw_one, cities = _measure(ds, 15 if cfg.quick else 5)
        results.add(Row("board", kind, f"root + {cities} cities roll-up, {ds.issues:,} issues",
                        t_board * 1000, "ms", t_raw * 1000, "raw GROUP BY unit_id, stage",
                        "≤ 1.5× raw", t_board <= 1.5 * t_raw))  # fmt: skip
        results.add(Row("board", kind, "one county roll-up", t_one * 1000, "ms",
                        t_raw_one * 1000, "raw GROUP BY stage, path prefix", "≤ 5 ms",
                        t_one <= 0.005))  # fmt: skip
