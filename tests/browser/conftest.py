"""Browser fixtures: the app served on a free port in a thread, Chromium via Playwright."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.web.conftest import sqlite_world, world_template  # noqa: F401  (fixtures)
from web import create_app

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--headless", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
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


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session (the Debian package, never a download)."""
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.skip("chromium is not installed (make system-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def shots() -> Path:
    """Where screenshots go."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
