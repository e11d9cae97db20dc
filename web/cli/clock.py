"""`rectiflow sweep|dispatch|digest|scheduler|run|prefect-deploy`: the clock's commands.

This module composes the escalation sweep (``workflow``) and the notification dispatch
(``notifications``) for either clock — the embedded APScheduler (``run`` serves the app
with waitress *and* runs one scheduler in the same process; ``scheduler`` runs the
scheduler alone) or Prefect deployments (``prefect-deploy``) — so that ``workflow`` never
imports ``notifications``.  The scheduler is never started inside ``create_app``.
"""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from web.database import get_database, parse_now

CHECKOUT = Path(__file__).resolve().parents[2]

#: the config keys the notification channels and the dispatcher read
NOTIFY_KEYS = (
    "BASE_URL",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_TLS",
    "SMTP_SSL",
    "SMTP_USER",
    "SMTP_PASSWORD",
    "SMTP_FROM",
    "SMTP_TIMEOUT",
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
    "WEBHOOK_TIMEOUT",
    "DISPATCH_MAX_ATTEMPTS",
    "DISPATCH_BACKOFF_BASE_SECONDS",
    "DISPATCH_BACKOFF_FACTOR",
    "DISPATCH_BACKOFF_MAX_SECONDS",
    "DISPATCH_CLAIM_SECONDS",
    "TIMEZONE",
    "DIGEST_HOUR",
)


def notify_config(app: Flask) -> dict[str, Any]:
    """The notification settings of ``app`` (a small plain dict, safe to hand to jobs)."""
    return {k: app.config[k] for k in NOTIFY_KEYS if app.config.get(k) is not None}


def clock_jobs(app: Flask) -> list[Any]:
    """The embedded clock's jobs: sweep, outbox dispatch, daily digest."""
    from datetime import UTC, datetime

    from workflow.clock.scheduler import Job, sweep_jobs

    url = app.config["DATABASE_URL"]
    config = notify_config(app)
    soon = datetime.now(UTC)
    jobs = sweep_jobs(url, int(app.config.get("SCHEDULER_SWEEP_MINUTES") or 10))
    jobs = [
        Job(j.id, j.func, j.trigger, {**j.trigger_args, "next_run_time": soon}, j.kwargs)
        for j in jobs
    ]
    jobs.append(
        Job(
            id="rectiflow-dispatch",
            func="notifications.dispatch:dispatch_job",
            trigger="interval",
            trigger_args={
                "seconds": int(app.config.get("SCHEDULER_DISPATCH_SECONDS") or 30),
                "next_run_time": soon,
            },
            kwargs={"database_url": url, "config": config},
        )
    )
    jobs.append(
        Job(
            id="rectiflow-digest",
            func="notifications.digest:digest_job",
            trigger="cron",
            trigger_args={"hour": int(app.config.get("DIGEST_HOUR") or 8), "minute": 0},
            kwargs={"database_url": url, "config": config},
        )
    )
    return jobs


