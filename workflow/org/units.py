"""The unit tree and the people in it: adding units, users, roles; password hashing.

Owns the materialized path of each unit and the argon2id password hashes.
Must not import flask.
"""

from __future__ import annotations

import contextlib
import re
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.limits import text_limit
from workflow.messages import N_, Message, Text
from workflow.models import Membership, Unit, User
from workflow.org.scope import ROLES

LEVELS = ("province", "city", "county", "township", "department", "village")
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")

UNIT_NAME_MAX = text_limit(Unit.name)
DISPLAY_NAME_MAX = text_limit(User.display_name)
EMAIL_MAX = text_limit(User.email)

_hasher = PasswordHasher()  # argon2id with the library's current defaults


class UnitError(ValueError):
    """Bad input for a unit or user; its argument is a Message naming the problem."""


UNIT_CODE_BAD = Text(
    "unit_code_bad", N_("unit code '%(code)s': letters, digits, '.', '_' or '-' (at most 64)")
)
UNIT_NAME_REQUIRED = Text("unit_name_required", N_("unit name is required"))
UNIT_NAME_TOO_LONG = Text(
    "unit_name_too_long", N_("unit name: at most %(limit)s characters (%(n)s given)")
)
UNIT_DISPLAY_TOO_LONG = Text(
    "unit_display_name_too_long", N_("display name: at most %(limit)s characters (%(n)s given)")
)
UNIT_EMAIL_TOO_LONG = Text(
    "unit_email_too_long", N_("email: at most %(limit)s characters (%(n)s given)")
)
UNIT_LEVEL_BAD = Text("unit_level_bad", N_("unit level '%(level)s': one of %(levels)s"))
UNIT_CODE_TAKEN = Text("unit_code_taken", N_("unit code '%(code)s' is taken"))
UNIT_NO_PARENT = Text("unit_no_parent", N_("no parent unit with code '%(code)s'"))
UNIT_PARENT_OUTSIDE = Text(
    "unit_parent_outside",
    N_("parent unit %(code)s: outside the units your inspection office manages"),
)
UNIT_ROOT_OUTSIDE = Text(
    "unit_root_outside",
    N_("parent unit (none: a root): outside the units your inspection office manages"),
)
UNIT_ROLE_OUTSIDE = Text(
    "unit_role_outside",
    N_("role %(role)s@%(code)s: outside the units your inspection office manages"),
)
UNIT_ROLE_FORMAT = Text(
    "unit_role_format", N_("role '%(spec)s': write ROLE@UNITCODE, e.g. unit_user@CITY-01")
)
UNIT_ROLE_BAD = Text("unit_role_bad", N_("role '%(role)s': one of %(roles)s"))
UNIT_ROLE_NO_UNIT = Text("unit_role_no_unit", N_("role '%(spec)s': no unit with code '%(code)s'"))
UNIT_USERNAME_BAD = Text(
    "unit_username_bad",
    N_("username '%(username)s': 2–64 lower-case letters, digits, '.', '_' or '-'"),
)
UNIT_USERNAME_TAKEN = Text("unit_username_taken", N_("username '%(username)s' is taken"))
UNIT_PASSWORD_SHORT = Text("unit_password_short", N_("password: at least 8 characters"))
UNIT_ROLES_REQUIRED = Text("unit_roles_required", N_("at least one ROLE@UNIT is required"))


def set_hasher_parameters(time_cost: int, memory_cost: int, parallelism: int) -> None:
    """Replace the argon2 parameters (tests use cheap ones; production keeps the defaults)."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    _DUMMY_HASH = _hasher.hash("rectiflow-timing-equaliser")


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    """Check ``password``; rehash in place when the parameters have moved on."""
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return True


def burn_hash_time(password: str) -> None:
    """Spend the time a verification takes (unknown user: same timing as a wrong password)."""
    with contextlib.suppress(VerificationError, InvalidHashError):
        _hasher.verify(_DUMMY_HASH, password)


_DUMMY_HASH = _hasher.hash("rectiflow-timing-equaliser")


def _inside(unit: Unit | None, within: list[Unit] | None) -> bool:
    """Whether ``unit`` lies in the offices' subtrees (``within`` None = no limit: the CLI)."""
    if within is None:
        return True
    return unit is not None and any(unit.path.startswith(top.path) for top in within)


def _check_within(unit: Unit | None, within: list[Unit] | None, said: Message) -> None:
    """Refuse ``unit`` outside the offices' subtrees."""
    if not _inside(unit, within):
        raise UnitError(said)


