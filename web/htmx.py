"""htmx helpers: tell a fragment request from a page request and answer each correctly.

A URL that serves both the full page and its fragment varies on ``HX-Request``; a history
restore (``HX-History-Restore-Request``) always gets the full page.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, make_response, render_template, request


def is_htmx() -> bool:
    """Whether this request comes from htmx (and is not a history restore)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render(page: str, fragment: str, status: int = 200, /, **context: Any) -> Response:
    """Render ``fragment`` for htmx requests and ``page`` otherwise; vary on HX-Request."""
    template = fragment if is_htmx() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def fragment(template: str, status: int = 200, /, **context: Any) -> Response:
    """Render a fragment-only template (an endpoint that only htmx calls)."""
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def trigger(response: Response, *events: str, **detailed: Any) -> Response:
    """Add an ``HX-Trigger`` header firing ``events`` (and ``detailed`` events with data)."""
    payload: dict[str, Any] = {e: None for e in events}
    payload.update(detailed)
    response.headers["HX-Trigger"] = json.dumps(payload, ensure_ascii=False)
    return response


def retarget(response: Response, target: str, swap: str = "outerHTML") -> Response:
    """Tell htmx to swap this response into ``target`` instead of the element's target."""
    response.headers["HX-Retarget"] = target
    response.headers["HX-Reswap"] = swap
    return response
