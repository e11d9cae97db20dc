"""Logging in and out, sessions ended by an epoch bump, CSRF, security headers."""

from __future__ import annotations

import pytest

from workflow.models import User

HX = {"HX-Request": "true"}


def test_login_page_and_redirect_for_anonymous(client):
    assert client.get("/login").status_code == 200
    r = client.get("/ledger")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_anonymous_htmx_gets_hx_redirect(client):
    r = client.get("/ledger", headers=HX)
    assert r.status_code == 401 and "/login" in r.headers["HX-Redirect"]


def test_login_lands_on_my_work(client, auth):
    r = auth.login("clerk")
    assert r.status_code == 303 and r.headers["Location"] == "/"
    assert "我的待办".encode() in client.get("/").data


def test_wrong_password_and_unknown_user(client, auth):
    assert auth.login("clerk", "wrong-password").status_code == 401
    assert auth.login("nobody", "wrong-password").status_code == 401
    assert client.get("/").status_code == 302


def test_next_is_kept_but_never_offsite(client):
    r = client.post(
        "/login",
        data={"username": "clerk", "password": "correct-horse-9", "next": "//evil.example/x"},
    )
    assert r.headers["Location"] == "/"
    client.post("/logout")
    r = client.post(
        "/login", data={"username": "clerk", "password": "correct-horse-9", "next": "/ledger?q=1"}
    )
    assert r.headers["Location"] == "/ledger?q=1"


def test_login_clears_the_old_session(client, auth, sqlite_world):
    with client.session_transaction() as s:
        s["planted"] = "x"
    auth.login("clerk")
    with sqlite_world.db.reading() as db:
        epoch = db.get(User, sqlite_world.users["clerk"]).session_epoch
    with client.session_transaction() as s:
        assert "planted" not in s and s["epoch"] == epoch


def test_epoch_bump_ends_the_session(client, auth, sqlite_world):
    auth.login("clerk")
    assert client.get("/").status_code == 200
    with sqlite_world.db.writing() as s:
        s.get(User, sqlite_world.users["clerk"]).session_epoch += 1
    assert client.get("/").status_code == 302


def test_logout_is_post_only(client, auth):
    auth.login("clerk")
    assert client.get("/logout").status_code == 405
    assert auth.logout().status_code == 303
    assert client.get("/").status_code == 302


def test_too_many_failures_lock_the_account(client, auth):
    for _ in range(10):
        auth.login("clerk", "wrong-password")
    assert auth.login("clerk").status_code == 429


def test_csrf_rejects_a_post_without_token(app, client, auth):
    auth.login("clerk")
    app.config["WTF_CSRF_ENABLED"] = True
    r = client.post("/logout")
    assert r.status_code == 400
    assert "页面已过期".encode() in r.data
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    page = client.get("/").data.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in page
    token = page.split('"X-CSRFToken": "')[1].split('"')[0]
    assert client.post("/logout", headers={"X-CSRFToken": token}).status_code == 303


@pytest.mark.parametrize("path", ["/", "/login", "/no-such-page", "/static/css/app.css"])
def test_security_headers_everywhere(client, auth, path):
    auth.login("clerk")
    r = client.get(path)
    h = r.headers
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "same-origin"
    csp = h["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "Strict-Transport-Security" not in h


def test_security_headers_on_405_and_fragments(client, auth):
    auth.login("clerk")
    r = client.put("/")
    assert r.status_code == 405 and r.headers["X-Content-Type-Options"] == "nosniff"
    r = client.get("/inbox/bell", headers=HX)
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["Cache-Control"] == "no-store"


def test_hsts_behind_tls(client, auth):
    r = client.get("/login", base_url="https://localhost")
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")


def test_language_switch(client, auth):
    auth.login("clerk")
    r = client.post("/lang", data={"lang": "en", "next": "/"})
    assert r.status_code == 303
    assert b"My work" in client.get("/").data
    client.post("/lang", data={"lang": "zh", "next": "/"})
    assert "我的待办".encode() in client.get("/").data


def test_no_inline_script_or_style_in_pages(client, auth):
    auth.login("office")
    for path in ["/", "/ledger", "/board", "/stats", "/admin/units"]:
        html = client.get(path).data.decode()
        assert "<script>" not in html and "<style" not in html and " style=" not in html
        assert " onclick=" not in html and "hx-on" not in html
