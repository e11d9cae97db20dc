"""Firing a rung for a batch: escalation rows, warning level, letters, events, outbox rows.

A batch feeds ``INSERT … ON CONFLICT DO NOTHING RETURNING``; only the rows this
transaction really inserted get their audit event, letter and outbox rows, so two sweeps
that overlap can never both notify.

Batches
    A batch sends a constant number of statements whatever its size (about 16 with
    letters): the issues in one read, recipients for all of them from one membership read
    (:class:`outbox.Audience`: one membership read per batch), letters numbered from one
    count and inserted together (``letters.issue_letters``), events linked by
    ``audit.Chain`` and inserted together, outbox rows as one executemany.

Decisions
    - Catch-up: after downtime every rung whose instant has passed fires once, in ladder
      order, reminders included (a late reminder still tells the unit where it stands);
      its event carries ``late: true`` when it fires more than a day after its instant.
    - Warning levels only go up here (green < yellow < red).  The raise is a Core
      ``UPDATE issue SET warning_level = :lvl, version = version + 1 WHERE id IN (…) AND
      warning_level IN (<lower>)``: the explicit ``version + 1`` means a form opened
      before the card was shown gets a 409 instead of silently overwriting it, exactly as
      if a person had changed the issue.  Reminders do not touch the issue row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from workflow import audit, outbox
from workflow.clock import letters
from workflow.clock.escalation.bounds import _Bounds
from workflow.clock.escalation.plan import _Spec, _Work
from workflow.clock.escalation.report import RungOutcome
from workflow.db import among, insert_returning
from workflow.models import Escalation, Issue

LEVEL_RANK = {"green": 0, "reminder": 0, "yellow": 1, "red": 2}
CARD_LEVELS = ("yellow", "red")
LATE_AFTER = timedelta(days=1)
ESCALATION_TABLE = cast(Table, Escalation.__table__)


def _insert_escalations(session: Session, rows: list[dict[str, Any]]) -> list[Any]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: only rows this transaction created."""
    e = Escalation
    inserted = insert_returning(
        session,
        ESCALATION_TABLE,
        rows,
        (e.id, e.issue_id, e.clock_instance_id, e.due_at),
        skip_conflicts_on=("issue_id", "clock_instance_id", "rung"),
    )
    return sorted(inserted, key=lambda esc: esc.id)


def _escalation_rows(
    w: _Work, rows: list[dict[str, Any]], now: datetime, bounds: _Bounds
) -> list[dict[str, Any]]:
    """The ``escalation`` rows of ``w`` for ``rows`` (each due row gets its ``rung_at``)."""
    for row in rows:
        row["rung_at"] = (
            bounds.instant(row["clock_due"], w.spec.rung.at, w.spec.rung.unit, w.d.timezone)[0]
            if w.spec.rung is not None
            else row["clock_due"]
        )
    return [
        {
            "issue_id": r["issue_id"],
            "clock_instance_id": r["clock_instance_id"],
            "clock": w.clock.name,
            "rung": w.spec.name,
            "level": w.spec.level,
            "due_at": r["rung_at"],
            "fired_at": now,
        }
        for r in rows
    ]


def _fire(
    session: Session,
    w: _Work,
    rows: list[dict[str, Any]],
    now: datetime,
    bounds: _Bounds,
    outcome: RungOutcome,
) -> None:
    """Record ``w`` for ``rows`` with its events, letters, outbox rows and warning level.

    A constant number of statements per batch, whatever its size: each kind of row goes
    in with one statement.
    """
    inserted = _insert_escalations(session, _escalation_rows(w, rows, now, bounds))
    if not inserted:
        return
    by_issue = {r["issue_id"]: r for r in rows}
    issues = {
        i.id: i
        for i in session.scalars(
            select(Issue).where(among(session, Issue.id, [e.issue_id for e in inserted]))
        )
    }
    raised = _raise_level(session, w.spec, issues.values())
    # the chain's lock (PostgreSQL) comes first: it also serialises the letters' numbering
    # with every other sweep, so the count the numbers start from is never stale
    chain = audit.Chain(session)
    letter_of = _write_letters(session, w, inserted, issues, by_issue, now, bounds)
    fired = _Fired(w, inserted, issues, by_issue, raised, letter_of, now)
    event_of = _write_events(session, chain, fired)
    outcome.notifications += _write_outbox(session, w.spec, inserted, issues, event_of, now)
    outcome.raised += len(raised)
    outcome.letters += len(letter_of)
    outcome.fired += len(inserted)


def _raise_level(session: Session, spec: _Spec, issues: Iterable[Issue]) -> set[int]:
    """Raise (never lower) the warning level and bump the version so open forms get a 409."""
    if spec.level not in CARD_LEVELS:
        return set()
    rank = LEVEL_RANK[spec.level]
    raised = {i.id for i in issues if LEVEL_RANK.get(i.warning_level, 0) < rank}
    if raised:
        lower = [lvl for lvl, r in LEVEL_RANK.items() if r < rank]
        session.execute(
            update(Issue)
            .where(among(session, Issue.id, sorted(raised)), Issue.warning_level.in_(lower))
            .values(warning_level=spec.level, version=Issue.version + 1)
            .execution_options(synchronize_session=False)
        )
    return raised


