"""The embedded clock: one APScheduler ``BackgroundScheduler`` running the jobs it is handed.

Owns building and starting the scheduler and the sweep's job callable.  The scheduler
knows nothing of what it runs: ``web/cli/clock.py`` hands it :class:`Job` specs (the
sweep from here, the outbox dispatch and the daily digest from ``notifications``), so
``workflow`` never imports ``notifications`` or flask.

Rules learned the hard way (see reference/dependencies.md §3):

- exactly one scheduler per deployment — it is started by ``rectiflow run`` or
  ``rectiflow scheduler``, never inside ``create_app`` (the reloader and every gunicorn
  worker would each start one).  The sweep is safe to run twice anyway (lease/advisory
  lock + unique keys), so a second scheduler wastes work but never duplicates effects;
- job callables are referenced by text (``"module:function"``) and live in modules with
  no import-time side effects, never in ``__main__``;
- jobs are (re-)added at every start with ``replace_existing=True`` into the default
  in-memory job store: nothing to migrate when a job is renamed, nothing stale to load;
- ``coalesce=True`` and ``max_instances=1``: a sweep that overruns its interval is not
  stacked, and missed runs collapse into one (the sweep catches up by itself).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from workflow.db import shared_database
from workflow.timezone import OFFICE_TIMEZONE

log = logging.getLogger(__name__)

TIMEZONE = OFFICE_TIMEZONE


@dataclass(frozen=True)
class Job:
    """One scheduled job: a text reference to its callable, a trigger and small kwargs."""

    id: str
    func: str  # "module:function", importable without side effects
    trigger: str  # interval | cron
    trigger_args: Mapping[str, Any]
    kwargs: Mapping[str, Any] = field(default_factory=dict)


def build(jobs: Sequence[Job], timezone: str = TIMEZONE) -> BackgroundScheduler:
    """A scheduler (not started) with ``jobs`` registered."""
    scheduler = BackgroundScheduler(
        timezone=timezone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    for job in jobs:
        scheduler.add_job(
            job.func,
            job.trigger,
            id=job.id,
            name=job.id,
            replace_existing=True,
            kwargs=dict(job.kwargs),
            **dict(job.trigger_args),
        )
    return scheduler


def start(jobs: Sequence[Job], timezone: str = TIMEZONE) -> BackgroundScheduler:
    """Build and start the scheduler (daemon thread); the caller shuts it down."""
    scheduler = build(jobs, timezone)
    scheduler.start()
    log.info("scheduler started with jobs %s", ", ".join(j.id for j in jobs))
    return scheduler


def sweep_job(database_url: str, batch: int = 500) -> dict[str, Any]:
    """The sweep at the current instant (the embedded path: the plain function, no Prefect)."""
    from workflow.clock.escalation import sweep

    report = sweep(shared_database(database_url), datetime.now(UTC), batch=batch)
    for line in report.lines():
        log.info("sweep: %s", line)
    return report.as_dict()


def sweep_jobs(database_url: str, minutes: int) -> list[Job]:
    """The sweep as a job spec, every ``minutes`` minutes."""
    return [
        Job(
            id="rectiflow-sweep",
            func="workflow.clock.scheduler:sweep_job",
            trigger="interval",
            trigger_args={"minutes": minutes},
            kwargs={"database_url": database_url},
        )
    ]
