"""A realistic demo province: units, people for every role, rounds, issues in every stage.

Owns only demo data.  Everything is written through the same service calls the web app
uses (``open_issue`` and ``act``), at instants in the past, so the timeline, deadlines,
audit chain and notifications are real.  Deterministic for a given seed.  The parts live
beside it: the catalogue of names (``catalogue``), the unit tree, people and rounds
(``skeleton``, ``people``), the issues' lives (``lifecycle``) and the article's linkage
story (``linkage_story``).  Must not import flask.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.clock.calendar import WorkCalendar
from workflow.db import Database
from workflow.demo.catalogue import DEMO_PASSWORD
from workflow.demo.lifecycle import Lifecycle
from workflow.demo.people import People, province_unit
from workflow.demo.skeleton import Skeleton, build_skeleton
from workflow.models import Issue, Round, Unit

__all__ = ["DEMO_PASSWORD", "Demo", "build", "is_empty"]

T = TypeVar("T")


@dataclass
class Demo:
    """What the demo created, for printing."""

    accounts: list[tuple[str, str, str]] = field(default_factory=list)  # (username, role, unit)
    units: int = 0
    issues: int = 0
    actions: int = 0
    notes: list[str] = field(default_factory=list)


def is_empty(session: Session) -> bool:
    """Whether the database holds no units yet."""
    return not session.scalar(select(func.count()).select_from(Unit))


def build(
    db: Database,
    now: datetime,
    seed: int = 2026,
    issues_per_county: int = 30,
    max_counties: int | None = None,
) -> Demo:
    """Create the demo province as of ``now``, one transaction per county.

    Small transactions keep the ORM session small (a flush walks every object it holds)
    and SQLite's write lock short.
    """
    with db.writing() as session:
        skeleton, people = build_skeleton(session, now)
    demo = Demo(accounts=skeleton.accounts, units=skeleton.units)
    rng = random.Random(seed)
    for n, county_id in enumerate(skeleton.counties[:max_counties]):
        with db.writing() as session:
            demo.actions += _county_issues(
                session, rng, now, people, skeleton, county_id, n, issues_per_county
            )
    with db.writing() as session:
        demo.actions += _provincial_issues(session, rng, now, people, skeleton)
    with db.writing() as session:
        # the source article's story of upper-lower linkage, played through workflow.linkage
        from workflow.demo.linkage_story import build_story

        people.session = session
        demo.notes = build_story(session, now, people.get(province_unit(session), "office")).notes
        demo.issues = session.scalar(select(func.count()).select_from(Issue)) or 0
    return demo


def _county_issues(
    session: Session,
    rng: random.Random,
    now: datetime,
    people: People,
    skeleton: Skeleton,
    county_id: int,
    n: int,
    issues_per_county: int,
) -> int:
    """The rectification issues of the ``n``-th county's units; how many actions it took."""
    people.session = session
    story = Lifecycle(session, rng, now, people, WorkCalendar.from_session(session))
    story.n = n * issues_per_county
    county = _get(session, Unit, county_id)
    units = [_get(session, Unit, u) for u in skeleton.townships[county_id]]
    rounds = [_get(session, Round, r) for r in skeleton.rounds]
    for k in range(issues_per_county):
        unit = units[k % len(units)]
        rnd = rounds[0] if k % 2 == 0 else rounds[1 + n % 2]
        story.rectification(unit, county, rnd)
    return story.actions


def _provincial_issues(
    session: Session, rng: random.Random, now: datetime, people: People, skeleton: Skeleton
) -> int:
    """The province's common problem and the cities' problem leads; how many actions."""
    people.session = session
    story = Lifecycle(session, rng, now, people, WorkCalendar.from_session(session))
    counties = [_get(session, Unit, c) for c in skeleton.counties]
    cities = [_get(session, Unit, c) for c in skeleton.cities]
    rounds = [_get(session, Round, r) for r in skeleton.rounds]
    story.common_problem(counties, rounds[0])
    for n in range(12):
        story.lead(cities[n % len(cities)], rounds[0], n)
    return story.actions


def _get(session: Session, model: type[T], ident: int) -> T:
    """Load a row the demo itself created (it must exist)."""
    row = session.get(model, ident)
    assert row is not None
    return row
