"""Entered network figures: the audited entry of a figure that has no data behind it
(个别谈话, 来信来电来访, 个人有关事项抽查, 提请协助), with where it comes from.
Must not import flask."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.limits import int_range, text_limit
from workflow.linkage.common import (
    office_event,
    require_office,
    require_round,
    resolve_round,
    resolve_unit,
    several,
)
from workflow.linkage.network.metrics import METRICS
from workflow.messages import N_, Message, Text
from workflow.models import NetworkFigure, Round, Unit, User

UNKNOWN_METRIC = Text("linkage_figure_unknown_metric", N_("metric %(metric)r: unknown"))
COMPUTED_METRIC = Text(
    "linkage_figure_computed_metric",
    N_("metric %(metric)r is computed from data and cannot be entered"),
)
BAD_VALUE = Text("linkage_figure_bad_value", N_("value: a whole number ≥ 0"))
VALUE_TOO_BIG = Text("linkage_figure_value_too_big", N_("value: at most %(max)s"))
VALUE_MAX = int_range(NetworkFigure.value)[1]
SOURCE_MAX = text_limit(NetworkFigure.source)
SOURCE_REQUIRED = Text("linkage_figure_source_required", N_("source: required"))
SOURCE_TOO_LONG = Text("linkage_figure_source_too_long", N_("source: at most 255 characters"))


def enter_figure(
    session: Session,
    rnd: Round | int | str | None,
    unit: Unit | int | str,
    metric: str,
    value: int,
    source: str,
    user: User,
    now: datetime,
) -> NetworkFigure:
    """Enter (or correct) a figure that has no data behind it, with where it comes from.

    ``metric`` must be an *entered* metric of :data:`METRICS`; ``value`` an integer ≥ 0;
    ``source`` is required (document, report or meeting it comes from).  ``rnd`` None
    means a figure of the unit not tied to one round (e.g. "since last year").  One figure
    per (round, unit, metric): entering again replaces it, and the event keeps the old one.
    """
    errors = _figure_errors(metric, value, source)
    if errors:
        raise ValueError(several(errors))
    u = resolve_unit(session, unit)
    r = resolve_round(session, rnd) if rnd is not None else None
    member = require_office(user, u)
    if r is not None:
        require_round(session, user, r)  # a figure of another city's round: Refused
    row, old = _store_figure(session, r, u, metric, value, source.strip(), user, now)
    office_event(
        session,
        user,
        member,
        "enter_figure",
        now,
        {
            "metric": metric,
            "round": r.code if r else None,
            "unit": u.code,
            "value": value,
            "source": source.strip(),
            "replaced": old,
        },
    )
    return row


def _figure_errors(metric: str, value: int, source: str) -> list[Message]:
    """What is wrong with an entered figure (an empty list when nothing is)."""
    errors = []
    if metric not in METRICS:
        errors.append(UNKNOWN_METRIC(metric=metric))
    elif METRICS[metric].mode != "entered":
        errors.append(COMPUTED_METRIC(metric=metric))
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        errors.append(BAD_VALUE())
    elif value > VALUE_MAX:
        errors.append(VALUE_TOO_BIG(max=VALUE_MAX))
    if not (source or "").strip():
        errors.append(SOURCE_REQUIRED())
    elif len(source) > SOURCE_MAX:
        errors.append(SOURCE_TOO_LONG())
    return errors


def _store_figure(
    session: Session,
    r: Round | None,
    u: Unit,
    metric: str,
    value: int,
    source: str,
    user: User,
    now: datetime,
) -> tuple[NetworkFigure, dict[str, Any] | None]:
    """Insert the (round, unit, metric) figure or replace it; the row and the old value."""
    row = session.scalar(
        select(NetworkFigure).where(
            NetworkFigure.unit_id == u.id,
            NetworkFigure.metric == metric,
            NetworkFigure.round_id == r.id if r else NetworkFigure.round_id.is_(None),
        )
    )
    old = None if row is None else {"value": row.value, "source": row.source}
    if row is None:
        row = NetworkFigure(
            round_id=r.id if r else None,
            unit_id=u.id,
            metric=metric,
            value=value,
            source=source,
            entered_by=user.id,
            entered_at=now,
        )
        session.add(row)
    else:
        row.value, row.source, row.entered_by, row.entered_at = value, source, user.id, now
    session.flush()
    return row, old
