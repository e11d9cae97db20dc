"""Validation of the data an action takes, against the action's declared fields.

Owns turning raw input (form strings or JSON values) into clean Python values, and the
per-field messages a user sees when it is wrong (the web answers them with 422, the API
with its error shape).  Must not import flask.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.limits import FREE_TEXT, INT_MAX, INT_MIN, check_date, check_future, text_limit
from workflow.messages import N_, Message, Text
from workflow.models import Issue, Unit, User
from workflow.timezone import office_time

MAX_TEXT = FREE_TEXT
MAX_MEASURE_TEXT = 2000
MAX_MEASURES = 200

REQUIRED = Text("service_field_required", N_("required"))
UNKNOWN_FIELD = Text("service_field_unknown", N_("unknown field"))
TOO_LONG = Text("service_field_too_long", N_("longer than %(limit)s characters"))
TEXT_EXPECTED = Text("service_field_text_expected", N_("text is expected"))
BAD_DATE = Text("service_field_bad_date", N_("not a valid date (use YYYY-MM-DD)"))
NOT_WHOLE = Text("service_field_not_whole", N_("not a whole number"))
NOT_NUMBER = Text("service_field_not_number", N_("not a number"))
NUMBER_RANGE = Text("service_field_number_range", N_("not a number in range"))
NOT_BOOL = Text("service_field_not_bool", N_("not true or false"))
TOO_SMALL = Text("service_field_too_small", N_("must be at least %(min)s"))
TOO_BIG = Text("service_field_too_big", N_("must be at most %(max)s"))
NOT_CHOICE = Text("service_field_not_choice", N_("must be one of %(choices)s"))
UNCONFIRMED = Text("service_field_unconfirmed", N_("must be confirmed"))
MEASURES_EXPECTED = Text("service_field_measures_expected", N_("a list of measures is expected"))
MEASURE_NO_TEXT = Text("service_field_measure_no_text", N_("measure %(n)s: text is required"))
MEASURE_TOO_LONG = Text(
    "service_field_measure_too_long", N_("measure %(n)s: longer than %(limit)s characters")
)
MEASURE_BAD_DATE = Text(
    "service_field_measure_bad_date", N_("measure %(n)s: due date is not a valid date")
)
MEASURE_DATE_RANGE = Text("service_field_measure_date_range", N_("measure %(n)s: %(reason)s"))
TOO_MANY_MEASURES = Text("service_field_too_many_measures", N_("at most %(max)s measures"))
CODES_EXPECTED = Text("service_field_codes_expected", N_("a list of unit codes is expected"))
NO_UNIT = Text("service_field_no_unit", N_("no unit with code %(code)r"))
NO_UNITS = Text("service_field_no_units", N_("no unit with code %(codes)s"))
NO_USER = Text("service_field_no_user", N_("no active user %(name)r"))
UNSUPPORTED = Text("service_field_unsupported", N_("unsupported field type %(kind)s"))


class ValidationFailed(Exception):
    """Input did not validate; ``errors`` maps each field to its messages."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        """Keep ``errors`` (field → messages) and say them all in one line."""
        self.errors = {k: list(v) for k, v in errors.items()}
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in self.errors.items()))


def said(exc: ValueError) -> str:
    """What a ``ValueError`` of a check says: its Message when it carries one."""
    first = exc.args[0] if exc.args else None
    return first if isinstance(first, Message) else str(exc)


def _blank(value: Any) -> bool:
    """Whether ``value`` counts as not given (None, blank text, an empty list)."""
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
)


def parse_date(value: Any) -> date:
    """A date from a date, an ISO string, or 2026/12/31 and 2026年12月31日 forms."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        for pattern in DATE_PATTERNS:
            m = pattern.match(text)
            if m:
                try:
                    return date(int(m[1]), int(m[2]), int(m[3]))
                except ValueError:
                    break
    raise ValueError(BAD_DATE())


