"""The same 5-step lifecycle, persisted after every step: Rectiflow vs SpiffWorkflow vs Prefect.

One issue = open, then 签收 → 提交方案 → 申请销号 → 签字背书 → 验收销号 (closed), each step
one transaction that loads the instance, acts, and stores it.

- Rectiflow: ``service.open_issue`` + five ``service.act`` calls on a five-step definition
  (``BENCH_DEFINITION`` below: clocks, notifications, an audit event per step).
- SpiffWorkflow: a BPMN process of five user tasks; per step the workflow is read from
  SQLite, deserialized, the ready task completed, serialized with
  ``BpmnWorkflowSerializer`` and written back (``UPDATE``), one transaction each.
- Prefect as the state store: one flow run per issue that pauses for every human step and
  is resumed from outside (``bench.prefect_state``, in a subprocess with a timeout).

Issues completed per second, and bytes of database growth per issue (SQLite file after a
WAL checkpoint).  Rectiflow stores much more per issue than Spiff's state (an issue row,
six audit events, clock instances, outbox rows); the size figure says what each keeps.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench import generate
from bench.common import Results, Row, Settings
from workflow import service
from workflow.definition.registry import sync_definitions
from workflow.models import Issue, Unit, User

STEPS = [
    ("sign_for", "unit_user", {}),
    ("submit_plan", "unit_user", {"note": "召开专题会议，制定整改措施"}),
    ("request_closeout", "unit_user", {"summary": "整改措施全部落实"}),
    ("attest_closeout", "unit_head", {}),
    ("accept", "supervisor", {"grade": "好"}),
]

BENCH_DEFINITION = """\
# a five-step lifecycle for the engine comparison (bench/lifecycle.py)
name: bench_five
title: {zh: 五步整改, en: Five-step rectification}
kind: rectification
restricted: false
timezone: Asia/Shanghai
initial: transferred
on_open:
  - start_clock: sign_for
  - notify: {to: [responsible_unit], template: transferred}
states:
  transferred: {label: {zh: 已移交, en: Transferred}, kind: open, stage: transfer}
  planning: {label: {zh: 制定整改方案, en: Planning}, kind: open, stage: handling}
  correcting: {label: {zh: 整改中, en: Correcting}, kind: open, stage: correction}
  closeout: {label: {zh: 申请销号, en: Close-out requested}, kind: open, stage: verification}
  acceptance: {label: {zh: 待验收, en: Awaiting acceptance}, kind: open, stage: verification}
  closed: {label: {zh: 已销号, en: Closed out}, kind: closed, stage: closed, final: true}
actions:
  sign_for:
    label: {zh: 签收, en: Sign for}
    from: transferred
    to: planning
    roles: [unit_user, unit_head]
    effects:
      - stop_clock: sign_for
      - start_clock: rectify
      - notify: {to: [supervisor], template: signed}
  submit_plan:
    label: {zh: 提交整改方案, en: Submit plan}
    from: planning
    to: correcting
    roles: [unit_user]
    fields:
      note: {type: text, max_length: 5000, label: {zh: 方案说明, en: Plan notes}}
    effects:
      - notify: {to: [supervisor], template: plan}
  request_closeout:
    label: {zh: 申请销号, en: Request close-out}
    from: correcting
    to: closeout
    roles: [unit_user]
    fields:
      summary: {type: text, required: true, max_length: 5000, label: {zh: 整改情况, en: Summary}}
    effects:
      - notify: {to: [unit_head], template: closeout}
  attest_closeout:
    label: {zh: 签字背书（销号）, en: Attest close-out}
    from: closeout
    to: acceptance
    roles: [unit_head]
    effects:
      - notify: {to: [supervisor], template: attest}
  accept:
    label: {zh: 验收销号, en: Accept and close out}
    from: acceptance
    to: closed
    roles: [supervisor]
    fields:
      grade: {type: choice, choices: [好, 较好, 一般, 差], required: true, label: {zh: 验收评价, en: Grade}}
    effects:
      - store: [grade]
      - stop_clock: rectify
      - notify: {to: [responsible_unit], template: closed}
clocks:
  sign_for:
    label: {zh: 签收时限, en: Sign-for deadline}
    counts: working_days
    amount: 5
    from: open
    pause: none
  rectify:
    label: {zh: 整改时限, en: Rectification deadline}
    counts: months
    amount: 6
    from: sign_for
    pause: shift
