"""What an inspection office reaches on the admin pages: the subtrees of its office posts.

Units, users (through their posts) and rounds outside them behave as if they did not
exist: the lists (``workflow.queries.office_units`` / ``office_users``) leave them out and
``?unit=`` outside answers 404.  Forms naming one get the answer for a code that does not
exist (``workflow.org.units``, ``within=``).
"""

from __future__ import annotations

from flask import abort

from web.database import get_session
from web.pages.common import int_arg
from web.pages.linkage.scope import in_reach, tops
from workflow.models import Membership, Unit, User


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


def posts(users: list[User], reach: list[Unit]) -> dict[int, list[Membership]]:
    """Per user, the posts inside ``reach``: their posts elsewhere are not shown."""
    return {u.id: [m for m in u.memberships if in_reach(m.unit, reach)] for u in users}
