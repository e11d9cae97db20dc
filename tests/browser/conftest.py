"""Browser fixtures: the app served on a free port in a thread, Chromium via Playwright."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.web.conftest import sqlite_world, world_template  # noqa: F401  (fixtures)
from web import create_app

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture
def live_server(sqlite_world, clock, tmp_path):  # noqa: F811
    """The app on http://127.0.0.1:<port>, served by a thread."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": sqlite_world.db.url,
            "CLOCK": clock,
            "SECRET_KEY": "browser-test",
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "SQLITE_SYNCHRONOUS": "NORMAL",
        }
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def shots() -> Path:
    """Where screenshots go."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
