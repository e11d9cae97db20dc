"""The JSON API at ``/api/v1``: flask-smorest blueprints, OpenAPI 3, token authentication.

``init_api(app)`` registers it.  The OpenAPI document is served at ``/api/v1/openapi.json``
and a plain server-rendered list of operations at ``/api/v1/docs`` (no script from a CDN).
The API uses tokens only (``Authorization: Bearer``), never the session cookie, so its
blueprints are exempt from CSRF.  Errors always have one shape (see :mod:`web.api.errors`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint as FlaskBlueprint
from flask import Flask, current_app, render_template_string
from flask_smorest import Api

from web.api import errors
from web.api.schemas import ErrorSchema

API_OPTIONS: dict[str, Any] = {
    "API_TITLE": "Rectiflow API (整改通)",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_SPEC_OPTIONS": {
        "security": [{"bearerAuth": []}],
        "info": {
            "description": "Issues, actions, evidence, units, statistics and Excel of Rectiflow. "
            "Authenticate with `Authorization: Bearer <token>`; a token carries exactly the "
            "roles and unit scope of its user.",
        },
    },
}


class RectiflowApi(Api):
    """flask-smorest's Api, with our error shape and no app-wide error handler.

    flask-smorest would answer every HTTP error of the whole app (web pages included) as
    JSON; ours are installed per API blueprint instead.
    """

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        """Handlers are registered per blueprint in :func:`init_api`."""


def init_api(app: Flask) -> RectiflowApi:
    """Register the API, its OpenAPI document and its docs page on ``app``."""
    from web.api import excel, issues, tokens, units

    for key, value in API_OPTIONS.items():
        app.config.setdefault(key, value)
    api = RectiflowApi(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "an API token"}
    )
    csrf = app.extensions.get("csrf")
    for blp in (issues.blp, units.blp, tokens.blp, excel.blp):
        api.register_blueprint(blp)
        if csrf is not None:
            csrf.exempt(blp)
    app.register_blueprint(docs_bp)
    errors.register_fallback(app)
    app.extensions["rectiflow.api"] = api
    return api


docs_bp = FlaskBlueprint("api_docs", __name__, url_prefix="/api/v1")

DOCS_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{ info.title }}</title>
<style>
body{font:14px/1.5 system-ui,"Noto Sans CJK SC","WenQuanYi Zen Hei",sans-serif;margin:2rem;max-width:70rem}
code{background:#f3f3f3;padding:0 .2em}.m{display:inline-block;width:4.5em;font-weight:bold}
.get{color:#0a7}.post{color:#06c}.delete{color:#c30}.put,.patch{color:#a60}
li{margin:.3em 0}small{color:#666}
</style></head><body>
<h1>{{ info.title }} <small>{{ info.version }}</small></h1>
<p>{{ info.description }}</p>
<p>OpenAPI 3 document: <a href="{{ url_for('api-docs.openapi_json') }}">openapi.json</a></p>
{% for tag, ops in groups %}<h2>{{ tag }}</h2><ul>
{% for op in ops %}<li><span class="m {{ op.method }}">{{ op.method|upper }}</span>
<code>{{ op.path }}</code> — {{ op.summary }}
{% if op.params %}<br><small>parameters: {{ op.params|join(", ") }}</small>{% endif %}
<br><small>answers: {{ op.responses|join(", ") }}</small></li>
{% endfor %}</ul>{% endfor %}
</body></html>"""


@docs_bp.get("/docs")
def docs() -> str:
    """A browsable list of every operation, rendered from the OpenAPI document."""
    spec = current_app.extensions["rectiflow.api"].spec.to_dict()
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, item in sorted(spec.get("paths", {}).items()):
        for method, op in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            tag = (op.get("tags") or ["api"])[0]
            params = [p["name"] for p in item.get("parameters", []) + op.get("parameters", [])]
            groups.setdefault(tag, []).append(
                {
                    "method": method,
                    "path": path,
                    "summary": op.get("summary") or op.get("description") or "",
                    "params": params,
                    "responses": sorted(op.get("responses", {})),
                }
            )
    return render_template_string(
        DOCS_PAGE, info=spec.get("info", {}), groups=sorted(groups.items())
    )
