"""Validation of the data an action takes, against the action's declared fields.

Owns turning raw input (form strings or JSON values) into clean Python values, and the
per-field messages a user sees when it is wrong (the web answers them with 422, the API
with its error shape).  Must not import flask.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.models import Unit, User

MAX_TEXT = 10_000


class ValidationFailed(Exception):
    """Input did not validate; ``errors`` maps each field to its messages."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        self.errors = {k: list(v) for k, v in errors.items()}
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in self.errors.items()))


def _blank(value: Any) -> bool:
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
    raise ValueError("not a valid date (use YYYY-MM-DD)")


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,12}\s*", value):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ValueError("not a whole number")


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("not a number")
    try:
        d = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not d.is_finite() or abs(d) >= Decimal("1e14"):
        raise ValueError("not a number in range")
    return d.quantize(Decimal("0.01"))


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"1", "true", "on", "yes", "y"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"0", "false", "off", "no", "n", ""}:
        return False
    raise ValueError("not true or false")


def _measures(value: Any) -> list[dict[str, Any]]:
    """Measures from a list of {text, due_on} or from text lines ``measure | 2026-12-31``."""
    items: list[Any]
    if isinstance(value, str):
        items = [line for line in value.splitlines() if line.strip()]
    elif isinstance(value, list):
        items = value
    else:
        raise ValueError("a list of measures is expected")
    out = []
    for n, item in enumerate(items, 1):
        if isinstance(item, str):
            text, _, due = item.partition("|")
            item = {"text": text, "due_on": due.strip() or None}
        if not isinstance(item, Mapping) or _blank(item.get("text")):
            raise ValueError(f"measure {n}: text is required")
        text = str(item["text"]).strip()
        if len(text) > 2000:
            raise ValueError(f"measure {n}: longer than 2000 characters")
        due_on = None
        if not _blank(item.get("due_on")):
            try:
                due_on = parse_date(item["due_on"])
            except ValueError:
                raise ValueError(f"measure {n}: due date is not a valid date") from None
        out.append({"text": text, "due_on": due_on})
    if len(out) > 200:
        raise ValueError("at most 200 measures")
    return out


def _codes(value: Any) -> list[str]:
    if isinstance(value, str):
        return [c.strip() for c in re.split(r"[,\s，、]+", value) if c.strip()]
    if isinstance(value, list) and all(isinstance(c, str) for c in value):
        return [c.strip() for c in value if c.strip()]
    raise ValueError("a list of unit codes is expected")


def clean_value(session: Session, spec: Any, value: Any) -> Any:
    """Convert one raw value according to its FieldSpec; raises ValueError with the message."""
    kind = spec.type
    if kind == "text":
        if not isinstance(value, str):
            raise ValueError("text is expected")
        text = value.strip()
        limit = spec.max_length or MAX_TEXT
        if len(text) > limit:
            raise ValueError(f"longer than {limit} characters")
        return text
    if kind == "date":
        return parse_date(value)
    if kind in ("int", "percent"):
        n = _int(value)
        low, high = (0, 100) if kind == "percent" else (spec.min, spec.max)
        if low is not None and n < low:
            raise ValueError(f"must be at least {low:g}")
        if high is not None and n > high:
            raise ValueError(f"must be at most {high:g}")
        return n
    if kind == "decimal":
        d = _decimal(value)
        if spec.min is not None and d < Decimal(str(spec.min)):
            raise ValueError(f"must be at least {spec.min:g}")
        return d
    if kind == "choice":
        if value not in spec.choices:
            raise ValueError(f"must be one of {', '.join(spec.choices)}")
        return value
    if kind == "bool":
        b = _bool(value)
        if spec.must_be_true and not b:
            raise ValueError("must be confirmed")
        return b
    if kind == "measures":
        return _measures(value)
    if kind == "unit":
        code = value.strip() if isinstance(value, str) else ""
        if not session.scalar(select(Unit.id).where(Unit.code == code)):
            raise ValueError(f"no unit with code {code!r}")
        return code
    if kind == "units":
        codes = _codes(value)
        found = set(session.scalars(select(Unit.code).where(Unit.code.in_(codes))))
        missing = [c for c in codes if c not in found]
        if missing:
            raise ValueError(f"no unit with code {', '.join(missing)}")
        return list(dict.fromkeys(codes))
    if kind == "user":
        name = value.strip() if isinstance(value, str) else ""
        if not session.scalar(select(User.id).where(User.username == name, User.active)):
            raise ValueError(f"no active user {name!r}")
        return name
    raise ValueError(f"unsupported field type {kind}")


def clean_data(session: Session, fields: Mapping[str, Any], data: Mapping[str, Any]) -> dict:
    """Validate ``data`` against ``fields`` (name → FieldSpec); raise ValidationFailed."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for key in data:
        if key not in fields:
            errors.setdefault(key, []).append("unknown field")
    for name, spec in fields.items():
        raw = data.get(name)
        if _blank(raw) and not (spec.type == "bool" and raw is False):
            if spec.required and not (spec.type == "bool" and not spec.must_be_true):
                errors.setdefault(name, []).append("required")
            continue
        try:
            clean[name] = clean_value(session, spec, raw)
        except ValueError as exc:
            errors.setdefault(name, []).append(str(exc))
    if errors:
        raise ValidationFailed(errors)
    return clean
