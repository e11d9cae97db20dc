"""Reverse checks (反向抽查): a uniform random sample of closed items in a checker's reach.

Reach: the subtree of each of the checker's spot-check posts (the whole province for a
province team) and the targets of every inspection team they serve on.  Left out is only
what 回避 forbids (:func:`workflow.org.scope.is_recused`): items whose lead or supporting
unit is the checker's own unit or one above it — never the checker's whole subtree.

Sampled in SQL at a cost that does not grow with the table: when few closed items are in
reach (at most :data:`SMALL`) their ids are read and sampled exactly; otherwise each draw
is one range scan of :data:`WINDOW` rows in the ``(stage, sample_key)`` index from a random
key (``Issue.sample_key`` is random and fixed at insert), so a province of a million issues
costs the same handful of index probes.  An empty sample says why (:attr:`Sample.reason`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, exists, not_, or_, select
from sqlalchemy.orm import Session

from workflow.messages import N_, Message, Text
from workflow.models import Issue, SupportingUnit, Team, TeamMember, TeamTarget, Unit, User
from workflow.org.scope import path_range
from workflow.queries.common import COUNTED_KIND

SMALL = 2000  # up to this many candidates are sampled exactly from their ids
KEY_SPACE = 2**31
# a draw picks among this many consecutive keys: an item's chance is the sum of that many
# random gaps, so it is within about ±12 % (1/√64) of uniform, at one index range scan
WINDOW = 64
NO_POST = Text("reverse_no_post", N_("you hold no spot-check post and serve on no inspection team"))
NONE_CLOSED = Text("reverse_none_closed", N_("no item in your reach is closed yet"))
ALL_RECUSED = Text(
    "reverse_all_recused", N_("every closed item in your reach is one 回避 keeps from you")
)


@dataclass
class Sample:
    """The sampled items, the units they were drawn from, and why it is empty if it is."""

    issues: list[Issue] = field(default_factory=list)
    reach: list[Unit] = field(default_factory=list)
    reason: Message | None = None


def reach_of(session: Session, user: User) -> tuple[list[Unit], list[Unit]]:
    """(the units whose subtrees the checker reaches, the units 回避 applies to)."""
    posts = [m.unit for m in user.memberships if m.role == "spot_check"]
    targets = list(session.scalars(
        select(Unit).join(TeamTarget, TeamTarget.unit_id == Unit.id)
        .join(TeamMember, TeamMember.team_id == TeamTarget.team_id)
        .join(Team, Team.id == TeamMember.team_id)
        .where(TeamMember.user_id == user.id)
    ).unique())  # fmt: skip
    tops: list[Unit] = []
    for unit in sorted({u.id: u for u in posts + targets}.values(), key=lambda u: u.path):
        if not any(unit.path.startswith(t.path) for t in tops):
            tops.append(unit)
    own = {m.unit.id: m.unit for m in user.memberships}  # every post of theirs recuses them
    return tops, list(own.values())


def _recusal(own: list[Unit]) -> ColumnElement[bool]:
    """SQL: the issue's lead or a supporting unit is one of ``own`` or above one of them."""
    paths = sorted({p for u in own for p in _prefixes(u.path)})
    ids = sorted({int(x) for u in own for x in u.path.strip("/").split("/") if x})
    return or_(
        Issue.unit_path.in_(paths),
        exists().where(SupportingUnit.issue_id == Issue.id, SupportingUnit.unit_id.in_(ids)),
    )


def _prefixes(path: str) -> list[str]:
    """``/1/5/23/`` → ``/1/``, ``/1/5/``, ``/1/5/23/``."""
    parts = [p for p in path.strip("/").split("/") if p]
    return ["/" + "/".join(parts[: k + 1]) + "/" for k in range(len(parts))]


def reverse_check(session: Session, user: User, n: int = 10, seed: int | None = None) -> Sample:
    """Up to ``n`` closed items drawn uniformly from the checker's reach, 回避 left out."""
    tops, own = reach_of(session, user)
    if not tops:
        return Sample(reason=NO_POST())
    closed = and_(Issue.kind == COUNTED_KIND, Issue.restricted.is_(False), Issue.stage == "closed",
                  or_(*[path_range(Issue.unit_path, t.path) for t in tops]))  # fmt: skip
    allowed = and_(closed, not_(_recusal(own)))
    rng = random.Random(seed)
    ids = list(session.scalars(select(Issue.id).where(allowed).limit(SMALL + 1)))
    if len(ids) > SMALL:
        ids = _seek_sample(session, allowed, n, rng)
    else:
        ids = rng.sample(ids, min(n, len(ids)))
    if not ids:
        reason = (
            ALL_RECUSED()
            if session.scalar(select(Issue.id).where(closed).limit(1))
            else NONE_CLOSED()
        )
        return Sample(reach=tops, reason=reason)
    issues = list(session.scalars(select(Issue).where(Issue.id.in_(ids)).order_by(Issue.id)))
    return Sample(issues, tops)


def _seek_sample(session: Session, allowed: ColumnElement[bool], n: int,
                 rng: random.Random) -> list[int]:  # fmt: skip
    """``n`` distinct ids: per draw, a window of :data:`WINDOW` items read in key order from a
    random key (wrapping past the last), and one of them picked at random."""
    chosen: list[int] = []
    for _ in range(n * 3):  # a repeat is drawn again; give up after 3n draws
        start = rng.randrange(KEY_SPACE)
        window = list(session.scalars(select(Issue.id).where(allowed, Issue.sample_key >= start)
                                      .order_by(Issue.sample_key).limit(WINDOW)))  # fmt: skip
        if len(window) < WINDOW:  # past the last key: wrap around to the first ones
            window += session.scalars(select(Issue.id).where(allowed).order_by(Issue.sample_key)
                                      .limit(WINDOW - len(window)))  # fmt: skip
        if window:
            found = rng.choice(window)
            if found not in chosen:
                chosen.append(found)
        if len(chosen) == n:
            break
    return chosen


def reverse_check_sample(
    session: Session, user: User, n: int = 10, seed: int | None = None
) -> list[Issue]:
    """The sampled items only (see :func:`reverse_check`)."""
    return reverse_check(session, user, n, seed).issues
