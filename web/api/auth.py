"""Token authentication of the API: ``Authorization: Bearer <token>``, never cookies.

The token is looked up and its last use recorded in short transactions of their own, before
the request's session opens: on SQLite a POST's session holds the write lock, and a second
writer inside the same request would wait on itself.
"""

from __future__ import annotations

from typing import Any

from flask import g, request
from flask_babel import lazy_gettext as _l
from marshmallow import RAISE
from webargs.flaskparser import FlaskParser

from web.api.errors import ApiError, register_on
from web.database import get_database, get_session, now
from workflow.models import User
from workflow.org import tokens


def authenticate() -> None:
    """``before_request`` of every API blueprint: set ``g.api_user`` or answer 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise ApiError(401, _l("send an API token: Authorization: Bearer <token>"))
    db = get_database()
    with db.reading() as session:
        presented = tokens.find_live(session, credential.strip())
    if presented is None:
        raise ApiError(401, _l("the token is unknown, revoked, or its user is inactive"))
    at = now()
    if tokens.needs_touch(presented, at):
        with db.writing() as session:
            tokens.touch(session, presented.token_id, at)
    user = get_session().get(User, presented.user_id)
    if user is None or not user.active:
        raise ApiError(401, _l("the token's user is inactive"))
    g.api_user = user


def current_api_user() -> User:
    """The user the request's token names."""
    return g.api_user


class StrictParser(FlaskParser):
    """webargs' parser, but an unknown query parameter is an error (422 naming it), as an
    unknown JSON field already is: a misspelt filter must not silently return everything."""

    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": RAISE,
        "querystring": RAISE,
    }


def prepare(blp: Any) -> Any:
    """Make ``blp`` an API blueprint: token required, errors in the API's shape, unknown
    query parameters refused (call before its routes are declared)."""
    blp.ARGUMENTS_PARSER = StrictParser()
    blp.before_request(authenticate)
    register_on(blp)
    return blp