@click.command("sweep")
@with_appcontext
@click.option("--now", "now_text", help="The instant to sweep at (ISO-8601); default: now.")
@click.option("--partition", help="Only this partition (e.g. /1/5/ or =/1/).")
@click.option("--batch", default=500, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def sweep_command(now_text: str | None, partition: str | None, batch: int, as_json: bool) -> None:
    """Fire every escalation rung due now, once, and print what fired per rung."""
    from workflow.clock.escalation import sweep

    report = sweep(get_database(), parse_now(now_text), unit_path_prefix=partition, batch=batch)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    else:
        click.echo(f"sweep at {report.now.isoformat()}")
        for line in report.lines():
            click.echo(f"  {line}")


@click.command("dispatch")
@with_appcontext
@click.option("--now", "now_text", help="The instant to dispatch at (ISO-8601); default: now.")
@click.option("--batch", default=100, show_default=True)
def dispatch_command(now_text: str | None, batch: int) -> None:
    """Deliver the due notifications of the outbox."""
    from notifications.dispatch import dispatch_all

    report = dispatch_all(get_database(), parse_now(now_text), notify_config(current_app), batch)
    click.echo(json.dumps(report.as_dict(), ensure_ascii=False))


@click.command("digest")
@with_appcontext
@click.option("--now", "now_text", help="The instant (ISO-8601); default: now.")
def digest_command(now_text: str | None) -> None:
    """Collect held e-mails into one digest per user (normally a daily scheduled job)."""
    from notifications.digest import digest

    n = digest(get_database(), parse_now(now_text), notify_config(current_app))
    click.echo(f"{n} digest(s) written")


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the embedded clock alone (sweep, dispatch, digest) until stopped."""
    from workflow.clock import scheduler

    sched = scheduler.start(clock_jobs(current_app))
    click.echo("scheduler running: " + ", ".join(j.id for j in sched.get_jobs()))
    try:
        _wait_for_signal()
    finally:
        sched.shutdown(wait=True)


@click.command("run")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.option("--no-scheduler", is_flag=True, help="Serve only (the clock runs elsewhere).")
def run_command(host: str, port: int, threads: int, no_scheduler: bool) -> None:
    """Serve the app with waitress and run the one embedded scheduler in this process."""
    import waitress

    from workflow.clock import scheduler

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:  # bind first: a taken port is said plainly, before anything else starts
        server = waitress.create_server(app, host=host, port=port, threads=threads)
    except OSError as exc:
        raise click.ClickException(_bind_failure(host, port, exc)) from None
    sched = None if no_scheduler else scheduler.start(clock_jobs(app))
    click.echo(f"serving on http://{host}:{port}" + ("" if sched else " (no scheduler)"))
    try:
        server.run()
    finally:
        server.close()
        if sched is not None:
            sched.shutdown(wait=False)


def _bind_failure(host: str, port: int, exc: OSError) -> str:
    """Why ``host:port`` could not be bound, and what to do."""
    import errno

    if exc.errno == errno.EADDRINUSE:
        return (f"port {port} on {host} is in use (another Rectiflow or another program); "
                f"stop it or choose another port: make run PORT={port + 1}")  # fmt: skip
    if exc.errno == errno.EACCES:
        return f"no permission to listen on {host}:{port} (ports below 1024 need root)"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"


def deployment_specs(
    sweep_minutes: int, dispatch_seconds: int, digest_cron: str
) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(entrypoint, name, schedule, parameters) of the three deployments.

    No parameter names the database: its URL holds the password, and Prefect stores and
    shows parameters in the clear.  Workers read it from their own configuration.
    """
    return [
        ("workflow/clock/flows.py:sweep_flow", "sweep", {"interval": sweep_minutes * 60},
         {"window_minutes": sweep_minutes}),
        ("notifications/flows.py:dispatch_flow", "dispatch", {"interval": dispatch_seconds}, {}),
        ("notifications/flows.py:digest_flow", "digest", {"cron": digest_cron}, {}),
    ]  # fmt: skip


@click.command("prefect-deploy")
@with_appcontext
@click.option("--pool", default="rectiflow", show_default=True, help="Process work pool.")
@click.option("--sweep-minutes", default=10, show_default=True, type=int)
@click.option("--dispatch-seconds", default=60, show_default=True, type=int)
@click.option("--digest-cron", default="0 8 * * *", show_default=True)
@click.option(
    "--sweep-limit",
    default=4,
    show_default=True,
    type=int,
    help="Concurrency limit of sweep-partition tasks (tag rectiflow-sweep).",
)
@click.option("--dispatch-limit", default=4, show_default=True, type=int)
def prefect_deploy_command(
    pool: str,
    sweep_minutes: int,
    dispatch_seconds: int,
    digest_cron: str,
    sweep_limit: int,
    dispatch_limit: int,
) -> None:
    """Create the work pool, concurrency limits and the three Prefect deployments."""
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
            click.echo(f"work pool {pool} created")
        for tag, limit in (
            ("rectiflow-sweep", sweep_limit),
            ("rectiflow-dispatch", dispatch_limit),
        ):
            client.create_concurrency_limit(tag=tag, concurrency_limit=limit)
            click.echo(f"concurrency limit {tag} = {limit}")
    common = {"work_pool_name": pool, "build": False, "push": False, "print_next_steps": False}
    specs = deployment_specs(sweep_minutes, dispatch_seconds, digest_cron)
    for entrypoint, name, schedule, params in specs:
        deployable = flow.from_source(source=str(CHECKOUT), entrypoint=entrypoint)
        deployable.deploy(name=name, parameters=params, tags=["rectiflow"], **schedule, **common)
        click.echo(f"deployment {deployable.name}/{name} ({entrypoint}) {schedule}")
    click.echo(f"now start a worker: prefect worker start --pool {pool}")


COMMANDS = [
    sweep_command,
    dispatch_command,
    digest_command,
    scheduler_command,
    run_command,
    prefect_deploy_command,
]
