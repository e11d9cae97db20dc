"""`rectiflow token create|list|revoke`: API tokens for other systems."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from web.database import get_database, parse_now
from web.locale import say


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


@click.group("token", cls=AppGroup)
def token_group() -> None:
    """API tokens (Authorization: Bearer …), hashed at rest."""


@token_group.command("create")
@click.argument("username")
@click.option("--name", default="cli", show_default=True, help="Which system uses it.")
def token_create(username: str, name: str) -> None:
    """Create a token for USERNAME and print it once."""
    from workflow.models import User
    from workflow.org.tokens import TokenError, create_token

    with get_database().writing() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            _fail(f"no user {username!r}")
        try:
            token, plaintext = create_token(session, user, name, parse_now(None))
        except TokenError as exc:
            _fail(say(exc))
        token_id = token.id
    click.echo(plaintext)
    click.echo(f"token {token_id} for {username}; it is shown only now, store it safely", err=True)


@token_group.command("list")
@click.option("--user", "username", help="Only this user's tokens.")
def token_list(username: str | None) -> None:
    """List tokens with their last use."""
    from workflow.models import User
    from workflow.org.tokens import list_tokens

    with get_database().reading() as session:
        user = None
        if username:
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                _fail(f"no user {username!r}")
        names = dict(session.execute(select(User.id, User.username)).all())
        for t in list_tokens(session, user):
            used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never"
            state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
            click.echo(
                f"{t.id:5} {names.get(t.user_id, '?'):14} {t.prefix}…  {t.name:20} "
                f"last used {used:16} {state}"
            )


@token_group.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke token TOKEN_ID (it stops working at once)."""
    from workflow.org.tokens import revoke_token

    try:
        with get_database().writing() as session:
            revoke_token(session, token_id, parse_now(None))
    except LookupError as exc:
        _fail(say(exc))
    click.echo(f"token {token_id} revoked")


COMMANDS = [token_group]
