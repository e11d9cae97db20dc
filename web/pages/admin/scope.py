"""What an inspection office reaches on the admin pages: the subtrees of its office posts.

Units, users (through their posts) and rounds outside them behave as if they did not
exist: the lists leave them out and ``?unit=`` outside answers 404.  Forms naming one get
the answer for a code that does not exist (``workflow.org.units``, ``within=``).
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from web.database import get_session
from web.pages.common import int_arg
from web.pages.linkage.scope import in_reach, tops, under
from workflow.models import Membership, Unit, User
from workflow.queries import Page, escape_like, paginate

PAGE_SIZE = 50


def office_reach() -> list[Unit]:
    """The top units of the user's office posts (an office's other roles confer nothing here)."""
    return tops(("office",))


def narrowed(reach: list[Unit]) -> tuple[list[Unit], Unit | None]:
    """``reach`` narrowed to the ``?unit=`` subtree when one is asked for; 404 outside it."""
    unit_id = int_arg("unit")
    if unit_id is None:
        return reach, None
    unit = get_session().get(Unit, unit_id)
    if unit is None or not in_reach(unit, reach):
        abort(404)
    return [unit], unit


def _like(q: str) -> str:
    return f"%{escape_like(q.strip())}%"


def units_page(db: Session, reach: list[Unit], page: int, q: str | None) -> Page:
    """Units in ``reach``, in tree order, one page."""
    stmt = select(Unit).where(under(Unit.path, reach))
    if q:
        like = _like(q)
        stmt = stmt.where(
            or_(Unit.code.ilike(like, escape="\\"), Unit.name.ilike(like, escape="\\"))
        )
    return paginate(db, stmt.order_by(Unit.path), page, PAGE_SIZE)


def users_page(db: Session, reach: list[Unit], page: int, q: str | None) -> Page:
    """Users holding a post in ``reach``, one page (a user without one is not listed)."""
    posted = select(Membership.user_id).join(Unit, Unit.id == Membership.unit_id)
    stmt = select(User).where(User.id.in_(posted.where(under(Unit.path, reach))))
    if q:
        like = _like(q)
        stmt = stmt.where(
            or_(User.username.ilike(like, escape="\\"), User.display_name.ilike(like, escape="\\"))
        )
    return paginate(db, stmt.order_by(User.username), page, PAGE_SIZE)


def posts(users: list[User], reach: list[Unit]) -> dict[int, list[Membership]]:
    """Per user, the posts inside ``reach``: their posts elsewhere are not shown."""
    return {u.id: [m for m in u.memberships if in_reach(m.unit, reach)] for u in users}
