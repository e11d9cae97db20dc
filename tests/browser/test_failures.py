"""What the server refuses is said in the form, in Chinese, with the input kept: a file over
the limit is refused before sending, a 413 from the server and a lost connection are shown."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_life import PASSWORD
from tests.web.conftest import open_issue

pytestmark = pytest.mark.browser
MB = 1024 * 1024


def clerk_on_issue(browser, live_server, sqlite_world):
    """The clerk of 灵隐街道 on a fresh issue of theirs, the evidence form in view."""
    issue = open_issue(sqlite_world)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server}/login")
    page.fill("#username", "clerk")
    page.fill("#password", PASSWORD)
    page.click(".login button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))
    page.goto(f"{live_server}/issues/{issue}")
    return context, page, errors


def test_a_file_over_the_limit_is_refused_in_the_browser(browser, live_server, sqlite_world):
    context, page, errors = clerk_on_issue(browser, live_server, sqlite_world)
    sent: list[str] = []
    page.on("request", lambda r: "/evidence" in r.url and r.method == "POST" and sent.append(r.url))
    big = {
        "name": "大文件.pdf",
        "mimeType": "application/pdf",
        "buffer": b"%PDF" + b"0" * (21 * MB),
    }
    page.set_input_files("#evidence-file", big)
    page.click("#evidence form button[type=submit]")
    alert = page.locator("#evidence .request-error")
    alert.wait_for()
    assert "大文件.pdf" in alert.inner_text() and "超过大小限制" in alert.inner_text()
    assert not sent and not errors
    context.close()


def test_a_413_from_the_server_is_said_in_the_form(browser, live_server, sqlite_world):
    context, page, errors = clerk_on_issue(browser, live_server, sqlite_world)
    # as if the browser had no limit to check: the server's 413 must still reach the clerk
    page.eval_on_selector("#evidence-file", "el => el.removeAttribute('data-max-bytes')")
    big = {"name": "big.pdf", "mimeType": "application/pdf", "buffer": b"%PDF" + b"0" * (21 * MB)}
    page.set_input_files("#evidence-file", big)
    page.click("#evidence form button[type=submit]")
    alert = page.locator("#evidence .request-error")
    alert.wait_for()
    assert "413" in alert.inner_text() and "文件过大" in alert.inner_text()
    assert page.locator("#evidence-file").count() == 1 and not errors
    context.close()


def test_a_lost_connection_is_said_in_the_form(browser, live_server, sqlite_world):
    context, page, errors = clerk_on_issue(browser, live_server, sqlite_world)
    page.set_input_files("#evidence-file", {"name": "a.pdf", "mimeType": "application/pdf",
                                            "buffer": b"%PDF-1.4\n%%EOF\n"})  # fmt: skip
    context.route("**/evidence", lambda route: route.abort())
    page.click("#evidence form button[type=submit]")
    alert = page.locator("#evidence .request-error")
    alert.wait_for()
    assert "无法连接服务器" in alert.inner_text() and not errors
    context.close()


def test_a_slow_answer_shows_the_busy_bar(browser, live_server, sqlite_world):
    """A request still unanswered after 300 ms shows the busy bar; the answer removes it."""
    context, page, errors = clerk_on_issue(browser, live_server, sqlite_world)
    held = []
    page.route("**/evidence", lambda route: held.append(route) if route.request.method == "POST"
               else route.continue_())  # fmt: skip
    page.set_input_files("#evidence-file", {"name": "a.pdf", "mimeType": "application/pdf",
                                            "buffer": b"%PDF-1.4\n%%EOF\n"})  # fmt: skip
    page.click("#evidence form button[type=submit], form[hx-post$='/evidence'] button[type=submit]")
    page.wait_for_function("() => document.body.classList.contains('busy')", timeout=3000)
    assert held, "the upload never left the page"
    held[0].continue_()
    page.wait_for_function("() => !document.body.classList.contains('busy')", timeout=5000)
    assert not errors
    context.close()
