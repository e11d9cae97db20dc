"""Every API error as one JSON shape, whatever raised it.

``{"error": {"status": int, "code": str, "message": str, "message_code": str?,
"fields": {...}?, "changes": [...]?}}``

``message`` and the field messages are in the language ``Accept-Language`` asks for (Chinese
when it names neither); ``message_code`` is the engine's stable code for what it said
(``evidence_missing`` …), for clients that show their own texts.

Handlers sit on each API blueprint (so the web pages keep their HTML error pages), plus an
app-level fallback for paths under ``/api/v1`` that match no route (404/405 happen before
any blueprint is known).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, InternalServerError

from web.api.field_texts import field_text
from web.locale import say
from workflow.messages import Message

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    500: "server_error",
}


#: what a status says when the view gave no message of its own
GENERIC = {
    400: _l("the request could not be read"),
    401: _l("an API token is required"),
    403: _l("not allowed"),
    404: _l("no such resource"),
    405: _l("this method is not allowed here"),
    406: _l("only JSON can be answered"),
    409: _l("the resource changed meanwhile"),
    415: _l("send JSON (Content-Type: application/json)"),
    429: _l("too many requests; try again later"),
}


class ApiError(Exception):
    """An error a view raises to answer with the shape above."""

    def __init__(
        self,
        status: int,
        message: Any,
        code: str | None = None,
        fields: Mapping[str, Any] | None = None,
        changes: list[Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.code = code or CODES.get(status, "error")
        self.fields, self.changes, self.headers = fields, changes, headers


def message_code(message: Any) -> str | None:
    """The engine's code of ``message`` (a Message, or an exception raised with one)."""
    if isinstance(message, BaseException) and message.args:
        message = message.args[0]
    return message.code if isinstance(message, Message) else None


def error_response(
    status: int,
    message: Any,
    code: str | None = None,
    fields: Mapping[str, Any] | None = None,
    changes: list[Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A JSON error response in the one shape."""
    body: dict[str, Any] = {
        "status": status,
        "code": code or CODES.get(status, "error"),
        "message": say(message),
    }
    said = message_code(message)
    if said:
        body["message_code"] = said
    if fields:
        body["fields"] = {name: _spoken(msgs) for name, msgs in fields.items()}
    if changes is not None:
        body["changes"] = changes
    response = jsonify({"error": body})
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="rectiflow"'
    return response


def _spoken(messages: Any) -> Any:
    """A field's messages in the request's language (lists and nested dicts kept)."""
    if isinstance(messages, list | tuple):
        return [_spoken(m) for m in messages]
    if isinstance(messages, Mapping):
        return {k: _spoken(v) for k, v in messages.items()}
    return field_text(messages)


def _flatten(messages: Any) -> dict[str, list[str]]:
    """webargs messages ``{"json": {"f": [...]}, "query": {...}}`` → ``{"f": [...]}``."""
    out: dict[str, list[str]] = {}
    if not isinstance(messages, Mapping):
        return {"_": [str(messages)]}
    for location, per_field in messages.items():
        if not isinstance(per_field, Mapping):
            out.setdefault(str(location), []).extend(_strings(per_field))
            continue
        for name, msgs in per_field.items():
            out.setdefault(str(name), []).extend(_strings(msgs))
    return out


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [f"{k}: {m}" for k, v in value.items() for m in _strings(v)]
    if isinstance(value, list | tuple):
        return [m for v in value for m in _strings(v)]
    return [str(value)]


def handle_api_error(exc: ApiError) -> Response:
    """An :class:`ApiError` raised by a view."""
    return error_response(exc.status, exc.message, exc.code, exc.fields, exc.changes, exc.headers)


def handle_http_exception(exc: HTTPException) -> Response:
    """Werkzeug and webargs errors (400 bad JSON, 405, 413, 422 validation …)."""
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    fields = _flatten(data["messages"]) if "messages" in data else None
    if status == 422 and fields:
        message = _l("the request did not validate")
    elif status == 413:
        message = _l("the upload is larger than the limit")
    else:  # werkzeug's own descriptions are English prose: say the status instead
        message = data.get("message") or GENERIC.get(status) or exc.name
    headers = dict(data.get("headers") or {})
    allowed = getattr(exc, "valid_methods", None)
    if status == 405 and allowed:
        headers["Allow"] = ", ".join(allowed)
    return error_response(status, str(message), fields=fields, headers=headers)


def handle_unexpected(exc: Exception) -> Response:
    """Anything else: logged with its traceback, answered 500 in the same shape."""
    if isinstance(exc, HTTPException):
        return handle_http_exception(exc)
    log.exception("unhandled error in the API", exc_info=exc)
    return error_response(500, _l("internal error; it has been logged"))


def register_on(bp: Any) -> None:
    """Install the handlers on one API blueprint."""
    bp.register_error_handler(ApiError, handle_api_error)
    bp.register_error_handler(HTTPException, handle_http_exception)
    bp.register_error_handler(Exception, handle_unexpected)


def register_fallback(app: Flask) -> None:
    """JSON 404/405/500 for unrouted paths under /api/v1; other paths keep the app's handlers."""
    for code in (404, 405, 500):
        previous = app.error_handler_spec.get(None, {}).get(code, {})
        app.register_error_handler(code, _fallback(next(iter(previous.values()), None)))


def _fallback(earlier: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    def handler(exc: HTTPException) -> Any:
        if request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/"):
            if isinstance(exc, InternalServerError):
                return error_response(500, _l("internal error; it has been logged"))
            return handle_http_exception(exc)
        if earlier is not None:
            return earlier(exc)
        # the app's class-based handlers (e.g. one for every HTTPException), looked up now
        by_class = current_app.error_handler_spec.get(None, {}).get(None, {})
        for cls in type(exc).__mro__:
            if cls in by_class:
                return by_class[cls](exc)
        return exc

    return handler
