"""Helpers the page modules share: request arguments, deadlines shown as countdowns, labels."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Flask, abort, g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter

from web.database import get_session, now
from web.locale import label
from workflow.clock.calendar import WorkCalendar, working_days_left
from workflow.definition import Definition
from workflow.limits import INT_MAX, is_id
from workflow.models import Event, Issue
from workflow.queries import STAGES, Filters
from workflow.service import get_definition
from workflow.timezone import OFFICE_TIMEZONE

TZ = OFFICE_TIMEZONE


def page_arg() -> int:
    """The ``page`` query argument (1 when absent or bad)."""
    return min(max(1, request.args.get("page", 1, type=int) or 1), INT_MAX)


def qs(**changes: object) -> str:
    """This request's query string with some arguments replaced (None removes one)."""
    args = request.args.to_dict()
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = str(value)
    return urlencode(args)


def int_arg(name: str) -> int | None:
    """An optional id query argument (``?unit=``, ``?round=``); 404 outside 1..INT_MAX."""
    value = request.args.get(name, type=int) or None
    if value is not None and not is_id(value):
        abort(404)  # no row has such an id; the database would not even take the number
    return value


class BoundedInt(IntegerConverter):
    """``<int:...>`` of a route, refusing numbers no id can be (no match: 404, not a 500)."""

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = INT_MAX, signed: bool = False) -> None:  # fmt: skip
        """An ``int`` converter whose ``max`` is INT_MAX unless the route says otherwise."""
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def filters_from_args() -> Filters:
    """Ledger/board/statistics filters from the query string (unknown values ignored)."""
    a = request.args
    stage = a.get("stage") if a.get("stage") in STAGES else None
    warning = a.get("warning") if a.get("warning") in ("green", "yellow", "red") else None
    deadline = a.get("deadline_type")
    return Filters(
        round_id=int_arg("round"),
        unit_id=int_arg("unit"),
        category=(a.get("category") or None),
        stage=stage,
        deadline_type=deadline if deadline in ("fix_now", "by_deadline", "ongoing") else None,
        warning=warning,
        overdue=a.get("overdue") == "1",
        level=a.get("level") if a.get("level") in ("province", "city", "county") else None,
        q=(a.get("q") or "").strip()[:100] or None,
    )


def calendar() -> WorkCalendar:
    """The working calendar, loaded once per request."""
    if "work_calendar" not in g:
        g.work_calendar = WorkCalendar.from_session(get_session())
    return g.work_calendar


def local(instant: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An instant in Beijing time."""
    return instant.astimezone(ZoneInfo(TZ)).strftime(fmt) if instant else "—"


def due_info(issue: Issue) -> dict[str, str]:
    """How to show an issue's deadline: date, countdown text and a warning class."""
    if issue.due_at is None:
        return {"date": "—", "text": "", "css": "none"}
    days = working_days_left(calendar(), now(), issue.due_at, TZ)
    if days < 0:
        text, css = _("%(n)s working days overdue", n=-days), "red"
    elif days == 0:
        text, css = _("Due today"), "red"
    else:
        text, css = _("%(n)s working days left", n=days), "soon" if days <= 7 else "ok"
    if issue.warning_level in ("yellow", "red") and css != "red":
        css = issue.warning_level
    if issue.state_kind != "open":
        css = "none"
    # the text outside the f-string: pybabel does not read inside f-strings
    provisional = _("provisional")
    date = local(issue.due_at, "%Y-%m-%d") + (f" ({provisional})" if issue.due_provisional else "")
    return {"date": date, "text": text, "css": css}


def state_label(issue: Issue) -> str:
    """The issue's state in the request's language."""
    d = get_definition(issue)
    st = d.states.get(issue.state)
    return label(st.label) if st else issue.state


def get_or_404(issue: Issue | None) -> Issue:
    """The issue, or a 404 answer when it is missing or outside scope."""
    if issue is None:
        abort(404)
    return issue


def filesize(size: int | None) -> str:
    """A file size as people read it: ``48 B``, ``12.3 KB``, ``4.5 MB`` (never ``0.0 KB``)."""
    n = int(size or 0)
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def init_app(app: Flask) -> None:
    """Expose the helpers to templates."""
    app.jinja_env.globals.update(due_info=due_info, state_label=state_label, local=local, qs=qs,
                                 stages=STAGES)  # fmt: skip
    app.jinja_env.filters["filesize"] = filesize


def working_days(due_at: datetime) -> int:
    """Signed working days from today to ``due_at`` (negative once overdue)."""
    return working_days_left(calendar(), now(), due_at, TZ)


EVENT_TEXTS = {
    "open": _l("Issue transferred"),
    "upload_evidence": _l("Evidence uploaded"),
    "deadline_recomputed": _l("Deadline recomputed"),
    "definition_migrated": _l("Definition migrated"),
    "remind": _l("Reminder sent"),
    "carry_over": _l("Carried over to a relay round"),
    "link_check": _l("Linked to an earlier round's finding"),
    "push_down": _l("Pushed down as a common problem"),
    "push_down_rule": _l("Pushed down by a rule"),
}
NOTE_KEYS = ("reason", "note", "summary", "grade", "progress", "new_due", "checker", "filename",
             "completion", "disposition", "unit")  # fmt: skip


def action_label(definition: Definition, name: str, data: dict[str, Any] | None = None) -> str:
    """An event's action in the request's language (``data``: the event's, for escalations)."""
    action = definition.actions.get(name)
    if action is not None:
        return label(action.label)
    if name.startswith("escalate:") and data and data.get("clock"):
        # the sweep's events read as their rung (黄牌预警 …); a rung name such as remind_1
        # recurs in several clocks with different labels, so the event's clock decides
        return rung_label(definition, str(data["clock"]), name.removeprefix("escalate:"))
    text = EVENT_TEXTS.get(name)
    return str(text) if text is not None else name


def state_name(definition: Definition, state: str) -> str:
    """A state's label in the request's language."""
    st = definition.states.get(state)
    return label(st.label) if st else state


def rung_label(definition: Definition, clock: str, rung: str) -> str:
    """An escalation rung (or count rule) label."""
    spec = definition.clocks.get(clock)
    if spec is not None:
        for r in (*spec.ladder, *spec.count_rules):
            if r.name == rung:
                return label(r.label)
    return rung


def event_note(event: Event) -> str:
    """The short human part of an event (reason, note, grade, file name …)."""
    data = event.data or {}
    given = {**(data.get("input") or {}), **{k: v for k, v in data.items() if k in NOTE_KEYS}}
    parts = [str(given[k]) for k in NOTE_KEYS if given.get(k) not in (None, "", [])]
    if data.get("reason") and event.outcome != "ok":
        parts.append(str(data["reason"]))
    return " · ".join(parts)[:500]


def register(app: Flask) -> None:
    """Bound route ids (before any blueprint adds its rules) and expose the label helpers."""
    app.url_map.converters["int"] = BoundedInt
    init_app(app)
    app.jinja_env.globals.update(action_label=action_label, state_name=state_name,
                                 rung_label=rung_label, event_note=event_note,
                                 issue_definition=get_definition, bell_state=bell_state)  # fmt: skip


def bell_state() -> dict[str, object]:
    """Unread count and the latest few messages of the logged-in user (for the bell)."""
    from web.auth import me
    from workflow.queries import bell

    db = get_session()
    unread, latest = bell(db, me())
    return {"unread": unread, "latest": latest}
