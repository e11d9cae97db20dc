"""Login (S5, S6; ASVS 2.2.1, 2.4.1): argon2id with rehash on login, rate limits kept in
the database (shared by every worker), and the same answer, in about the same time, for
an unknown user and a wrong password."""

from __future__ import annotations

import re
import statistics
import time

from argon2 import PasswordHasher
from sqlalchemy import select

from tests.conftest import PASSWORD
from web import create_app
from workflow.models import User
from workflow.org import units

CHEAP = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}  # tests/conftest.py's


def attempt(client, username: str, password: str = "wrong-password", address: str = "10.0.0.1"):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})  # fmt: skip


def test_argon2id_and_rehash_on_login(client, sqlite_world):
    """A hash with old parameters is replaced at the next successful login.  Fails when
    ``verify_password`` stops rehashing."""
    old = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1).hash(PASSWORD)
    with sqlite_world.db.writing() as s:
        s.get(User, sqlite_world.users["clerk"]).password_hash = old
    assert attempt(client, "clerk", PASSWORD).status_code == 303
    with sqlite_world.db.reading() as s:
        new = s.get(User, sqlite_world.users["clerk"]).password_hash
    assert new != old and new.startswith("$argon2id$")
    assert not units._hasher.check_needs_rehash(new)
    assert units._hasher.verify(new, PASSWORD)


def test_stored_hashes_are_argon2id(sqlite_world):
    with sqlite_world.db.reading() as s:
        hashes = s.scalars(select(User.password_hash)).all()
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)


def second_app(app, tmp_path):
    """Another worker: its own app and engine on the same database."""
    return create_app({**{k: app.config[k] for k in ("DATABASE_URL", "CLOCK", "SECRET_KEY")},
                       "TESTING": True, "WTF_CSRF_ENABLED": False,
                       "UPLOAD_FOLDER": str(tmp_path / "up2")})  # fmt: skip


def test_account_limit_is_shared_by_workers(app, tmp_path):
    """Ten failures for one account, alternating between two app instances on one
    database (and between addresses), lock the account on both.  Fails when the limit is
    not enforced (``_too_many``) or kept in one process's memory."""
    one, two = app.test_client(), second_app(app, tmp_path).test_client()
    for n in range(10):
        r = attempt(one if n % 2 else two, "clerk", address=f"10.0.1.{n}")
        assert r.status_code == 401
    for c in (one, two):
        assert attempt(c, "clerk", PASSWORD, address="10.0.2.1").status_code == 429


def test_address_limit_is_shared_by_workers(app, tmp_path):
    """Thirty failures from one address, spread over usernames and two instances, stop
    that address (a password-spraying run); another address still logs in."""
    one, two = app.test_client(), second_app(app, tmp_path).test_client()
    for n in range(30):
        assert attempt(one if n % 2 else two, f"spray{n}").status_code == 401
    for c in (one, two):
        assert attempt(c, "head", PASSWORD).status_code == 429
    assert attempt(one, "head", PASSWORD, address="10.9.9.9").status_code == 303


def test_limits_expire(app, client, clock):
    for _ in range(10):
        attempt(client, "clerk")
    assert attempt(client, "clerk", PASSWORD).status_code == 429
    clock.advance(hours=1, minutes=1)
    assert attempt(client, "clerk", PASSWORD).status_code == 303


def normalised(response, username: str) -> str:
    body = response.get_data(as_text=True).replace(f'value="{username}"', 'value="<USER>"')
    return re.sub(r'(csrf_token" value="|"X-CSRFToken": ")[^"]+', r"\1…", body)


def test_unknown_user_and_wrong_password_answer_alike(client):
    """Status and page are identical (the typed username aside); an inactive account
    with the right password answers the same.  Fails if the messages differ."""
    unknown = attempt(client, "nobody-here")
    wrong = attempt(client, "clerk")
    assert unknown.status_code == wrong.status_code == 401
    assert normalised(unknown, "nobody-here") == normalised(wrong, "clerk")


def test_inactive_user_answers_like_a_wrong_password(client, sqlite_world):
    with sqlite_world.db.writing() as s:
        s.get(User, sqlite_world.users["head"]).active = False
    inactive = attempt(client, "head", PASSWORD)
    wrong = attempt(client, "clerk")
    assert inactive.status_code == wrong.status_code == 401
    assert normalised(inactive, "head") == normalised(wrong, "clerk")


def test_unknown_user_takes_as_long_as_a_wrong_password(client, sqlite_world, clock):
    """With the production argon2 parameters, the median time of a login for an unknown
    user is within generous bounds of a wrong password's (a dummy hash is verified).
    Fails without ``burn_hash_time``: the unknown user answers in a few ms."""
    defaults = PasswordHasher()
    units.set_hasher_parameters(defaults.time_cost, defaults.memory_cost, defaults.parallelism)
    try:
        with sqlite_world.db.writing() as s:
            s.get(User, sqlite_world.users["clerk"]).password_hash = units.hash_password(PASSWORD)
        times: dict[str, list[float]] = {"unknown": [], "wrong": []}
        for n in range(10):
            clock.advance(hours=2)  # stay under the limits
            for kind, name in (("unknown", f"nobody{n}"), ("wrong", "clerk")):
                start = time.perf_counter()
                assert attempt(client, name, address=f"10.3.{n}.1").status_code == 401
                times[kind].append(time.perf_counter() - start)
    finally:
        units.set_hasher_parameters(**CHEAP)
    unknown, wrong = statistics.median(times["unknown"]), statistics.median(times["wrong"])
    assert wrong > 0.01, f"argon2 defaults should cost time, took {wrong:.4f}s"
    assert abs(unknown - wrong) < max(0.05, 0.5 * wrong), (unknown, wrong)
