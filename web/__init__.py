"""The Flask application: pages (HTML + htmx), the JSON API and the `rectiflow` CLI.

``create_app`` builds the app from defaults, ``instance/config.py`` and ``RECTIFLOW_*``
environment variables.  It never starts the scheduler (the reloader and gunicorn would
run it several times): ``rectiflow run`` and ``rectiflow scheduler`` do that.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from workflow import config
from workflow.config import CHECKOUT, instance_path

__all__ = ["CHECKOUT", "create_app", "instance_path"]


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Rectiflow web application."""
    app = Flask(__name__, instance_path=instance_path(), instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(
        # a development default; `make run` writes a random one into instance/config.py
        SECRET_KEY="dev-only-change-me",
        # DATABASE_URL, SQLITE_SYNCHRONOUS, UPLOAD_FOLDER, DEFINITIONS_DIR, BASE_URL and
        # AUDIT_HASH (sha256 or sm3, fixed by the first `db upgrade`): workflow.config
        **config.engine_defaults(app.instance_path),
        MAX_CONTENT_LENGTH=20 * 1024 * 1024,
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
    if test_config is None:  # the loader Prefect workers and the scheduler use too
        app.config.update(config.load(defaults={}))
    else:
        app.config.update(test_config)
    os.makedirs(app.config["UPLOAD_FOLDER"], exist_ok=True)

    from web import database

    database.init_app(app)
    from web import views

    views.init_app(app)
    return app
