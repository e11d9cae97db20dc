"""The outbox dispatch and the daily digest as Prefect 3 flows (scale-out, thin wrappers).

Owns the flows and tasks only; the work is :func:`notifications.dispatch.dispatch` and
:func:`notifications.digest.digest`, the same functions the embedded scheduler runs.
On PostgreSQL several ``dispatch-batch`` tasks run at once and share the outbox through
``FOR UPDATE SKIP LOCKED``; on SQLite one at a time is enough.  Task retries cover
transient database errors (a delivery failure is not an exception here: it is recorded
on the outbox row and retried with backoff by the dispatcher itself).
Configuration comes from the worker's instance folder and ``RECTIFLOW_*`` environment
(:func:`workflow.config.load`), never from deployment parameters.  Must not import flask or ``web``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import flow, task

from notifications.digest import digest
from notifications.dispatch import config_from_env, dispatch
from workflow.clock.flows import resolve_database_url as resolve_url
from workflow.db import shared_database

DISPATCH_TAG = "rectiflow-dispatch"


@task(name="dispatch-batch", tags=[DISPATCH_TAG], retries=3, retry_delay_seconds=[2, 10, 30])
def dispatch_batch(url: str, now: str, batch: int) -> dict:
    """Deliver one batch of due outbox rows."""
    return dispatch(
        shared_database(url), datetime.fromisoformat(now), config_from_env(), batch
    ).as_dict()


@flow(name="rectiflow-dispatch")
def dispatch_flow(
    database_url: str | None = None,
    now: str | None = None,
    workers: int = 4,
    batch: int = 100,
    max_rounds: int = 50,
) -> dict:
    """Drain the due outbox in batches, ``workers`` batches at a time on PostgreSQL."""
    url = resolve_url(database_url)
    instant = now or datetime.now(UTC).isoformat()
    parallel = workers if not url.startswith("sqlite") else 1
    totals = {
        "claimed": 0,
        "sent": 0,
        "retried": 0,
        "failed": 0,
        "deferred": 0,
        "held_for_digest": 0,
    }
    for _ in range(max_rounds):
        futures = [dispatch_batch.submit(url, instant, batch) for _ in range(parallel)]
        results = [f.result() for f in futures]
        for r in results:
            for key in totals:
                totals[key] += r[key]
        if all(r["claimed"] + r["deferred"] + r["held_for_digest"] < batch for r in results):
            break
    return totals


@task(name="digest", retries=2, retry_delay_seconds=30)
def digest_task(url: str, now: str) -> int:
    """Write the daily digests."""
    return digest(shared_database(url), datetime.fromisoformat(now), config_from_env())


@flow(name="rectiflow-digest")
def digest_flow(database_url: str | None = None, now: str | None = None) -> int:
    """The daily e-mail digest."""
    return digest_task(resolve_url(database_url), now or datetime.now(UTC).isoformat())
