"""The app's database handle, a session per request, and the injected clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import click
from flask import Flask, current_app, g, request
from sqlalchemy.orm import Session

from workflow.db import Database


def system_now() -> datetime:
    """The real time, in UTC (tests inject their own clock through config ``CLOCK``)."""
    return datetime.now(UTC)


def init_app(app: Flask) -> None:
    """Open the database for ``app`` and close request sessions after each request."""
    app.extensions["rectiflow.db"] = Database(
        app.config["DATABASE_URL"], synchronous=app.config["SQLITE_SYNCHRONOUS"]
    )
    app.teardown_appcontext(_close_session)


def get_database(app: Flask | None = None) -> Database:
    """The app's :class:`Database`."""
    return (app or current_app).extensions["rectiflow.db"]


def get_session() -> Session:
    """This request's session: GETs read only; other methods take the write lock up front."""
    if "db_session" not in g:
        db = get_database()
        factory = (
            db.read_session if request and request.method in ("GET", "HEAD") else db.write_session
        )
        g.db_session = factory()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def now() -> datetime:
    """The current instant from the app's clock."""
    clock: Callable[[], datetime] = current_app.config.get("CLOCK") or system_now
    return clock()


def parse_now(value: str | None) -> datetime:
    """``--now`` as an aware UTC instant (defaults to the app's clock)."""
    if not value:
        return now()
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO-8601 instant", param_hint="--now"
        ) from None
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)