"""


def _sqlite_bytes(path: Path) -> int:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path.stat().st_size


# ------------------------------------------------------------------------------ Rectiflow


def rectiflow(cfg: Settings, sync: str) -> tuple[float, float, int]:
    """(issues/s, bytes per issue, issues) for the five-step lifecycle through the service."""
    ds = generate.build("sqlite", 0, 200, cfg.workdir, name=f"life-{sync}")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "bench_five.yaml").write_text(BENCH_DEFINITION, encoding="utf-8")
        db = ds.database(sync)
        with db.writing() as s:
            report = sync_definitions(s, ds.now - timedelta(days=1), Path(tmp))
            assert not report.problems, report.problems
            leaf = s.scalar(select(Unit).where(Unit.level == "village").limit(1)) or s.scalar(
                select(Unit).where(Unit.level == "township").limit(1)
            )
            assert leaf is not None
            code, unit_id = leaf.code, leaf.id
    users = {
        "office": ds.users[(ds.root_id, "office")],
        "unit_user": ds.users[(unit_id, "unit_user")],
        "unit_head": ds.users[(unit_id, "unit_head")],
        "supervisor": ds.users[(ds.root_id, "supervisor")],
    }
    now = ds.now
    fields = {"title": "公务用车管理不严", "description": "公车私用、使用登记不全。", "unit": code}
    size0 = _sqlite_bytes(ds.path)  # type: ignore[arg-type]

    def one() -> None:
        with db.writing() as s:
            issue = service.open_issue(s, "bench_five", fields, s.get(User, users["office"]), now)
            issue_id = issue.id
        for action, role, data in STEPS:
            with db.writing() as s:
                issue = s.get(Issue, issue_id)
                user = s.get(User, users[role])
                service.act(s, issue, action, user, data, issue.version, now)

    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < cfg.seconds:
        one()
        n += 1
    rate = n / (time.perf_counter() - t0)
    db.dispose()
    per_issue = (_sqlite_bytes(ds.path) - size0) / n  # type: ignore[arg-type]
    ds.drop()
    return rate, per_issue, n


# ------------------------------------------------------------------------------ SpiffWorkflow


def _bpmn() -> bytes:
    names = [s[0] for s in STEPS]
    tasks = "".join(f'<bpmn:userTask id="{s}" name="{s}"/>' for s in names)
    ids = ["start", *names, "end"]
    flows = "".join(
        f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
        for i, (a, b) in enumerate(zip(ids, ids[1:], strict=False))
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions '
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" '
        'targetNamespace="http://bpmn.io/schema/bpmn"><bpmn:process id="five" isExecutable="true">'
        f'<bpmn:startEvent id="start"/>{tasks}<bpmn:endEvent id="end"/>{flows}'
        "</bpmn:process></bpmn:definitions>"
    ).encode()


def spiff(cfg: Settings, sync: str) -> tuple[float, float, int]:
    """(issues/s, bytes per issue, issues) for the same lifecycle in SpiffWorkflow + SQLite."""
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.bpmn.parser import BpmnParser
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.util.task import TaskState

    parser = BpmnParser()
    parser.add_bpmn_str(_bpmn())
    spec = parser.get_spec("five")
    ser = BpmnWorkflowSerializer()
    path = cfg.workdir / f"spiff-{sync}-{os.getpid()}.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={sync}")
    conn.execute("CREATE TABLE workflow (id INTEGER PRIMARY KEY, state TEXT NOT NULL)")
    size0 = _sqlite_bytes(path)

    def one() -> None:
        wf = BpmnWorkflow(spec)
        wf.do_engine_steps()
        conn.execute("BEGIN IMMEDIATE")
        wid = conn.execute(
            "INSERT INTO workflow (state) VALUES (?)", (ser.serialize_json(wf),)
        ).lastrowid
        conn.execute("COMMIT")
        for action, role, data in STEPS:
            conn.execute("BEGIN IMMEDIATE")
            (state,) = conn.execute("SELECT state FROM workflow WHERE id=?", (wid,)).fetchone()
            wf = ser.deserialize_json(state)
            task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
            assert task.task_spec.name == action
            task.data.update({**data, "by": role})
            task.run()
            wf.do_engine_steps()
            conn.execute("UPDATE workflow SET state=? WHERE id=?", (ser.serialize_json(wf), wid))
            conn.execute("COMMIT")
        assert wf.is_completed()

    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < cfg.seconds:
        one()
        n += 1
    rate = n / (time.perf_counter() - t0)
    conn.close()
    per_issue = (_sqlite_bytes(path) - size0) / n
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return rate, per_issue, n


# ------------------------------------------------------------------------------ raw floor


def raw(cfg: Settings, sync: str) -> tuple[float, float, int]:
    """The floor: raw sqlite3, an issue row and an event per step, one transaction each."""
    path = cfg.workdir / f"raw-life-{sync}-{os.getpid()}.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={sync}")
    conn.execute(
        "CREATE TABLE issue (id INTEGER PRIMARY KEY, title TEXT, unit_id INT, state TEXT, "
        "version INT, due_at TEXT, updated_at TEXT)"
    )
    conn.execute(
        "CREATE TABLE event (id INTEGER PRIMARY KEY, issue_id INT, at TEXT, actor_id INT, "
        "action TEXT, from_state TEXT, to_state TEXT, data TEXT)"
    )
    conn.execute("CREATE INDEX ix_event_issue ON event (issue_id)")
    size0 = _sqlite_bytes(path)
    at = "2026-03-16 02:00:00.000000"
    states = ["transferred", "planning", "correcting", "closeout", "acceptance", "closed"]

    def one() -> None:
        conn.execute("BEGIN IMMEDIATE")
        iid = conn.execute(
            "INSERT INTO issue (title, unit_id, state, version, due_at, updated_at) "
            "VALUES ('公务用车管理不严', 7, 'transferred', 1, ?, ?)",
            (at, at),
        ).lastrowid
        conn.execute(
            "INSERT INTO event (issue_id, at, actor_id, action, to_state, data) "
            "VALUES (?, ?, 1, 'open', 'transferred', '{}')",
            (iid, at),
        )
        conn.execute("COMMIT")
        for k, (action, _role, data) in enumerate(STEPS):
            conn.execute("BEGIN IMMEDIATE")
            (v,) = conn.execute("SELECT version FROM issue WHERE id=?", (iid,)).fetchone()
            conn.execute(
                "UPDATE issue SET state=?, version=?, updated_at=? WHERE id=? AND version=?",
                (states[k + 1], v + 1, at, iid, v),
            )
            conn.execute(
                "INSERT INTO event (issue_id, at, actor_id, action, from_state, to_state, data) "
                "VALUES (?, ?, 2, ?, ?, ?, ?)",
                (iid, at, action, states[k], states[k + 1], json.dumps(data, ensure_ascii=False)),
            )
            conn.execute("COMMIT")

    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < cfg.seconds:
        one()
        n += 1
    rate = n / (time.perf_counter() - t0)
    conn.close()
    per_issue = (_sqlite_bytes(path) - size0) / n
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return rate, per_issue, n


# ------------------------------------------------------------------------------ Prefect


def prefect(cfg: Settings, issues: int = 3, timeout: float = 150) -> dict[str, Any] | str:
    """Run ``bench.prefect_state`` in a subprocess; its JSON result, or why it was skipped."""
    env = dict(os.environ, PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_HOME=str(cfg.workdir / "prefect-home"))  # fmt: skip
    try:
        out = subprocess.run(
            [sys.executable, "-m", "bench.prefect_state", str(issues)],
            capture_output=True, text=True, timeout=timeout, env=env,
            cwd=Path(__file__).resolve().parent.parent,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return f"Prefect did not finish {issues} issues within {timeout:.0f} s"
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        tail = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["no output"]
        return f"Prefect run failed: {tail[0][:200]}"
    return dict(json.loads(lines[-1]))


# ------------------------------------------------------------------------------ figure


def run(cfg: Settings, results: Results) -> None:
    """Rectiflow vs SpiffWorkflow (FULL and NORMAL) vs Prefect-as-state-store (SQLite)."""
    for sync, target in (("FULL", 3.0), ("NORMAL", 5.0)):
        r_rate, r_bytes, r_n = rectiflow(cfg, sync)
        s_rate, s_bytes, s_n = spiff(cfg, sync)
        w_rate, w_bytes, w_n = raw(cfg, sync)
        results.add(Row("lifecycle", "sqlite", f"Rectiflow 5 steps, synchronous={sync}", r_rate,
                        "issues/s", w_rate, "raw sqlite3: issue row + event per step", "report",
                        None, f"raw floor {w_bytes / 1024:.1f} KiB/issue"))  # fmt: skip
        results.add(Row("lifecycle", "sqlite", f"Rectiflow 5 steps, synchronous={sync}", r_rate,
                        "issues/s", s_rate, f"SpiffWorkflow, {s_n} issues", f"≥ {target:g}× Spiff",
                        r_rate >= target * s_rate, f"{r_n} issues"))  # fmt: skip
        results.add(Row("lifecycle", "sqlite", f"Rectiflow storage/issue, {sync}", r_bytes / 1024,
                        "KiB", s_bytes / 1024, "SpiffWorkflow JSON state", "≤ 0.2× Spiff",
                        r_bytes <= 0.2 * s_bytes,
                        "Rectiflow keeps issue row + 6 audit events + clocks + outbox"))  # fmt: skip
        cfg.cache[f"life:{sync}"] = r_rate
    p = prefect(cfg)
    if isinstance(p, str):
        results.note(f"lifecycle vs Prefect skipped: {p}")
        return
    r_rate = cfg.cache["life:FULL"]
    results.add(Row("lifecycle", "sqlite", "Rectiflow 5 steps, FULL (above)", r_rate, "issues/s",
                    p["issues_per_s"], f"Prefect state store, {p['issues']} issues, extrapolated",
                    "≥ 1000× Prefect", r_rate >= 1000 * p["issues_per_s"],
                    f"Prefect {p['bytes_per_issue'] / 1024:.0f} KiB/issue"))  # fmt: skip
