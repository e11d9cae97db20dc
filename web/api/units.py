"""``/api/v1/units``: the unit tree, a subtree's progress and its statistics.

The figures come from :mod:`workflow.queries`, the same functions the web board calls, so
the API and the board never disagree.  A unit outside the caller's reach is 404.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from web.api.auth import current_api_user, prepare
from web.api.errors import ApiError
from web.api.schemas import ProgressSchema, ScopeArgsSchema, StatisticsSchema, UnitSchema
from web.database import get_session, now
from workflow import queries
from workflow.models import Unit, User

blp = Blueprint("api_units", __name__, url_prefix="/api/v1/units", description="The unit tree")
prepare(blp)


def _unit_in_reach(session: Any, user: User, code: str) -> Unit:
    """The unit with ``code`` if it is in the caller's reach; 404 otherwise."""
    unit = queries.unit_by_code(session, code)
    if unit is None or queries.unit_in_reach(session, user, unit.id) is None:
        raise ApiError(404, _l("no unit %(code)s in your scope", code=repr(code)))
    return unit


def _round_id(session: Any, code: str | None) -> int | None:
    """The id of the round with ``code`` (None without one); 422 when there is none."""
    if not code:
        return None
    found = queries.round_id_by_code(session, code)
    if found is None:
        raise ApiError(422, f"no round with code {code!r}", fields={"round": ["no such code"]})
    return found


def _ref(unit: Unit) -> dict[str, Any]:
    """A unit as referenced from a figure."""
    return {"id": unit.id, "code": unit.code, "name": unit.name}


def _row(p: queries.Progress, unit: Unit | None = None) -> dict[str, Any]:
    """A progress line for the API."""
    return {
        "unit": _ref(unit) if unit else {"id": p.unit_id, "code": p.code, "name": p.name},
        "total": p.total,
        "completed": p.done,
        "substantially_completed": p.substantially,
        "not_completed": p.not_completed,
        "completion_rate": round(p.rate, 4),
        "overdue": p.overdue,
        "yellow": p.yellow,
        "red": p.red,
        "ongoing": p.ongoing,
    }


@blp.get("/", strict_slashes=False)  # the collection answers with and without the slash
@blp.response(200, UnitSchema(many=True))
def list_units() -> list[dict[str, Any]]:
    """The units in your reach (the subtrees of your posts), in tree order."""
    session, user = get_session(), current_api_user()
    units = queries.reachable_units(session, user)
    codes = {u.id: u.code for u in units}
    if any(u.parent_id and u.parent_id not in codes for u in units):
        parents = {u.parent_id for u in units if u.parent_id and u.parent_id not in codes}
        codes.update(queries.unit_codes(session, parents))
    return [
        {
            "id": u.id,
            "code": u.code,
            "name": u.name,
            "level": u.level,
            "depth": u.depth,
            "parent_code": codes.get(u.parent_id) if u.parent_id else None,
        }
        for u in units
    ]


@blp.get("/<string:code>/progress")
@blp.arguments(ScopeArgsSchema, location="query")
@blp.response(200, ProgressSchema)
def unit_progress(args: dict[str, Any], code: str) -> dict[str, Any]:
    """Progress of a subtree and of each child unit (the web board's numbers)."""
    session, user, at = get_session(), current_api_user(), now()
    unit = _unit_in_reach(session, user, code)
    f = queries.Filters(round_id=_round_id(session, args.get("round")))
    own = queries.unit_progress(session, user, [unit.id], at, f)
    kids = queries.unit_progress(session, user, queries.child_units(session, unit.id), at, f)
    return {
        "unit": _ref(unit),
        "total": _row(own[0], unit),
        "children": [_row(p) for p in kids],
    }


def _dim(rows: list[tuple[str, int, int]]) -> list[dict[str, Any]]:
    """One statistics dimension's (key, all, done) rows for the API."""
    return [
        {
            "key": key,
            "label": key,
            "total": n,
            "completed": done,
            "not_completed": n - done,
            "completion_rate": round(done / n, 4) if n else 0.0,
        }
        for key, n, done in rows
    ]


@blp.get("/<string:code>/statistics")
@blp.arguments(ScopeArgsSchema, location="query")
@blp.response(200, StatisticsSchema)
def unit_statistics(args: dict[str, Any], code: str) -> dict[str, Any]:
    """Statistics of a subtree, optionally for one round, one list per dimension."""
    session, user, at = get_session(), current_api_user(), now()
    unit = _unit_in_reach(session, user, code)
    f = queries.Filters(unit_id=unit.id, round_id=_round_id(session, args.get("round")))
    stats = queries.statistics(session, user, at, f)
    kids = queries.unit_progress(session, user, queries.child_units(session, unit.id), at, f)
    total = _row(stats.progress, unit)
    total.update(
        key="total",
        label="合计",
        rules_written=stats.rules_written,
        money_recovered=str(stats.money_recovered),
        people_handled=stats.people_handled,
    )
    units = [{**_row(p), "key": p.code, "label": p.name} for p in kids]
    for row in units:
        row.pop("unit")
        row.pop("ongoing")
    total.pop("unit")
    total.pop("ongoing")
    return {
        "unit": _ref(unit),
        "round": args.get("round"),
        "dimensions": {
            "total": [total],
            "category": _dim(stats.by_category),
            "round": _dim(stats.by_round),
            "unit": units,
        },
    }
