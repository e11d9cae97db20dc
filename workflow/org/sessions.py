"""Sessions end when credentials change: a flush that changes a password or a role bumps the epoch.

Web sessions are signed cookies that record the user's ``session_epoch``; a session older
than the user's epoch is refused (``web.auth``).  The rule that bumps the epoch belongs to the
organisation, not to the web: it is a ``before_flush`` listener on every SQLAlchemy session,
so no code path (admin page, API, CLI, an engine function, a future "change password" form)
can change credentials or roles and leave old sessions alive.  :func:`install` is called by
whoever runs the app (``web.auth.init_app``); nothing is installed at import.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from workflow.models import Membership, User

REHASH_ONLY = "rectiflow.rehash_only"  # session.info flag: a login's rehash keeps the epoch


def install() -> None:
    """Listen on every SQLAlchemy session (once, however often it is called)."""
    if not event.contains(Session, "before_flush", bump_epochs):
        event.listen(Session, "before_flush", bump_epochs)


def bump_epochs(db: Session, _context: Any, _instances: Any) -> None:
    """``before_flush``: a changed password hash or membership ends the user's sessions.

    Installed on every SQLAlchemy session, so no code path (admin page, CLI, workflow
    functions, a future "change password" form) can change credentials or roles and leave
    old sessions alive.  A login's own rehash (same password, new parameters) is exempt.
    """
    users: dict[int, User] = {}
    for obj in db.dirty:
        if isinstance(obj, User):
            attrs = inspect(obj).attrs
            changed = attrs.memberships.history.has_changes() or attrs.active.history.has_changes()
            if attrs.password_hash.history.has_changes() and not db.info.get(REHASH_ONLY):
                changed = True
            if changed and not attrs.session_epoch.history.has_changes():
                users[id(obj)] = obj
        elif isinstance(obj, Membership) and db.is_modified(obj):
            _add_owner(db, obj, users)
    for obj in (*db.new, *db.deleted):
        if isinstance(obj, Membership):
            _add_owner(db, obj, users)
    for user in users.values():
        if user not in db.new:
            user.session_epoch = (user.session_epoch or 0) + 1


def _add_owner(db: Session, m: Membership, users: dict[int, User]) -> None:
    with db.no_autoflush:
        owner = m.user if m.user is not None else db.get(User, m.user_id) if m.user_id else None
    if owner is not None and owner.id is not None:
        users[id(owner)] = owner
