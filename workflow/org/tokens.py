"""API tokens: how other systems authenticate as a user (``Authorization: Bearer <token>``).

Owns creating a token (the plaintext is returned once and never stored: only its SHA-256),
finding the live token behind a presented plaintext, recording its last use, listing and
revoking.  A token carries exactly the roles and unit scope its user has on the web: it
names a user, nothing more.  Must not import flask.

SHA-256 (not argon2) is right here: tokens are 256 random bits, so there is nothing to
brute-force, and a fast hash lets every API request be checked with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workflow.models import ApiToken, User

PREFIX = "rf_"
# a token's last use is written at most this often (a busy integration must not turn
# every read into a write)
TOUCH_EVERY = timedelta(minutes=1)
MAX_NAME = 100


class TokenError(ValueError):
    """Bad input for a token (a message naming the problem)."""


def hash_token(plaintext: str) -> str:
    """The SHA-256 hex digest stored for ``plaintext``."""
    return hashlib.sha256(plaintext.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(session: Session, user: User, name: str, now: datetime) -> tuple[ApiToken, str]:
    """Create a token for ``user``; return the row and the plaintext (shown once)."""
    name = (name or "").strip()
    if not name:
        raise TokenError("a token needs a name (which system uses it)")
    if len(name) > MAX_NAME:
        raise TokenError(f"token name longer than {MAX_NAME} characters")
    if not user.active:
        raise TokenError(f"user {user.username!r} is not active")
    plaintext = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_token(plaintext),
        prefix=plaintext[:10],
        created_at=now,
    )
    session.add(token)
    session.flush()
    return token, plaintext


@dataclass(frozen=True)
class Presented:
    """The live token behind a presented plaintext."""

    token_id: int
    user_id: int
    last_used_at: datetime | None


def find_live(session: Session, plaintext: str) -> Presented | None:
    """The unrevoked token of an active user matching ``plaintext``, or None."""
    if not plaintext or len(plaintext) > 200 or not plaintext.startswith(PREFIX):
        return None
    digest = hash_token(plaintext)
    row = session.execute(
        select(ApiToken.id, ApiToken.user_id, ApiToken.last_used_at, ApiToken.token_hash)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None), User.active)
    ).first()
    # the index found it; compare in constant time anyway
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return Presented(row.id, row.user_id, row.last_used_at)


def needs_touch(presented: Presented, now: datetime) -> bool:
    """Whether the last-use time is stale enough to write again."""
    return presented.last_used_at is None or now - presented.last_used_at >= TOUCH_EVERY


def touch(session: Session, token_id: int, now: datetime) -> None:
    """Record that the token was used at ``now``."""
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


def list_tokens(session: Session, user: User | None = None) -> list[ApiToken]:
    """Tokens (of ``user``, or everyone's), newest first, revoked ones included."""
    q = select(ApiToken).order_by(ApiToken.id.desc())
    if user is not None:
        q = q.where(ApiToken.user_id == user.id)
    return list(session.scalars(q))


def revoke_token(
    session: Session, token_id: int, now: datetime, owner: User | None = None
) -> ApiToken:
    """Revoke a token (only ``owner``'s when given); revoking twice keeps the first time."""
    token = session.get(ApiToken, token_id)
    if token is None or (owner is not None and token.user_id != owner.id):
        raise LookupError(f"no token {token_id}")
    if token.revoked_at is None:
        token.revoked_at = now
    session.flush()
    return token
