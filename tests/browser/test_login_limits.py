"""The real login form in Chromium (its CSRF token included): a ``next`` that would leave the
site never does, and repeated wrong passwords are throttled per account (10 an hour) and per
address (30 in 10 minutes), said on the page in Chinese."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest

from tests.browser.test_life import PASSWORD
from web.auth import MAX_ADDRESS_FAILURES, MAX_USER_FAILURES
from web.redirects import safe_path

pytestmark = pytest.mark.browser
HOSTILE = ["/\\evil.example", "/\t/evil.example", "//evil.example", "https://evil.example/",
           "/\\/evil.example", " /evil", "javascript:alert(1)"]  # fmt: skip


@pytest.mark.parametrize("target", HOSTILE)
def test_hostile_targets_are_refused(target):
    assert safe_path(target, "/home") == "/home"


def test_paths_on_the_site_are_kept():
    assert safe_path("/issues/3?tab=timeline", "/") == "/issues/3?tab=timeline"


def _login(page, live_server, username, password, nxt=None):
    url = f"{live_server}/login" + (f"?next={quote(nxt, safe='')}" if nxt else "")
    page.goto(url)
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click(".login button[type=submit]")


def test_a_next_that_leaves_the_site_lands_at_home(browser, live_server):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    for target in ("/\\evil.example", "/\t/evil.example", "//evil.example"):
        _login(page, live_server, "clerk", PASSWORD, nxt=target)
        assert urlsplit(page.url).hostname == "127.0.0.1", (target, page.url)
        page.request.post(f"{live_server}/logout", headers={"X-CSRFToken": _csrf(page)})
    context.close()


def _csrf(page) -> str:
    return page.evaluate("() => document.querySelector('meta[name=csrf-token]')?.content || "
                         "document.querySelector('input[name=csrf_token]')?.value || ''")  # fmt: skip


def test_wrong_passwords_are_throttled_per_account_then_per_address(browser, live_server):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    for _ in range(MAX_USER_FAILURES):
        _login(page, live_server, "head", "wrong-password")
        assert "用户名或密码" in page.content()
    _login(page, live_server, "head", PASSWORD)  # the right password, too late: locked
    assert "尝试次数过多" in page.content() and "/login" in page.url
    for n in range(MAX_ADDRESS_FAILURES - MAX_USER_FAILURES):  # spraying other names
        _login(page, live_server, f"spray{n}", "wrong-password")
    _login(page, live_server, "clerk", PASSWORD)  # another account, same address: stopped
    assert "尝试次数过多" in page.content() and "/login" in page.url
    context.close()
