"""``/api/v1/tokens`` and ``/api/v1/me``: your own API tokens, and who the token names."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from web.api.auth import current_api_user, prepare
from web.api.errors import ApiError
from web.api.schemas import TokenCreatedSchema, TokenCreateSchema, TokenSchema
from web.database import get_session, now
from workflow.models import ApiToken
from workflow.org import tokens

blp = Blueprint("api_tokens", __name__, url_prefix="/api/v1", description="Your account and tokens")
prepare(blp)


class MembershipSchema(Schema):
    """A role held in a unit."""

    role = fields.String()
    unit = fields.String()
    unit_name = fields.String()


class MeSchema(Schema):
    """The user a token names."""

    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    memberships = fields.List(fields.Nested(MembershipSchema))


def token_row(t: ApiToken) -> dict[str, Any]:
    """A token as listed (never its plaintext)."""
    return {
        "id": t.id,
        "name": t.name,
        "prefix": t.prefix,
        "created_at": t.created_at,
        "last_used_at": t.last_used_at,
        "revoked_at": t.revoked_at,
    }


@blp.get("/me")
@blp.response(200, MeSchema)
def me() -> dict[str, Any]:
    """Who this token acts as, with the roles it carries."""
    user = current_api_user()
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "memberships": [
            {"role": m.role, "unit": m.unit.code, "unit_name": m.unit.name}
            for m in user.memberships
        ],
    }


@blp.get("/tokens")
@blp.response(200, TokenSchema(many=True))
def list_my_tokens() -> list[dict[str, Any]]:
    """Your tokens with their last use (revoked ones included)."""
    return [token_row(t) for t in tokens.list_tokens(get_session(), current_api_user())]


@blp.post("/tokens")
@blp.arguments(TokenCreateSchema)
@blp.response(201, TokenCreatedSchema)
def create_my_token(args: dict[str, Any]) -> dict[str, Any]:
    """Create a token for yourself; its plaintext is in this answer and nowhere else."""
    session = get_session()
    try:
        token, plaintext = tokens.create_token(session, current_api_user(), args["name"], now())
    except tokens.TokenError as exc:
        session.rollback()
        raise ApiError(422, exc, fields={"name": [exc]}) from None
    session.commit()
    return {**token_row(token), "token": plaintext}


@blp.delete("/tokens/<int(max=2147483647):token_id>")
@blp.response(200, TokenSchema)
def revoke_my_token(token_id: int) -> dict[str, Any]:
    """Revoke one of your tokens (it stops working at once)."""
    session = get_session()
    try:
        token = tokens.revoke_token(session, token_id, now(), owner=current_api_user())
    except LookupError:
        session.rollback()
        raise ApiError(404, _l("no token %(id)s", id=token_id)) from None
    session.commit()
    return token_row(token)
