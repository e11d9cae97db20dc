"""Logging in and out (flask-login), the current user, and role checks for views.

A login starts a fresh session (a new session id: nothing from before survives) that
records the user's ``session_epoch``; a session whose epoch is older than the user's (the
password or roles changed, or the user logged out) is refused.  Sessions are signed
cookies, so ending one means bumping the epoch: logging out ends all of the user's
sessions, and any flush that changes a password hash or a membership bumps it too
(:func:`workflow.org.sessions.bump_epochs`).  A session also ends after ``SESSION_IDLE_MINUTES`` without a
request and ``SESSION_ABSOLUTE_HOURS`` after the login, measured with the app's clock.
Failed attempts are kept in the database so the limits hold across workers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from web.database import get_session, now
from web.redirects import safe_path
from workflow.models import LoginAttempt, User
from workflow.org import sessions
from workflow.org.sessions import REHASH_ONLY
from workflow.org.units import burn_hash_time, verify_password

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.session_protection = "strong"

MAX_USER_FAILURES = 10  # per username and hour
MAX_ADDRESS_FAILURES = 30  # per address and 10 minutes
SEEN_EVERY = 60  # seconds: last-seen is rewritten (a new cookie) at most this often


class Account(UserMixin):
    """The logged-in user as flask-login sees it; ``user`` is the row in this request's session."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.id = user.id

    def get_id(self) -> str:
        """The id kept in the session."""
        return str(self.user.id)

    @property
    def is_active(self) -> bool:
        """Whether the account may log in."""
        return bool(self.user.active)


@login_manager.user_loader
def load_account(user_id: str) -> Account | None:
    """Load the user of the session; refuse it when its epoch is older than the user's."""
    user = get_session().get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.active or session.get("epoch") != user.session_epoch:
        return None
    if not _fresh_enough():
        session.clear()
        return None
    return Account(user)


def _fresh_enough() -> bool:
    """Enforce the idle and absolute timeouts; note this request as the last one seen."""
    at = int(now().timestamp())
    login_at, seen_at = session.get("login_at"), session.get("seen_at")
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return False  # a session from before timeouts existed, or a forged one
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    absolute = current_app.config["SESSION_ABSOLUTE_HOURS"] * 3600
    if at - seen_at > idle or at - login_at > absolute:
        return False
    if at - seen_at >= SEEN_EVERY:
        session["seen_at"] = at
    return True


@login_manager.unauthorized_handler
def unauthorized() -> Response:
    """Send anonymous visitors to the login page (htmx: a full-page redirect)."""
    target = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
    if request.headers.get("HX-Request") == "true":
        response = Response(status=401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def me() -> User:
    """The logged-in user's row (only call behind ``login_required``)."""
    return current_user.user  # type: ignore[no-any-return]


def roles() -> set[str]:
    """The roles the logged-in user holds (any unit)."""
    return {m.role for m in me().memberships} if current_user.is_authenticated else set()


def role_required(*wanted: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Answer 404 unless the user holds one of ``wanted`` (the page does not exist for them)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not roles() & set(wanted):
                abort(404)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def _too_many(username: str, address: str) -> bool:
    db, at = get_session(), now()
    by_user = db.scalar(
        select(func.count()).where(
            LoginAttempt.username == username, LoginAttempt.success.is_(False),
            LoginAttempt.at > at - timedelta(hours=1),
        )
    )  # fmt: skip
    by_addr = db.scalar(
        select(func.count()).where(
            LoginAttempt.address == address, LoginAttempt.success.is_(False),
            LoginAttempt.at > at - timedelta(minutes=10),
        )
    )  # fmt: skip
    return (by_user or 0) >= MAX_USER_FAILURES or (by_addr or 0) >= MAX_ADDRESS_FAILURES


def _safe_next(target: str | None) -> str:
    """Where to go after the login: ``next`` if it is a path on this site, else home."""
    return safe_path(target, url_for("home.index"))


@bp.route("/login", methods=("GET", "POST"))
def login() -> Any:
    """Show the login form; check the password and start a fresh session."""
    if request.method == "GET":
        return render_template("auth/login.html", next=request.args.get("next", ""))
    db = get_session()
    username = request.form.get("username", "").strip().lower()[:64]
    password = request.form.get("password", "")
    address = (request.remote_addr or "-")[:64]
    if _too_many(username, address):
        return render_template(
            "auth/login.html", error=_("Too many attempts, try again later"), username=username
        ), 429
    user = db.scalar(select(User).where(User.username == username))
    db.info[REHASH_ONLY] = True  # the same password, new parameters: other sessions live on
    try:
        ok = verify_password(user, password) if user is not None else burn_hash_time(password)
        db.add(LoginAttempt(username=username, address=address, at=now(), success=bool(ok)))
        db.commit()
    finally:
        db.info.pop(REHASH_ONLY, None)
    if not ok or user is None or not user.active:
        return render_template(
            "auth/login.html", error=_("Wrong username or password"), username=username
        ), 401
    lang = session.get("lang")
    session.clear()  # a new session: nothing from before the login survives
    login_user(Account(user))
    session["epoch"] = user.session_epoch
    session["login_at"] = session["seen_at"] = int(now().timestamp())
    if lang:
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")), 303)


@bp.post("/logout")
def logout() -> Response:
    """End the session: the epoch bump makes a replayed copy of the cookie worthless too."""
    if current_user.is_authenticated:
        db = get_session()
        me().session_epoch += 1
        db.commit()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"), 303)


class SessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions whose cookie is ``Secure`` behind TLS even if not configured."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure when configured (``RECTIFLOW_SESSION_COOKIE_SECURE=true``) or on https."""
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def init_app(app: Flask) -> None:
    """Install flask-login, the session rules and the auth pages."""
    login_manager.init_app(app)
    app.session_interface = SessionInterface()
    sessions.install()
    app.register_blueprint(bp)
