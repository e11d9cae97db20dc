"""The sweep as a Prefect 3 flow: the scale-out clock, a thin wrapper over plain functions.

Owns the flow, its tasks and the trigger helper.  The business logic stays in
:func:`workflow.clock.escalation.sweep` (the embedded APScheduler path calls exactly that
function, never this flow); issue state and escalations live in our tables, never in
Prefect results.  Imported only where Prefect is installed (the ``prefect`` extra).
Must not import flask or ``notifications``.

Shape of a run:

- one ``sweep-partition`` task per partition (each root unit's own issues and each city
  subtree, :func:`workflow.clock.escalation.partitions`), submitted concurrently and spread
  over whatever runs the flow; each takes the partition's advisory lock (PostgreSQL) or
  lease (SQLite), so a scheduler sweeping at the same time never double-escalates;
- task retries with growing delays for transient database errors (a retry is safe: the
  sweep is idempotent);
- the idempotency key of a window, ``sweep-<window start>-<partition>-<database>``, is the
  task's cache key: a partition already swept in this window is not swept again (a
  re-triggered or retried flow run costs nothing), and :func:`trigger_sweep` passes
  ``sweep-<window start>`` as the flow-run idempotency key so two triggers of one
  window create one run;
- the tag ``rectiflow-sweep`` carries the concurrency limit
  (``prefect concurrency-limit create rectiflow-sweep 4``).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from prefect import flow, task
from prefect.context import TaskRunContext

from workflow import config
from workflow.clock.escalation import SweepReport, partitions, sweep
from workflow.db import shared_database

SWEEP_TAG = "rectiflow-sweep"
DEFAULT_WINDOW_MINUTES = 10


def resolve_database_url(given: str | None = None) -> str:
    """The app database: the parameter (tests), else the worker's own configuration.

    Deployments carry no URL (it holds the password): a worker reads ``DATABASE_URL`` the
    way the web app does (:mod:`workflow.config`: ``<instance>/config.py``, then
    ``RECTIFLOW_DATABASE_URL`` in the worker's environment).
    """
    return given or str(config.load()["DATABASE_URL"])


def window_start(now: datetime, minutes: int) -> datetime:
    """The start of the sweep window containing ``now`` (UTC, aligned to the epoch)."""
    seconds = minutes * 60
    epoch = int(now.timestamp()) // seconds * seconds
    return datetime.fromtimestamp(epoch, UTC)


def _db_tag(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:10]


def sweep_key(window: str, partition: str, url: str) -> str:
    """The idempotency key of one partition in one window."""
    return f"sweep-{window}-{partition}-{_db_tag(url)}"


def _cache_key(_ctx: TaskRunContext, params: dict[str, Any]) -> str:
    return sweep_key(params["window"], params["partition"], params["url"])


@task(name="list-partitions", retries=2, retry_delay_seconds=5)
def list_partitions(url: str) -> list[str]:
    """The partitions of the unit tree (one read query)."""
    with shared_database(url).reading() as session:
        return partitions(session)


@task(
    name="sweep-partition",
    tags=[SWEEP_TAG],
    retries=3,
    retry_delay_seconds=[2, 10, 30],
    cache_key_fn=_cache_key,
    cache_expiration=timedelta(hours=6),
    persist_result=True,
)
def sweep_partition(url: str, now: str, partition: str, window: str, batch: int = 500) -> dict:
    """Sweep one partition at ``now`` (plain :func:`~workflow.clock.escalation.sweep`)."""
    report = sweep(
        shared_database(url), datetime.fromisoformat(now), unit_path_prefix=partition, batch=batch
    )
    return report.as_dict()


@flow(name="rectiflow-sweep", log_prints=True)
def sweep_flow(
    database_url: str | None = None,
    now: str | None = None,
    window_minutes: int = DEFAULT_WINDOW_MINUTES,
    batch: int = 500,
) -> dict:
    """Sweep every partition concurrently; ``now`` (ISO-8601) defaults to the present."""
    url = resolve_database_url(database_url)
    instant = datetime.fromisoformat(now) if now else datetime.now(UTC)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    window = window_start(instant, window_minutes).isoformat()
    parts = list_partitions(url)
    futures = [
        sweep_partition.submit(url, instant.isoformat(), part, window, batch) for part in parts
    ]
    total = SweepReport(instant)
    results = [f.result() for f in futures]
    fired = sum(r["fired"] for r in results)
    skipped = [s for r in results for s in r["skipped"]]
    print(f"swept {len(parts)} partitions at {instant.isoformat()}: {fired} escalations")
    return {
        "now": total.now.isoformat(),
        "window": window,
        "partitions": parts,
        "fired": fired,
        "skipped": skipped,
        "results": results,
    }


def trigger_sweep(
    deployment: str = "rectiflow-sweep/sweep",
    now: datetime | None = None,
    window_minutes: int = DEFAULT_WINDOW_MINUTES,
    timeout: float | None = 0,
) -> Any:
    """Start a run of the sweep deployment for the current window (one run per window)."""
    from prefect.deployments import run_deployment

    instant = now or datetime.now(UTC)
    window = window_start(instant, window_minutes).isoformat()
    return run_deployment(
        deployment,
        parameters={"now": instant.isoformat(), "window_minutes": window_minutes},
        idempotency_key=f"sweep-{window}",
        timeout=timeout,
        as_subflow=False,
    )
