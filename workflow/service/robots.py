"""A unit's group-chat robots: adding, switching off and removing them, within an office's reach.

A robot (DingTalk, WeCom or Feishu) posts into one group chat; configured on a unit, it is
told about that unit's issues — and, with ``subtree``, about those of every unit below it —
by the outbox (:mod:`workflow.outbox`).  Problem leads are never posted to a group.
Every change is audited.  Must not import flask or ``notifications``.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from workflow import audit
from workflow.messages import N_, Text
from workflow.models import Unit, UnitRobot, User

KINDS = ("dingtalk", "wecom", "feishu")
NAME_MAX, URL_MAX, SECRET_MAX, AT_MAX = 100, 500, 200, 20

ROBOT_KIND_BAD = Text("robot_kind_bad", N_("robot type '%(kind)s': one of %(kinds)s"))
ROBOT_NAME_BAD = Text("robot_name_bad", N_("robot name: 1 to %(max)s characters"))
ROBOT_URL_BAD = Text(
    "robot_url_bad", N_("webhook address: an http(s) URL of at most %(max)s characters")
)
ROBOT_SECRET_BAD = Text("robot_secret_bad", N_("signing secret: at most %(max)s characters"))
ROBOT_AT_BAD = Text(
    "robot_at_bad", N_("@ list: at most %(max)s mobile numbers or user ids, each up to 64")
)
ROBOT_OUTSIDE = Text(
    "robot_outside", N_("unit %(code)s: outside the units your inspection office manages")
)
ROBOT_NO_UNIT = Text("robot_no_unit", N_("unit: choose one of your units (no unit %(code)s)"))
ROBOT_MISSING = Text("robot_missing", N_("no robot %(id)s among your units"))


class RobotError(ValueError):
    """Bad robot settings; the argument is a Message naming the field."""

    def __init__(self, field: str, message: object) -> None:
        super().__init__(message)
        self.field = field


def check(kind: str, name: str, url: str, secret: str | None, at: Sequence[str]) -> None:
    """Raise RobotError for the first setting that is not acceptable."""
    if kind not in KINDS:
        raise RobotError("kind", ROBOT_KIND_BAD(kind=kind, kinds=list(KINDS)))
    if not name.strip() or len(name) > NAME_MAX:
        raise RobotError("name", ROBOT_NAME_BAD(max=NAME_MAX))
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > URL_MAX:
        raise RobotError("url", ROBOT_URL_BAD(max=URL_MAX))
    if secret and len(secret) > SECRET_MAX:
        raise RobotError("secret", ROBOT_SECRET_BAD(max=SECRET_MAX))
    if len(at) > AT_MAX or any(not a or len(a) > 64 for a in at):
        raise RobotError("at", ROBOT_AT_BAD(max=AT_MAX))


def _inside(unit: Unit, reach: Sequence[Unit]) -> bool:
    return any(unit.path.startswith(top.path) for top in reach)


def add_robot(
    session: Session,
    actor: User,
    reach: Sequence[Unit],
    unit: Unit,
    *,
    kind: str,
    name: str,
    url: str,
    now: datetime,
    secret: str | None = None,
    at: Sequence[str] = (),
    subtree: bool = True,
    escalations_only: bool = True,
) -> UnitRobot:
    """Configure a robot on ``unit`` (inside the office's ``reach``); audited."""
    if not _inside(unit, reach):
        raise RobotError("unit", ROBOT_OUTSIDE(code=unit.code))
    at = [a.strip() for a in at if a.strip()]
    check(kind, name.strip(), url.strip(), secret, at)
    robot = UnitRobot(unit_id=unit.id, kind=kind, name=name.strip(), url=url.strip(),
                      secret=secret or None, at=at, subtree=subtree,
                      escalations_only=escalations_only, active=True, created_at=now)  # fmt: skip
    session.add(robot)
    session.flush()
    _audit(session, actor, robot, "robot_add", now)
    return robot


def robot_in_reach(session: Session, robot_id: int, reach: Sequence[Unit]) -> UnitRobot:
    """The robot ``robot_id`` if its unit is inside ``reach``; RobotError otherwise."""
    robot = session.get(UnitRobot, robot_id)
    unit = session.get(Unit, robot.unit_id) if robot else None
    if robot is None or unit is None or not _inside(unit, reach):
        raise RobotError("robot", ROBOT_MISSING(id=robot_id))
    return robot


def set_active(
    session: Session, actor: User, robot: UnitRobot, active: bool, now: datetime
) -> None:
    """Switch a robot on or off (its queued messages then fail or go out); audited."""
    robot.active = active
    _audit(session, actor, robot, "robot_on" if active else "robot_off", now)


def _audit(session: Session, actor: User, robot: UnitRobot, action: str, now: datetime) -> None:
    # the address and secret are credentials: the trail names the robot, never them
    audit.append(session, at=now, actor_id=actor.id, actor_role="office", actor_unit_id=robot.unit_id,
                 action=action, data={"robot": robot.id, "kind": robot.kind, "name": robot.name})  # fmt: skip
