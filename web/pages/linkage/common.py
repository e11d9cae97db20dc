"""The 上下联动 blueprint and what its views share: running engine calls, answering forms,
reading form values.

A refusal of a team member or target (回避) is committed, so its denied event stays on
record; any other engine failure is rolled back and shown inline (422).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from flask import Blueprint, make_response, redirect
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from web.database import get_session
from web.htmx import is_htmx
from web.locale import say
from web.pages.linkage.scope import find_round
from workflow import linkage
from workflow.limits import INT_MAX
from workflow.linkage.common import NO_ROUND
from workflow.models import Round, User
from workflow.service import ServiceError
from workflow.service.fields import ValidationFailed

bp = Blueprint("linkage", __name__, url_prefix="/linkage")

ENGINE_ERRORS = (linkage.Refused, ValueError, LookupError, ServiceError, ValidationFailed)


@dataclass
class Attempt:
    """The outcome of an engine call made under :func:`attempt`."""

    error: str | None = None


@contextmanager
def attempt(keep_denied: bool = False) -> Iterator[Attempt]:
    """Run engine calls: commit on success; on an engine error roll back and note it.

    ``keep_denied``: a refusal (回避) is committed, so its denied event stays on record.
    """
    db, outcome = get_session(), Attempt()
    try:
        yield outcome
    except linkage.Refused as exc:
        db.commit() if keep_denied else db.rollback()
        outcome.error = say(exc.reason)
    except ENGINE_ERRORS as exc:
        db.rollback()
        outcome.error = say(exc)
    else:
        db.commit()


def done(url: str) -> Response:
    """Go to ``url`` after a successful form (htmx: a client-side redirect)."""
    if is_htmx():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)


def status(error: str | None) -> int:
    """422 when a form failed, else 200."""
    return 422 if error else 200


def form_round(value: str | None) -> Round | None:
    """An optional round chosen in a form (an id within reach)."""
    text = (value or "").strip()
    if not text:
        return None
    found = find_round(int(text)) if text.isdigit() and int(text) <= INT_MAX else None
    if found is None:
        raise LookupError(NO_ROUND(round=value))
    return found


def user_named(name: str) -> User:
    """The user with this username (LookupError when there is none)."""
    user = linkage.user_by_username(get_session(), name)
    if user is None:
        raise LookupError(_("No user %(name)s", name=name))
    return user


def form_date(value: str | None) -> date | None:
    """An optional ISO date from a form."""
    text = (value or "").strip()
    return date.fromisoformat(text) if text else None


def whole_number(value: str | None) -> int:
    """A whole number ≥ 0 from a form (at most 12 digits)."""
    text = (value or "").strip()
    if not re.fullmatch(r"\d{1,12}", text):
        raise ValueError(_("Enter a whole number ≥ 0"))
    return int(text)