def _by_code(session: Session, code: str, within: list[Unit] | None) -> Unit | None:
    """The unit with ``code``; None also when it lies outside ``within``.

    A unit another office manages must look exactly like a missing one: the same message
    at the same point of the checks, so the answer tells nothing about other subtrees.
    """
    unit = session.scalar(select(Unit).where(Unit.code == code))
    return unit if _inside(unit, within) else None


def add_unit(
    session: Session,
    code: str,
    name: str,
    level: str,
    parent_code: str | None = None,
    within: list[Unit] | None = None,
) -> Unit:
    """Add a unit below ``parent_code`` (or a root) and compute its path.

    ``within``: the units whose subtrees the caller manages (an office on the web); the new
    unit's parent must lie inside one of them.
    """
    if not CODE_RE.match(code or ""):
        raise UnitError(UNIT_CODE_BAD(code=(code or "")[:64]))
    if not (name or "").strip():
        raise UnitError(UNIT_NAME_REQUIRED())
    if len(name.strip()) > UNIT_NAME_MAX:
        raise UnitError(UNIT_NAME_TOO_LONG(limit=UNIT_NAME_MAX, n=len(name.strip())))
    if level not in LEVELS:
        raise UnitError(UNIT_LEVEL_BAD(level=level, levels=list(LEVELS)))
    if session.scalar(select(Unit.id).where(Unit.code == code)):
        raise UnitError(UNIT_CODE_TAKEN(code=code))
    parent = None
    if parent_code:
        parent = _by_code(session, parent_code, within)
        if parent is None:
            raise UnitError(UNIT_NO_PARENT(code=parent_code))
    if within is not None:
        outside = UNIT_PARENT_OUTSIDE(code=parent_code) if parent_code else UNIT_ROOT_OUTSIDE()
        _check_within(parent, within, outside)
    unit = Unit(
        code=code,
        name=name.strip(),
        level=level,
        parent_id=parent.id if parent else None,
        path="",
        depth=parent.depth + 1 if parent else 0,
    )
    session.add(unit)
    session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    return unit


def parse_role(session: Session, spec: str, within: list[Unit] | None = None) -> tuple[str, Unit]:
    """``ROLE@UNITCODE`` → (role, unit); a unit outside ``within`` is reported as missing."""
    role, sep, code = spec.partition("@")
    if not sep:
        raise UnitError(UNIT_ROLE_FORMAT(spec=spec))
    if role not in ROLES:
        raise UnitError(UNIT_ROLE_BAD(role=role, roles=list(ROLES)))
    unit = _by_code(session, code, within)
    if unit is None:
        raise UnitError(UNIT_ROLE_NO_UNIT(spec=spec, code=code))
    return role, unit


def _check_person(display_name: str, email: str | None) -> None:
    """Refuse a display name or email wider than its column."""
    if len((display_name or "").strip()) > DISPLAY_NAME_MAX:
        n = len(display_name.strip())
        raise UnitError(UNIT_DISPLAY_TOO_LONG(limit=DISPLAY_NAME_MAX, n=n))
    if email and len(email) > EMAIL_MAX:
        raise UnitError(UNIT_EMAIL_TOO_LONG(limit=EMAIL_MAX, n=len(email)))


def add_user(
    session: Session,
    username: str,
    display_name: str,
    password: str,
    roles: list[str],
    now: datetime,
    email: str | None = None,
    within: list[Unit] | None = None,
) -> User:
    """Add a user with memberships given as ``ROLE@UNITCODE``.

    ``within``: the units whose subtrees the caller manages; every role's unit must lie
    inside one of them (a city office cannot create a province office account).
    """
    if not USERNAME_RE.match(username or ""):
        raise UnitError(UNIT_USERNAME_BAD(username=(username or "")[:64]))
    _check_person(display_name, email)
    if session.scalar(select(User.id).where(User.username == username)):
        raise UnitError(UNIT_USERNAME_TAKEN(username=username))
    if len(password or "") < 8:
        raise UnitError(UNIT_PASSWORD_SHORT())
    if not roles:
        raise UnitError(UNIT_ROLES_REQUIRED())
    parsed = [parse_role(session, r, within) for r in roles]
    for role, unit in parsed:
        _check_within(unit, within, UNIT_ROLE_OUTSIDE(role=role, code=unit.code))
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        email=email or None,
        password_hash=hash_password(password),
        created_at=now,
        preferences={},
    )
    session.add(user)
    session.flush()
    for role, unit in parsed:
        user.memberships.append(Membership(user_id=user.id, unit_id=unit.id, role=role, unit=unit))
    session.flush()
    return user
