"""The sweep's partitions: one per city subtree plus each root unit's own issues.

Two sweeps at once
    The work is split into partitions; a batch may span partitions.  In each batch
    transaction the partitions of its rows are claimed (``_Run._claim`` in
    :mod:`.sweep`): ``pg_try_advisory_xact_lock`` on each (PostgreSQL, one statement:
    :func:`_try_xact_locks`), or on SQLite — where the write lock already excludes other
    writers for the transaction — a check that no other live sweep keeps a ``lease`` on
    them; a sweep whose batch was full (more work follows in later transactions) leases
    its partitions until it ends.  A sweep that finds a partition busy skips it for the
    rest of the run and says so.  The unique key is the last line of defence.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from workflow.db import lease
from workflow.models import Issue, Unit
from workflow.org.scope import path_range


def partitions(session: Session) -> list[str]:
    """The sweep's partitions: each root unit's own issues, then each city subtree.

    ``"=/1/"`` means "issues of exactly unit /1/"; ``"/1/5/"`` means "the subtree /1/5/".
    """
    roots = session.scalars(select(Unit.path).where(Unit.parent_id.is_(None)).order_by(Unit.path))
    tops = session.scalars(select(Unit.path).where(Unit.depth == 1).order_by(Unit.path))
    return [f"={p}" for p in roots] + list(tops)


def _partition_filter(partition: str | None) -> Any:
    if not partition:
        return True
    if partition.startswith("="):
        return Issue.unit_path == partition[1:]
    return path_range(Issue.unit_path, partition)


def _scope(prefix: str | None, busy: Iterable[str]) -> list[Any]:
    """The partition the sweep is restricted to, minus the partitions found busy."""
    conds = [_partition_filter(prefix)] if prefix else []
    return conds + [~_partition_filter(p) for p in sorted(busy)]


def _partition_of(unit_path: str) -> str:
    """The partition (see :func:`partitions`) of an issue of the unit at ``unit_path``."""
    segments = unit_path.strip("/").split("/")
    return f"={unit_path}" if len(segments) == 1 else f"/{segments[0]}/{segments[1]}/"


def _lock_name(partition: str) -> str:
    return f"sweep:{partition}"


def _try_xact_locks(session: Session, names: list[str]) -> dict[str, bool]:
    """``lease.try_xact_lock`` for several partitions in one statement (PostgreSQL)."""
    keys = {lease.session_key(session, name): name for name in names}
    got = session.execute(
        text(
            "SELECT t.k, pg_try_advisory_xact_lock(t.k) "
            "FROM unnest(CAST(:keys AS bigint[])) AS t(k)"
        ),
        {"keys": list(keys)},
    ).all()
    return {keys[k].removeprefix("sweep:"): bool(ok) for k, ok in got}
