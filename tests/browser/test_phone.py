"""At phone width (390 px) no page scrolls sideways, for a user of every role of the demo
province: wide tables scroll inside their own box or stack, the header fits."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from tests.web.test_translations import demo, objects, urls, users_per_role  # noqa: F401
from workflow.demo.province import DEMO_PASSWORD

pytestmark = pytest.mark.browser
WIDE = "document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture(scope="module")
def served(demo):  # noqa: F811
    """The demo app on a free port."""
    app, _db, _result = demo
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def test_no_page_scrolls_sideways_at_390_px(browser, demo, served, shots):  # noqa: F811
    app, db, _result = demo
    pages = [u for u in urls(app, objects(db)) if "?unit=" not in u]
    wide: list[str] = []
    for role, username in users_per_role(demo).items():
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        page = context.new_page()
        page.goto(f"{served}/login")
        page.fill("#username", username)
        page.fill("#password", DEMO_PASSWORD)
        page.click(".login button[type=submit]")
        page.wait_for_load_state()
        for url in pages:
            response = page.goto(served + url)
            if response is None or response.status >= 400:
                continue
            if url in ("/", "/ledger", "/stats") or url.startswith("/issues/1"):
                name = url.strip("/").replace("/", "-") or "home"
                page.screenshot(path=str(shots / f"phone-{role}-{name}.png"), full_page=True)
            extra = page.evaluate(WIDE)
            if extra > 0:
                wide.append(f"{role} {url}: {extra}px too wide")
        context.close()
    assert not wide, "\n".join(wide)