def _write_letters(
    session: Session,
    w: _Work,
    inserted: list[Any],
    issues: dict[int, Issue],
    by_issue: dict[int, dict[str, Any]],
    now: datetime,
    bounds: _Bounds,
) -> dict[int, letters.Issued]:
    """One numbered letter per escalation (if the rung issues one), linked to it."""
    kind = w.spec.letter
    if not kind:
        return {}
    new_final = _admonition_final_date(bounds, now, w.d.timezone) if kind == "admonition" else None
    issued = letters.issue_letters(
        session,
        [
            letters.LetterRequest(issues[e.issue_id], by_issue[e.issue_id]["clock_due"])
            for e in inserted
        ],
        kind,
        now,
        tz=w.d.timezone,
        rung_label=w.spec.label,
        new_final_date=new_final,
    )
    esc = ESCALATION_TABLE
    session.execute(
        update(esc).where(esc.c.id == bindparam("eid")).values(letter_id=bindparam("lid")),
        [{"eid": e.id, "lid": letter.id} for e, letter in zip(inserted, issued, strict=True)],
    )
    return {e.id: letter for e, letter in zip(inserted, issued, strict=True)}


@dataclass
class _Fired:
    """What one batch recorded, as the event texts need it."""

    w: _Work
    inserted: list[Any]
    issues: dict[int, Issue]
    by_issue: dict[int, dict[str, Any]]
    raised: set[int]
    letter_of: dict[int, letters.Issued]
    now: datetime

    def event_fields(self, esc: Any) -> dict[str, Any]:
        """The audit event of escalation ``esc`` (fields as on :class:`Event`)."""
        w, issue, row = self.w, self.issues[esc.issue_id], self.by_issue[esc.issue_id]
        raised = esc.issue_id in self.raised
        data: dict[str, Any] = {
            "kind": w.spec.kind,
            "clock": w.clock.name,
            "rung": w.spec.name,
            "level": w.spec.level,
            "escalation_id": esc.id,
            "clock_instance_id": esc.clock_instance_id,
            "due_at": row["clock_due"].isoformat(),
            "rung_at": row["rung_at"].isoformat(),
            "v": issue.version + (1 if raised else 0),
        }
        if self.now - row["rung_at"] > LATE_AFTER:
            data["late"] = True
        if raised:
            data["changes"] = {"warning_level": [issue.warning_level, w.spec.level]}
        letter = self.letter_of.get(esc.id)
        if letter is not None:
            data["letter"] = letter.number
            if letter.new_final_date:
                data["new_final_date"] = letter.new_final_date.isoformat()
        return {
            "issue_id": issue.id,
            "at": self.now,
            "actor_id": None,
            "actor_role": "system",
            "actor_unit_id": None,
            "action": f"escalate:{w.spec.name}",
            "from_state": issue.state,
            "to_state": issue.state,
            "definition_version": w.d.version,
            "data": data,
        }


def _write_events(session: Session, chain: audit.Chain, fired: _Fired) -> dict[int, int]:
    """One hash-chained event per escalation, in one INSERT; escalation id → event id."""
    ids = chain.insert([fired.event_fields(esc) for esc in fired.inserted])
    return {esc.id: event_id for esc, event_id in zip(fired.inserted, ids, strict=True)}


def _write_outbox(
    session: Session,
    spec: _Spec,
    inserted: list[Any],
    issues: dict[int, Issue],
    event_of: dict[int, int],
    now: datetime,
) -> int:
    """The rungs' notifications for the whole batch, in one INSERT."""
    audience = outbox.Audience(session, spec.notify, [issues[e.issue_id] for e in inserted])
    rows = []
    for esc in inserted:
        issue = issues[esc.issue_id]
        payload = {
            "issue_id": issue.id,
            "number": issue.number,
            "escalation_id": esc.id,
            "rung": spec.name,
            "level": spec.level,
        }
        rows += outbox.outbox_rows(
            issue,
            audience.of(issue),
            "escalation",
            spec.label,
            now,
            event_of[esc.id],
            key=f"esc{esc.id}",
            payload=payload,
        )
    outbox.insert_rows(session, rows)
    return len(rows)


def _admonition_final_date(bounds: _Bounds, now: datetime, tz: str) -> date:
    """The 告诫书's new final date: ADMONITION_WORKING_DAYS working days after issuing."""
    day, _provisional = bounds.cal.add(
        now.astimezone(ZoneInfo(tz)).date(), letters.ADMONITION_WORKING_DAYS, "working_days"
    )
    return day
