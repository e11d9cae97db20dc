"""The fields a new issue is registered with, and their checks (per-field messages)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.definition.model import DEADLINE_TYPES
from workflow.limits import text_limit
from workflow.messages import N_, Text
from workflow.models import Issue, Round, Unit
from workflow.service.fields import (
    NO_UNIT,
    NOT_CHOICE,
    REQUIRED,
    TEXT_EXPECTED,
    TOO_LONG,
    UNKNOWN_FIELD,
    ValidationFailed,
    parse_bounded_date,
    said,
)

NO_SUCH_UNIT = Text("service_open_no_such_unit", N_("no such unit"))
NO_ROUND = Text("service_open_no_round", N_("no round with code %(code)r"))

OPEN_FIELDS = {
    "title",
    "description",
    "category",
    "unit",
    "inspected_unit",
    "supporting_units",
    "round",
    "deadline_type",
    "due_on",
    "supervising_leader",
    "person_in_charge",
    "source",
    "cadre_level",
    "number",
    "import_key",
}
TITLE_LIMIT = text_limit(Issue.title)
# the widths of the issue's text columns (workflow.models.Issue), read from the schema
TEXT_LIMITS = {
    name: text_limit(getattr(Issue, name))
    for name in ("description", "category", "supervising_leader", "person_in_charge", "source",
                 "cadre_level", "number", "import_key")
}  # fmt: skip

Errors = dict[str, list[str]]


def validate_open(
    session: Session,
    fields: Mapping[str, Any],
    units: Mapping[str, Unit] | None = None,
    rounds: dict[str, Round | None] | None = None,
) -> dict[str, Any]:
    """Check the fields of a new issue; raise ValidationFailed naming each bad field.

    ``units`` maps codes to units already read (a batch reads them in one query);
    ``rounds`` remembers the rounds looked up (a batch names a few, on every row).
    """
    errors: Errors = {}
    for key in fields:
        if key not in OPEN_FIELDS:
            errors.setdefault(key, []).append(UNKNOWN_FIELD())
    clean: dict[str, Any] = {}
    _check_title(fields, clean, errors)
    _check_units(session, fields, units, clean, errors)
    _check_deadline(fields, clean, errors)
    if fields.get("round"):
        _check_round(session, fields, rounds if rounds is not None else {}, clean, errors)
    _check_texts(fields, clean, errors)
    if errors:
        raise ValidationFailed(errors)
    return clean


def _check_title(fields: Mapping[str, Any], clean: dict[str, Any], errors: Errors) -> None:
    """The title: required, at most TITLE_LIMIT characters."""
    title = str(fields.get("title") or "").strip()
    if not title:
        errors.setdefault("title", []).append(REQUIRED())
    elif len(title) > TITLE_LIMIT:
        errors.setdefault("title", []).append(TOO_LONG(limit=TITLE_LIMIT))
    clean["title"] = title


def _check_units(
    session: Session,
    fields: Mapping[str, Any],
    units: Mapping[str, Unit] | None,
    clean: dict[str, Any],
    errors: Errors,
) -> None:
    """The lead unit (required), the inspected unit and the supporting units, by code."""
    unit = unit_by_code(session, fields.get("unit"), units)
    if unit is None:
        errors.setdefault("unit", []).append(
            REQUIRED() if not fields.get("unit") else NO_UNIT(code=fields.get("unit"))
        )
    clean["unit"] = unit
    if fields.get("inspected_unit"):
        clean["inspected_unit"] = unit_by_code(session, fields["inspected_unit"], units)
        if clean["inspected_unit"] is None:
            errors.setdefault("inspected_unit", []).append(NO_SUCH_UNIT())
    sup = []
    for code in fields.get("supporting_units") or []:
        u = unit_by_code(session, code, units)
        if u is None:
            errors.setdefault("supporting_units", []).append(NO_UNIT(code=code))
        elif unit is not None and u.id != unit.id:
            sup.append(u)
    clean["supporting_units"] = sup


def _check_deadline(fields: Mapping[str, Any], clean: dict[str, Any], errors: Errors) -> None:
    """The deadline type (by_deadline unless given) and the due date."""
    dt = fields.get("deadline_type") or "by_deadline"
    if dt not in DEADLINE_TYPES:
        errors.setdefault("deadline_type", []).append(NOT_CHOICE(choices=list(DEADLINE_TYPES)))
    clean["deadline_type"] = dt
    if fields.get("due_on"):
        try:
            clean["due_on"] = parse_bounded_date(fields["due_on"])
        except ValueError as exc:
            errors.setdefault("due_on", []).append(said(exc))


def _check_round(
    session: Session,
    fields: Mapping[str, Any],
    seen: dict[str, Round | None],
    clean: dict[str, Any],
    errors: Errors,
) -> None:
    """The round, by code (``seen`` remembers the rounds looked up)."""
    code = str(fields["round"])
    if code not in seen:
        seen[code] = session.scalar(select(Round).where(Round.code == code))
    r = seen[code]
    if r is None:
        errors.setdefault("round", []).append(NO_ROUND(code=fields["round"]))
    clean["round"] = r


def _check_texts(fields: Mapping[str, Any], clean: dict[str, Any], errors: Errors) -> None:
    """The free-text fields: text, within their column's width, blank as None."""
    for key, limit in TEXT_LIMITS.items():
        value = fields.get(key)
        if value is not None and not isinstance(value, str):
            errors.setdefault(key, []).append(TEXT_EXPECTED())
        elif value and len(value.strip()) > limit:
            errors.setdefault(key, []).append(TOO_LONG(limit=limit))
        else:
            clean[key] = (value or "").strip() or None


def unit_by_code(
    session: Session, code: Any, units: Mapping[str, Unit] | None = None
) -> Unit | None:
    """The unit with ``code`` (from ``units`` when it was read already), or None."""
    if not code:
        return None
    code = str(code).strip()
    if units is not None and code in units:
        return units[code]
    return session.scalar(select(Unit).where(Unit.code == code))


def units_named(session: Session, rows: Sequence[Mapping[str, Any]]) -> dict[str, Unit]:
    """The units the rows name (lead, inspected, supporting), by code, in one query."""
    codes: set[str] = set()
    for fields in rows:
        for key in ("unit", "inspected_unit"):
            if fields.get(key):
                codes.add(str(fields[key]).strip())
        codes.update(str(c).strip() for c in fields.get("supporting_units") or [] if c)
    if not codes:
        return {}
    return {u.code: u for u in session.scalars(select(Unit).where(Unit.code.in_(codes)))}
