"""Session lifecycle (S4, ASVS 3.2.1, 3.3.1, 3.3.2, 3.4.x): a new session at login, logout
that really ends it, idle and absolute timeouts on the app's clock, password and role
changes ending the user's other sessions, cookie flags."""

from __future__ import annotations

from argon2 import PasswordHasher
from sqlalchemy import select, update

from tests.conftest import PASSWORD
from workflow.models import Membership, Unit, User
from workflow.org.units import hash_password

COOKIE = "session"


def cookie(client) -> str | None:
    found = client.get_cookie(COOKIE)
    return found.value if found else None


def replay(app, value: str):
    """A new client presenting a copied session cookie; the answer to GET /."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, value)
    return thief.get("/")


def logged_in(client) -> bool:
    r = client.get("/")
    return r.status_code == 200


def test_login_starts_a_new_session(app, client, auth, sqlite_world):
    """The cookie before login (planted by an attacker: session fixation) is not the
    cookie after it, carries no login, and nothing planted survives.  Fails if login
    kept the old session (drop ``session.clear()`` in ``auth.login``: the planted key
    survives)."""
    client.get("/login")
    with client.session_transaction() as s:
        s["planted"] = "attacker"
    before = cookie(client)
    assert before
    auth.login("clerk")
    after = cookie(client)
    assert after and after != before
    with client.session_transaction() as s:
        assert "planted" not in s and s["_user_id"] == str(sqlite_world.users["clerk"])
    assert replay(app, before).status_code == 302
    assert replay(app, after).status_code == 200


def test_logout_ends_the_session_even_for_a_copied_cookie(app, client, auth):
    """After logout a replayed copy of the cookie is sent to the login page.  Fails
    without the epoch bump in ``auth.logout`` (signed-cookie sessions stay valid)."""
    auth.login("clerk")
    copied = cookie(client)
    assert replay(app, copied).status_code == 200
    auth.logout()
    r = replay(app, copied)
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_idle_timeout(app, client, auth, clock):
    """30 minutes without a request end the session; activity keeps it alive.  Fails
    without ``_fresh_enough`` in ``auth.load_account``."""
    assert app.config["SESSION_IDLE_MINUTES"] == 30
    auth.login("clerk")
    for _ in range(3):
        clock.advance(minutes=29)
        assert logged_in(client)
    clock.advance(minutes=31)
    r = client.get("/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_absolute_timeout(app, client, auth, clock):
    """Twelve hours after login the session ends, however active.  Fails without the
    ``login_at`` check."""
    assert app.config["SESSION_ABSOLUTE_HOURS"] == 12
    auth.login("clerk")
    for _ in range(int(12 * 60 / 25)):
        clock.advance(minutes=25)
        assert logged_in(client)
    clock.advance(minutes=25)
    assert client.get("/").status_code == 302


def test_timeouts_follow_config(app, client, auth, clock):
    app.config["SESSION_IDLE_MINUTES"] = 5
    auth.login("clerk")
    clock.advance(minutes=6)
    assert not logged_in(client)


def two_sessions(app, username: str = "clerk"):
    first, second = app.test_client(), app.test_client()
    for c in (first, second):
        c.post("/login", data={"username": username, "password": PASSWORD})
        assert logged_in(c)
    return first, second


def test_password_change_ends_other_sessions(app, sqlite_world):
    """Changing a password hash anywhere (workflow, CLI, admin) bumps ``session_epoch``
    and every session of that user ends.  Fails without ``workflow.org.sessions.bump_epochs``."""
    first, second = two_sessions(app)
    with sqlite_world.db.writing() as s:
        s.get(User, sqlite_world.users["clerk"]).password_hash = hash_password("new-pass-word-1")
    assert not logged_in(first) and not logged_in(second)


def test_role_changes_end_sessions(app, sqlite_world):
    """Adding, changing or removing a membership ends the user's sessions (through the
    user's collection or on the membership row itself)."""
    db, users = sqlite_world.db, sqlite_world.users
    first, _ = two_sessions(app)
    with db.writing() as s:
        user, unit = s.get(User, users["clerk"]), s.scalar(select(Unit).where(Unit.code == "NB"))
        user.memberships.append(Membership(user_id=user.id, unit_id=unit.id, role="unit_user"))
    assert not logged_in(first)
    first, _ = two_sessions(app)
    with db.writing() as s:
        m = s.scalar(select(Membership).where(Membership.user_id == users["clerk"],
                                              Membership.role == "unit_user",
                                              Membership.unit_id == sqlite_world.units["NB"]))  # fmt: skip
        m.role = "unit_head"
    assert not logged_in(first)
    first, _ = two_sessions(app)
    with db.writing() as s:
        m = s.scalar(select(Membership).where(Membership.user_id == users["clerk"],
                                              Membership.unit_id == sqlite_world.units["NB"]))  # fmt: skip
        s.delete(m)
    assert not logged_in(first)
    first, _ = two_sessions(app)
    with db.writing() as s:  # an unrelated change keeps sessions alive
        s.get(User, users["clerk"]).display_name = "灵隐经办人（新）"
    assert logged_in(first)


def test_rehash_on_login_keeps_other_sessions(app, sqlite_world):
    """A login that only rehashes (same password, new parameters) does not end the
    user's other sessions.  Fails without the ``REHASH_ONLY`` exemption in ``auth.login``."""
    first = app.test_client()
    first.post("/login", data={"username": "clerk", "password": PASSWORD})
    old = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1).hash(PASSWORD)
    with sqlite_world.db.writing() as s:  # a Core UPDATE: as if the hash were old already
        s.execute(update(User).where(User.id == sqlite_world.users["clerk"])
                  .values(password_hash=old))  # fmt: skip
    second = app.test_client()
    second.post("/login", data={"username": "clerk", "password": PASSWORD})
    with sqlite_world.db.reading() as s:
        assert s.get(User, sqlite_world.users["clerk"]).password_hash != old  # rehashed
    assert logged_in(first) and logged_in(second)


def set_cookie_header(response) -> str:
    found = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(COOKIE + "=")]
    assert found, response.headers
    return found[-1]


def test_cookie_flags(app, client):
    """HttpOnly and SameSite=Lax always; Secure on https and when configured.  Fails
    without ``auth.SessionInterface`` (no Secure on https unless configured)."""
    form = {"username": "clerk", "password": PASSWORD}
    plain = set_cookie_header(client.post("/login", data=form))
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Secure" not in plain
    tls = set_cookie_header(
        app.test_client().post("/login", data=form, base_url="https://localhost")
    )
    assert "HttpOnly" in tls and "SameSite=Lax" in tls and "Secure" in tls
    app.config["SESSION_COOKIE_SECURE"] = True
    forced = set_cookie_header(app.test_client().post("/login", data=form))
    assert "Secure" in forced and "HttpOnly" in forced


def test_secure_cookie_from_environment(monkeypatch, tmp_path):
    """``RECTIFLOW_SESSION_COOKIE_SECURE=true`` (the setting behind TLS) reaches the app."""
    from web import create_app

    monkeypatch.setenv("RECTIFLOW_INSTANCE", str(tmp_path))
    monkeypatch.setenv("RECTIFLOW_SESSION_COOKIE_SECURE", "true")
    monkeypatch.setenv("RECTIFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite'}")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_IDLE_MINUTES"] == 30 and app.config["SESSION_ABSOLUTE_HOURS"] == 12
