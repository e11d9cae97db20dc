"""The demo province's skeleton: the unit tree, its people, and the rounds with their teams.

Built in one transaction before any issue; :func:`build_skeleton` returns the ids later
transactions load again.  Demo data only; must not import flask.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.definition.registry import sync_definitions
from workflow.demo.catalogue import CITIES, DEPARTMENTS, TOWNSHIP_NAMES
from workflow.demo.people import Account, People, add_people
from workflow.models import Round, Team, TeamMember, TeamTarget, Unit
from workflow.org.units import add_unit


@dataclass
class Skeleton:
    """What the skeleton created, by id, for the later transactions (and what to print)."""

    counties: list[int]
    cities: list[int]
    townships: dict[int, list[int]]  # county id → its townships' and departments' ids
    rounds: list[int]
    units: int  # how many units there are
    accounts: list[Account]


def build_skeleton(session: Session, now: datetime) -> tuple[Skeleton, People]:
    """Units, people and rounds (one transaction)."""
    sync_definitions(session, now - timedelta(days=400))
    people = People(session, now)
    province, cities, counties, townships = _units(session)
    units = session.scalar(select(func.count()).select_from(Unit)) or 0
    # people: the province office, a supervisor and leader at each level, unit staff
    accounts = add_people(people, province, cities, counties, townships)
    session.flush()
    rounds = _rounds(session, province, cities, counties, people, now)
    skeleton = Skeleton(
        counties=[c.id for c in counties],
        cities=[c.id for c in cities],
        townships={c: [u.id for u in us] for c, us in townships.items()},
        rounds=[r.id for r in rounds],
        units=units,
        accounts=accounts,
    )
    return skeleton, people


def _units(session: Session) -> tuple[Unit, list[Unit], list[Unit], dict[int, list[Unit]]]:
    """The province, its cities and counties, and each county's townships and departments."""
    province = add_unit(session, "ZJ", "浙江省", "province")
    counties: list[Unit] = []
    townships: dict[int, list[Unit]] = {}
    cities: list[Unit] = []
    for code, name, county_names in CITIES:
        city = add_unit(session, code, name, "city", "ZJ")
        cities.append(city)
        for n, cname in enumerate(county_names, 1):
            county = add_unit(session, f"{code}-{n:02d}", cname, "county", code)
            counties.append(county)
            townships[county.id] = [
                add_unit(
                    session, f"{county.code}-{t:02d}", f"{cname}{tname}", "township", county.code
                )
                for t, tname in enumerate(TOWNSHIP_NAMES[: 3 + n % 3], 1)
            ] + [
                add_unit(
                    session, f"{county.code}-{dcode}", f"{cname}{dname}", "department", county.code
                )
                for dcode, dname in DEPARTMENTS
            ]
    return province, cities, counties, townships


def _rounds(
    session: Session,
    province: Unit,
    cities: list[Unit],
    counties: list[Unit],
    people: People,
    now: datetime,
) -> list[Round]:
    """The provincial round, a city round reusing it, a county relay round; teams."""
    today = now.date()
    r1 = Round(
        code="ZJ-14-6",
        name="十四届省委第六轮巡视",
        kind="xunshi",
        level="province",
        organiser_unit_id=province.id,
        starts_on=today - timedelta(days=300),
        ends_on=today - timedelta(days=240),
    )
    r2 = Round(
        code="SX-8-1",
        name="八届绍兴市委第一轮巡察",
        kind="xuncha",
        level="city",
        organiser_unit_id=cities[5].id,
        starts_on=today - timedelta(days=220),
        ends_on=today - timedelta(days=180),
    )
    r3 = Round(
        code="TZ-06-R2",
        name="三门县委第二轮接力式巡察",
        kind="xuncha",
        level="county",
        organiser_unit_id=_by_code(counties, "TZ-06").id,
        starts_on=today - timedelta(days=150),
        ends_on=today - timedelta(days=110),
    )
    session.add_all([r1, r2, r3])
    session.flush()
    r3.previous_round_id = r1.id
    _teams(session, [r1, r2, r3], cities, counties, people)
    return [r1, r2, r3]


def _teams(
    session: Session, rounds: list[Round], cities: list[Unit], counties: list[Unit], people: People
) -> None:
    """One team per round, with a spot-checker of another city and the round's targets."""
    sx_counties = [c for c in counties if c.code.startswith("SX-")][:3]
    tz06_units = session.scalars(
        select(Unit).where(Unit.parent_id == _by_code(counties, "TZ-06").id).order_by(Unit.id)
    ).all()[:2]
    targets_of = [cities[:4], sx_counties, list(tz06_units)]
    for n, (rnd, targets) in enumerate(zip(rounds, targets_of, strict=True)):
        team = Team(round_id=rnd.id, name=f"第{n + 1}巡视（巡察）组")
        session.add(team)
        session.flush()
        member = people.get(cities[(n + 6) % len(cities)], "spot_check")
        session.add(TeamMember(team_id=team.id, user_id=member.id))
        for unit in targets:
            session.add(
                TeamTarget(
                    team_id=team.id, unit_id=unit.id, starts_on=rnd.starts_on, ends_on=rnd.ends_on
                )
            )
    session.flush()


def _by_code(units: list[Unit], code: str) -> Unit:
    """The unit of ``units`` with ``code``."""
    return next(u for u in units if u.code == code)
