"""The declarative base of every table, the aware-UTC datetime type and CHECK_NOW."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every database (SQLite keeps no offset, so we store UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """The value as stored: UTC, naive on SQLite; a naive value is refused."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Rectiflow stores aware UTC instants only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """The stored value as an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# clock_instance.check_at of a deadline started or changed since the last sweep: "look at
# it on the next sweep, whatever that sweep's instant" (a constant in the past, so one
# index range ``check_at <= :now`` finds every deadline the sweep must look at)
CHECK_NOW = datetime(2000, 1, 1, tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base of every Rectiflow table."""

    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON}
