"""The demo's people: accounts for every role at every level, created cheaply.

The province office, leader, discipline commission, supervisor and spot-checker; an
office, supervisor and spot-checker in each city; a supervisor in each county; a clerk
and a head in each township and department.  Demo data only; must not import flask.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.demo.catalogue import DEMO_PASSWORD
from workflow.models import Membership, Unit, User
from workflow.org.units import hash_password

Account = tuple[str, str, str]  # (username, role, unit), printed after loading


class People:
    """Creates demo users cheaply (one argon2 hash shared by every demo account)."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session, self.now = session, now
        self.hash = hash_password(DEMO_PASSWORD)
        self.by_unit_role: dict[tuple[int, str], int] = {}

    def add(self, username: str, name: str, role: str, unit: Unit) -> User:
        """Create a user holding ``role`` in ``unit`` (the last one per unit and role is kept)."""
        user = User(
            username=username,
            display_name=name,
            password_hash=self.hash,
            email=None,  # the demo sends no e-mail: in-app notifications only
            created_at=self.now,
            preferences={},
        )
        self.session.add(user)
        self.session.flush()
        user.memberships.append(Membership(user_id=user.id, unit_id=unit.id, role=role, unit=unit))
        self.by_unit_role[(unit.id, role)] = user.id
        return user

    def get(self, unit: Unit, role: str) -> User:
        """The demo user holding ``role`` in ``unit`` (it must exist)."""
        user = self.session.get(User, self.by_unit_role[(unit.id, role)])
        assert user is not None
        return user


def province_unit(session: Session) -> Unit:
    """The demo province (浙江省, code ZJ)."""
    unit = session.scalar(select(Unit).where(Unit.code == "ZJ"))
    assert unit is not None
    return unit


def add_people(
    people: People,
    province: Unit,
    cities: list[Unit],
    counties: list[Unit],
    townships: dict[int, list[Unit]],
) -> list[Account]:
    """Create everyone; the accounts worth printing (the province's and a sample below)."""
    accounts: list[Account] = []
    for username, name, role in [
        ("office", "省委巡视办 王主任", "office"),
        ("leader", "省委巡视工作领导小组 李组长", "leader"),
        ("discipline", "省纪委监委 陈处长", "discipline"),
        ("supervisor", "省督办 赵处长", "supervisor"),
        ("checker", "省专项督查组 周组员", "spot_check"),
    ]:
        people.add(username, name, role, province)
        accounts.append((username, role, f"{province.code} {province.name}"))
    _add_staff(people, cities, counties, townships)
    hz1 = counties[0]
    first = townships[hz1.id][0]
    return accounts + [
        (f"{first.code.lower()}.clerk", "unit_user", f"{first.code} {first.name}"),
        (f"{first.code.lower()}.head", "unit_head", f"{first.code} {first.name}"),
        (f"{hz1.code.lower()}.super", "supervisor", f"{hz1.code} {hz1.name}"),
        ("hz.office", "office", "HZ 杭州市"),
        ("nb.checker", "spot_check", "NB 宁波市"),
    ]


def _add_staff(
    people: People, cities: list[Unit], counties: list[Unit], townships: dict[int, list[Unit]]
) -> None:
    """The people of the cities, counties and their townships and departments."""
    for city in cities:
        low = city.code.lower()
        people.add(f"{low}.office", f"{city.name}委巡察办", "office", city)
        people.add(f"{low}.super", f"{city.name}督办", "supervisor", city)
        people.add(f"{low}.checker", f"{city.name}督查组", "spot_check", city)
    for county in counties:
        low = county.code.lower()
        people.add(f"{low}.super", f"{county.name}督办", "supervisor", county)
        for unit in townships[county.id]:
            ul = unit.code.lower()
            people.add(f"{ul}.clerk", f"{unit.name}经办人", "unit_user", unit)
            people.add(f"{ul}.head", f"{unit.name}主要负责人", "unit_head", unit)