def parse_bounded_date(value: Any) -> date:
    """A date as :func:`parse_date` reads it, refused before DATE_MIN or after DATE_MAX."""
    return check_date(parse_date(value))


def _int(value: Any) -> int:
    """A whole number from an int, a whole float or a string of digits."""
    if isinstance(value, bool):
        raise ValueError(NOT_WHOLE())
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,12}\s*", value):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ValueError(NOT_WHOLE())


def _decimal(value: Any) -> Decimal:
    """An amount to the cent, below 10^14 (thousands separators allowed)."""
    if isinstance(value, bool):
        raise ValueError(NOT_NUMBER())
    try:
        d = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(NOT_NUMBER()) from None
    if not d.is_finite() or abs(d) >= Decimal("1e14"):
        raise ValueError(NUMBER_RANGE())
    return d.quantize(Decimal("0.01"))


def _bool(value: Any) -> bool:
    """A yes/no from a bool or a form's on/off, true/false, 1/0."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"1", "true", "on", "yes", "y"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"0", "false", "off", "no", "n", ""}:
        return False
    raise ValueError(NOT_BOOL())


def _measures(value: Any) -> list[dict[str, Any]]:
    """Measures from a list of {text, due_on} or from text lines ``measure | 2026-12-31``."""
    items: list[Any]
    if isinstance(value, str):
        items = [line for line in value.splitlines() if line.strip()]
    elif isinstance(value, list):
        items = value
    else:
        raise ValueError(MEASURES_EXPECTED())
    out = []
    for n, item in enumerate(items, 1):
        if isinstance(item, str):
            text, _, due = item.partition("|")
            item = {"text": text, "due_on": due.strip() or None}
        if not isinstance(item, Mapping) or _blank(item.get("text")):
            raise ValueError(MEASURE_NO_TEXT(n=n))
        text = str(item["text"]).strip()
        if len(text) > MAX_MEASURE_TEXT:
            raise ValueError(MEASURE_TOO_LONG(n=n, limit=MAX_MEASURE_TEXT))
        due_on = None
        if not _blank(item.get("due_on")):
            try:
                due_on = parse_date(item["due_on"])
            except ValueError:
                raise ValueError(MEASURE_BAD_DATE(n=n)) from None
            try:
                check_date(due_on)
            except ValueError as exc:
                raise ValueError(MEASURE_DATE_RANGE(n=n, reason=said(exc))) from None
        out.append({"text": text, "due_on": due_on})
    if len(out) > MAX_MEASURES:
        raise ValueError(TOO_MANY_MEASURES(max=MAX_MEASURES))
    return out


def _codes(value: Any) -> list[str]:
    """Unit codes from a list or a string separated by commas, spaces or 、."""
    if isinstance(value, str):
        return [c.strip() for c in re.split(r"[,\s，、]+", value) if c.strip()]
    if isinstance(value, list) and all(isinstance(c, str) for c in value):
        return [c.strip() for c in value if c.strip()]
    raise ValueError(CODES_EXPECTED())


def clean_value(session: Session, spec: Any, value: Any) -> Any:
    """Convert one raw value according to its FieldSpec; raises ValueError with the message."""
    kind = spec.type
    if kind == "text":
        if not isinstance(value, str):
            raise ValueError(TEXT_EXPECTED())
        text = value.strip()
        limit = min(spec.max_length or MAX_TEXT, _column_limit(spec.name))
        if len(text) > limit:
            raise ValueError(TOO_LONG(limit=limit))
        return text
    if kind == "date":
        return parse_bounded_date(value)
    if kind in ("int", "percent"):
        n = _int(value)
        low, high = (0, 100) if kind == "percent" else _int_bounds(spec)
        if low is not None and n < low:
            raise ValueError(TOO_SMALL(min=_shown(low)))
        if high is not None and n > high:
            raise ValueError(TOO_BIG(max=_shown(high)))
        return n
    if kind == "decimal":
        d = _decimal(value)
        if spec.min is not None and d < Decimal(str(spec.min)):
            raise ValueError(TOO_SMALL(min=f"{spec.min:g}"))
        return d
    if kind == "choice":
        if value not in spec.choices:
            raise ValueError(NOT_CHOICE(choices=list(spec.choices)))
        return value
    if kind == "bool":
        b = _bool(value)
        if spec.must_be_true and not b:
            raise ValueError(UNCONFIRMED())
        return b
    if kind == "measures":
        return _measures(value)
    if kind == "unit":
        code = value.strip() if isinstance(value, str) else ""
        if not session.scalar(select(Unit.id).where(Unit.code == code)):
            raise ValueError(NO_UNIT(code=code))
        return code
    if kind == "units":
        codes = _codes(value)
        found = set(session.scalars(select(Unit.code).where(Unit.code.in_(codes))))
        missing = [c for c in codes if c not in found]
        if missing:
            raise ValueError(NO_UNITS(codes=missing))
        return list(dict.fromkeys(codes))
    if kind == "user":
        name = value.strip() if isinstance(value, str) else ""
        if not session.scalar(select(User.id).where(User.username == name, User.active)):
            raise ValueError(NO_USER(name=name))
        return name
    raise ValueError(UNSUPPORTED(kind=kind))


def _column_limit(name: str) -> int:
    """The width of the issue's text column ``name`` (a field stored there), else MAX_TEXT."""
    column = Issue.__table__.c.get(name)
    return text_limit(column) if column is not None else MAX_TEXT


