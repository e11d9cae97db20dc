"""The embedded clock: jobs by text reference, Asia/Shanghai, replace_existing, one scheduler
started by `rectiflow run` (waitress) and never by create_app."""

from __future__ import annotations

import threading

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from click.testing import CliRunner

from web import create_app
from web.cli.clock import clock_jobs
from workflow.clock import scheduler


def _app(tmp_path, url: str):
    return create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "t",
            "TESTING": True,
            "UPLOAD_FOLDER": str(tmp_path / "up"),
        }
    )


def test_jobs_are_text_references_in_shanghai_time(sqlite_world, tmp_path):
    app = _app(tmp_path, sqlite_world.db.url)
    jobs = clock_jobs(app)
    assert [j.id for j in jobs] == ["rectiflow-sweep", "rectiflow-dispatch", "rectiflow-digest"]
    assert all(isinstance(j.func, str) and ":" in j.func for j in jobs)
    sched = scheduler.build(jobs)
    sched.add_job(
        jobs[0].func,
        "interval",
        minutes=1,
        id=jobs[0].id,
        replace_existing=True,
        kwargs=dict(jobs[0].kwargs),
    )
    assert str(sched.timezone) == "Asia/Shanghai"
    assert not sched.running  # building never starts it; create_app neither
    _app(tmp_path, sqlite_world.db.url)
    assert not sched.running
    sched.start(paused=True)  # pending jobs are committed to the (memory) store at start
    try:
        assert len(sched.get_jobs()) == 3  # re-registering replaced, did not duplicate
        assert sched.get_job("rectiflow-sweep").trigger.interval.total_seconds() == 60
        assert sched.get_job("rectiflow-dispatch").trigger.interval.total_seconds() == 30
    finally:
        sched.shutdown(wait=False)


def test_the_scheduler_runs_the_sweep_job(sqlite_world, tmp_path):
    app = _app(tmp_path, sqlite_world.db.url)
    done = threading.Event()
    results: list = []
    sched = scheduler.build(clock_jobs(app)[:2])

    def listen(event):
        results.append(event)
        if len(results) >= 2:
            done.set()

    sched.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    sched.start()
    try:
        assert done.wait(30)
    finally:
        sched.shutdown(wait=True)
    assert all(getattr(e, "exception", None) is None for e in results), results
    assert {e.job_id for e in results} == {"rectiflow-sweep", "rectiflow-dispatch"}


def test_run_serves_with_waitress_and_one_scheduler(sqlite_world, tmp_path, monkeypatch):
    import waitress

    from web.cli import cli

    started: list = []
    served: list = []
    real_start = scheduler.start

    def fake_start(jobs, timezone=scheduler.TIMEZONE):
        sched = real_start([j for j in jobs if j.id == "rectiflow-digest"], timezone)
        started.append((sched, [j.id for j in jobs]))
        return sched

    monkeypatch.setattr(scheduler, "start", fake_start)

    class FakeServer:
        """What waitress.create_server returns: bound at once, run() serves until stopped."""

        def __init__(self, app, **kw):
            served.append((app, kw))

        def run(self):
            pass

        def close(self):
            pass

    monkeypatch.setattr(waitress, "create_server", FakeServer)
    monkeypatch.setenv("RECTIFLOW_INSTANCE", str(tmp_path / "inst"))
    monkeypatch.setenv("RECTIFLOW_DATABASE_URL", sqlite_world.db.url)
    result = CliRunner().invoke(cli, ["run", "--port", "5999"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert len(started) == 1 and len(served) == 1
    assert started[0][1] == ["rectiflow-sweep", "rectiflow-dispatch", "rectiflow-digest"]
    assert served[0][1]["port"] == 5999
    assert not started[0][0].running  # shut down when the server returned
