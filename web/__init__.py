"""The Flask application: pages (HTML + htmx), the JSON API and the `rectiflow` CLI.

``create_app`` builds the app from defaults, ``instance/config.py`` and ``RECTIFLOW_*``
environment variables.  It never starts the scheduler (the reloader and gunicorn would
run it several times): ``rectiflow run`` and ``rectiflow scheduler`` do that.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

CHECKOUT = Path(__file__).resolve().parent.parent


def instance_path() -> str:
    """The instance folder: ``$RECTIFLOW_INSTANCE`` or ``instance/`` in the checkout."""
    return os.path.abspath(os.environ.get("RECTIFLOW_INSTANCE") or CHECKOUT / "instance")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Rectiflow web application."""
    app = Flask(__name__, instance_path=instance_path(), instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(
        # a development default; `make run` writes a random one into instance/config.py
        SECRET_KEY="dev-only-change-me",
        DATABASE_URL=f"sqlite:///{os.path.join(app.instance_path, 'rectiflow.sqlite')}",
        SQLITE_SYNCHRONOUS="FULL",
        # the audit chain's hash, fixed by the first `rectiflow db upgrade`: sha256 or sm3
        AUDIT_HASH="sha256",
        UPLOAD_FOLDER=os.path.join(app.instance_path, "uploads"),
        MAX_CONTENT_LENGTH=20 * 1024 * 1024,
        DEFINITIONS_DIR=str(CHECKOUT / "definitions"),
        BASE_URL="http://127.0.0.1:5000",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Secure is also set per request on https; set RECTIFLOW_SESSION_COOKIE_SECURE=true
        # behind a TLS-terminating proxy that forwards plain http
        SESSION_COOKIE_SECURE=False,
        SESSION_IDLE_MINUTES=30,  # a session ends after this long without a request
        SESSION_ABSOLUTE_HOURS=12,  # and this long after the login, whatever happens
        WTF_CSRF_TIME_LIMIT=None,
        SCHEDULER_SWEEP_MINUTES=10,
        SCHEDULER_DISPATCH_SECONDS=30,
        SMTP_HOST=None,
        SMTP_PORT=25,
        SMTP_TLS=False,
        SMTP_USER=None,
        SMTP_PASSWORD=None,
        SMTP_FROM="rectiflow@localhost",
        WEBHOOK_URL=None,
        WEBHOOK_SECRET=None,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("RECTIFLOW")
    else:
        app.config.update(test_config)
    os.makedirs(app.config["UPLOAD_FOLDER"], exist_ok=True)

    from web import database

    database.init_app(app)
    from web import views

    views.init_app(app)
    return app
