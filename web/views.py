"""Registers the web areas (blueprints), the error pages and the security headers."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from web import auth, locale
from web.htmx import is_htmx
from web.redirects import safe_path

csrf = CSRFProtect()

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
# anything served as an attachment (evidence, Excel exports, the API's downloads): even if a
# browser were talked into rendering it, it runs no script and loads nothing
DOWNLOAD_CSP = "sandbox; default-src 'none'; frame-ancestors 'none'"
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), browsing-topics=()",
}

# (endpoint, text, roles that see it; None = everyone)
NAV: list[tuple[str, Any, set[str] | None]] = [
    ("home.index", _l("My work"), None),
    (
        "board.index",
        _l("Unit progress"),
        {"office", "supervisor", "leader", "unit_user", "unit_head"},
    ),
    (
        "ledger.index",
        _l("Rectification ledger"),
        {"office", "supervisor", "leader", "unit_user", "unit_head"},
    ),
    ("queues.supervise", _l("Supervision queue"), {"supervisor"}),
    ("queues.spotcheck", _l("Spot checks"), {"spot_check", "office"}),
    ("leads.index", _l("Problem leads"), {"discipline", "office"}),
    ("stats.index", _l("Statistics"), {"office", "supervisor", "leader", "discipline"}),
    (
        "excel.index",
        _l("Excel import/export"),
        {"office", "supervisor", "leader", "unit_user", "unit_head"},
    ),
    ("linkage.rounds", _l("Linkage"), {"office", "supervisor", "leader"}),
    ("admin.index", _l("Administration"), {"office"}),
]

# what an error page says, by status (anything else reads as a bad request)
ERROR_TEXTS = {
    400: _l("Bad request"),
    401: _l("Please log in"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    413: _l("File too large"),
    429: _l("Too many attempts, try again later"),
    500: _l("Something went wrong; please try again later"),
}
CSRF_TEXT = _l("The page expired; reload and try again")


def nav_items() -> list[tuple[str, str, bool]]:
    """The navigation links the logged-in user may follow: (url, text, is current page)."""
    held = auth.roles()
    return [
        (url_for(endpoint), str(text), _is_current(endpoint))
        for endpoint, text, wanted in NAV
        if wanted is None or held & wanted
    ]


def _is_current(endpoint: str) -> bool:
    area = endpoint.split(".")[0]
    if area == "queues":
        return request.endpoint == endpoint
    return request.blueprint == area


def security_headers(response: Response) -> Response:
    """Headers every response carries, errors and fragments included."""
    if response.headers.get("Content-Disposition", "").startswith("attachment"):
        response.headers.setdefault("Content-Security-Policy", DOWNLOAD_CSP)
    response.headers.setdefault("Content-Security-Policy", CSP)
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if request.endpoint != "static":
        # overrides send_file's "no-cache": evidence and exports must not be kept either
        response.headers["Cache-Control"] = "no-store"
    response.headers.pop("Server", None)
    return response


def error_page(code: int, message: Any = None) -> tuple[str, int]:
    """The error page (or fragment, for htmx) with no detail from inside the app."""
    template = "errors/_error.html" if is_htmx() else "errors/error.html"
    text = message if message is not None else ERROR_TEXTS.get(code, ERROR_TEXTS[400])
    return render_template(template, code=code, message=str(text)), code


def handle_http(exc: HTTPException) -> Any:
    """4xx/5xx raised by Flask or the views."""
    code = exc.code or 500
    response = exc.get_response()
    if code == 405 or code >= 500 or code in (400, 401, 403, 404, 413, 429):
        body, code = error_page(code)
        response.set_data(body)
        response.content_type = "text/html; charset=utf-8"
    return response


def init_app(app: Flask) -> None:
    """Register every blueprint and the app-wide handlers."""
    from web.pages import common
    from web.pages.admin import letters as admin_letters
    from web.pages.admin import pages as admin
    from web.pages.admin import robots as admin_robots
    from web.pages.issues import evidence, leads
    from web.pages.issues import page as issues
    from web.pages.overview import board, ledger, stats
    from web.pages.work import home, inbox, queues

    csrf.init_app(app)
    locale.init_app(app)
    auth.init_app(app)
    common.register(app)
    for module in (home, board, ledger, issues, evidence, queues, leads, stats, admin, admin_robots,
                   admin_letters, inbox):  # fmt: skip
        app.register_blueprint(module.bp)
    app.after_request(security_headers)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(CSRFError, lambda e: error_page(400, CSRF_TEXT))
    app.register_error_handler(Exception, _unexpected)
    app.jinja_env.globals.update(nav_items=nav_items, roles=auth.roles)
    # the Excel pages and the JSON API (after csrf.init_app: the API exempts itself from it)
    from web.api import init_api
    from web.pages import excel as excel_pages

    excel_pages.register(app)
    from web.pages import linkage as linkage_pages

    linkage_pages.register(app)
    init_api(app)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """Liveness probe."""
        return {"status": "ok"}

    @app.post("/lang")
    def set_lang() -> Response:
        """Switch the interface language (kept in the session and a cookie)."""
        lang = request.form.get("lang", "zh")
        lang = lang if lang in locale.LANGS else "zh"
        session["lang"] = lang
        response = app.redirect(safe_path(request.form.get("next"), "/"), 303)
        response.set_cookie("lang", lang, max_age=365 * 86400, samesite="Lax", httponly=True)
        return response


def _unexpected(exc: Exception) -> Any:
    """Anything unforeseen: log it, show a generic page (no traceback), roll back."""
    if isinstance(exc, HTTPException):
        return handle_http(exc)
    from flask import current_app

    current_app.logger.exception("unhandled error")
    if current_app.testing and not current_app.config.get("SHOW_ERROR_PAGE"):
        raise exc
    return error_page(500)