def _shown(bound: float) -> str:
    """A bound as a person reads it: whole numbers in full (2147483647, not 2.14748e+09)."""
    return str(int(bound)) if float(bound).is_integer() else f"{bound:g}"


def _int_bounds(spec: Any) -> tuple[float, float]:
    """The range an integer field takes: its own, within the 32-bit column it is stored in."""
    low = INT_MIN if spec.min is None else max(spec.min, INT_MIN)
    high = INT_MAX if spec.max is None else min(spec.max, INT_MAX)
    return low, high


def deadline_fields(definition: Any, action: Any) -> set[str]:
    """The date fields of ``action`` that name a new deadline (an extend_clock or start_clock
    of any action of ``definition`` takes it: request_extension's new_due is approved later)."""
    names = set()
    for each in definition.actions.values():
        branched = [e for b in each.branches for e in (b.effects or ())]
        for effect in (*each.effects, *branched):
            if effect.kind == "extend_clock":
                names.add(effect.args.get("field"))
            elif effect.kind == "start_clock" and effect.args.get("due_field"):
                names.add(effect.args["due_field"])
    return {n for n in names if n in action.fields and action.fields[n].type == "date"}


def clean_action_data(
    session: Session, definition: Any, action: Any, data: Mapping[str, Any], now: datetime
) -> dict:
    """Validate an action's ``data``; a new deadline it names must lie after today."""
    today = now.astimezone(office_time()).date()
    return clean_data(session, action.fields, data, today, deadline_fields(definition, action))


def clean_data(
    session: Session,
    fields: Mapping[str, Any],
    data: Mapping[str, Any],
    today: date | None = None,
    future: Collection[str] = (),
) -> dict:
    """Validate ``data`` against ``fields`` (name → FieldSpec); raise ValidationFailed.

    The dates of ``future`` (new deadlines) must lie after ``today`` when it is given.
    """
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for key in data:
        if key not in fields:
            errors.setdefault(key, []).append(UNKNOWN_FIELD())
    for name, spec in fields.items():
        raw = data.get(name)
        if _blank(raw) and not (spec.type == "bool" and raw is False):
            if spec.required and not (spec.type == "bool" and not spec.must_be_true):
                errors.setdefault(name, []).append(REQUIRED())
            continue
        try:
            clean[name] = clean_value(session, spec, raw)
            if today is not None and name in future:
                check_future(clean[name], today)
        except ValueError as exc:
            errors.setdefault(name, []).append(said(exc))
    if errors:
        raise ValidationFailed(errors)
    return clean
