"""The bounds of every input, derived once from the schema: text widths, integer ranges, dates."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import InstrumentedAttribute

from workflow.messages import N_, Text

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1  # an Integer column is 32-bit on PostgreSQL
BIGINT_MIN = -(2**63)
BIGINT_MAX = 2**63 - 1
ID_MAX = INT_MAX  # every primary key is an Integer column
DATE_MIN = date(2000, 1, 1)  # no finding of this system predates it; 1900 is a typing slip
DATE_MAX = date(2099, 12, 31)
FREE_TEXT = 10_000  # an unbounded Text column still takes at most this much from a person

DATE_TOO_EARLY = Text("limits_date_too_early", N_("a date before %(min)s is not accepted"))
DATE_TOO_LATE = Text("limits_date_too_late", N_("a date after %(max)s is not accepted"))
DATE_NOT_FUTURE = Text(
    "limits_date_not_future",
    N_("must be after today (%(today)s): a deadline cannot lie in the past"),
)


def text_limit(column: InstrumentedAttribute[Any] | Any) -> int:
    """The most characters ``column`` (e.g. ``Unit.name``) stores; FREE_TEXT for unbounded text."""
    length = getattr(_type(column), "length", None)
    return int(length) if length else FREE_TEXT


def int_range(column: InstrumentedAttribute[Any] | Any) -> tuple[int, int]:
    """The values ``column`` stores: the 64-bit range for BigInteger, else the 32-bit one."""
    kind = _type(column)
    if isinstance(kind, BigInteger):
        return BIGINT_MIN, BIGINT_MAX
    if isinstance(kind, Integer):
        return INT_MIN, INT_MAX
    raise TypeError(f"{column} is not an integer column")


def max_length(table: str, column: str) -> int:
    """The most characters ``table.column`` stores (by the table's name in the metadata)."""
    from workflow.models import Base

    return text_limit(Base.metadata.tables[table].c[column])


def is_id(value: int) -> bool:
    """Whether ``value`` can be a row's id at all (1..ID_MAX)."""
    return 1 <= value <= ID_MAX


def date_problem(value: date) -> Text | None:
    """The Text refusing ``value`` as out of range (before DATE_MIN, after DATE_MAX), or None."""
    if value < DATE_MIN:
        return DATE_TOO_EARLY
    if value > DATE_MAX:
        return DATE_TOO_LATE
    return None


def check_date(value: date) -> date:
    """``value`` when within DATE_MIN..DATE_MAX; else ValueError with the reason."""
    problem = date_problem(value)
    if problem is not None:
        raise ValueError(problem(min=DATE_MIN.isoformat(), max=DATE_MAX.isoformat()))
    return value


def check_future(value: date, today: date) -> date:
    """``value`` when after ``today`` (a new deadline); else ValueError with the reason."""
    if value <= today:
        raise ValueError(DATE_NOT_FUTURE(today=today.isoformat()))
    return value


def _type(column: Any) -> Any:
    """The SQL type of a mapped attribute or a Column."""
    expr = getattr(column, "expression", column)
    return expr.type


__all__ = [
    "BIGINT_MAX",
    "DATE_MAX",
    "DATE_MIN",
    "FREE_TEXT",
    "ID_MAX",
    "INT_MAX",
    "INT_MIN",
    "check_date",
    "check_future",
    "date_problem",
    "int_range",
    "is_id",
    "max_length",
    "text_limit",
]
