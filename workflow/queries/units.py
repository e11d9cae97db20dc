"""The unit tree as a reader reaches it: top units, children, ancestors, choices, codes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from workflow.models import Unit, User


def child_units(session: Session, unit_id: int) -> list[int]:
    """Ids of the direct children of a unit."""
    return list(
        session.scalars(select(Unit.id).where(Unit.parent_id == unit_id).order_by(Unit.code))
    )


def root_units(user: User) -> list[Unit]:
    """The top units of ``user``'s memberships (a unit inside another one is left out)."""
    units = sorted({m.unit.id: m.unit for m in user.memberships}.values(), key=lambda u: u.path)
    out: list[Unit] = []
    for unit in units:
        if not any(unit.path.startswith(top.path) for top in out):
            out.append(unit)
    return out


def unit_in_reach(session: Session, user: User, unit_id: int) -> Unit | None:
    """The unit if it lies inside one of ``user``'s membership units, else None."""
    unit = session.get(Unit, unit_id)
    if unit is None or not any(unit.path.startswith(r.path) for r in root_units(user)):
        return None
    return unit


def ancestors(session: Session, unit: Unit) -> list[Unit]:
    """The unit's ancestors, root first (for breadcrumbs)."""
    ids = [int(p) for p in unit.path.strip("/").split("/")[:-1] if p]
    found = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


@dataclass
class UnitChoice:
    """A unit offered in a filter, with its depth below the user's top unit."""

    id: int
    name: str
    rel: int


def unit_choices(
    session: Session, user: User, levels: int = 2, limit: int = 300
) -> list[UnitChoice]:
    """The user's top units and the units up to ``levels`` below them, in tree order."""
    out: list[UnitChoice] = []
    for root in root_units(user):
        rows = session.execute(
            select(Unit.id, Unit.name, Unit.depth)
            .where(
                Unit.path.startswith(root.path, autoescape=True), Unit.depth <= root.depth + levels
            )
            .order_by(Unit.path)
            .limit(limit)
        ).all()
        out += [UnitChoice(r.id, r.name, r.depth - root.depth) for r in rows]
    return out[:limit]


def unit_by_code(session: Session, code: str) -> Unit | None:
    """The unit with ``code``, or None (callers check it is in reach)."""
    return session.scalar(select(Unit).where(Unit.code == code))


def reachable_units(session: Session, user: User) -> list[Unit]:
    """The units in ``user``'s reach (the subtrees of their posts), in tree order."""
    roots = root_units(user)
    if not roots:
        return []
    inside = or_(*[Unit.path.startswith(r.path, autoescape=True) for r in roots])
    return list(session.scalars(select(Unit).where(inside).order_by(Unit.path)))


def unit_codes(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """The codes of the given unit ids."""
    rows = session.execute(select(Unit.id, Unit.code).where(Unit.id.in_(list(ids)))).all()
    return dict(rows)  # type: ignore[arg-type]
