"""WeCom group robots (企业微信群机器人).

Request: ``POST https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=<key>`` with a
``markdown`` message (``{"msgtype": "markdown", "markdown": {"content": …}}``, at most 4096
bytes); the key in the URL is the only credential (no signature).  @ a member with
``<@userid>`` in the markdown.  Answer: ``{"errcode": 0, "errmsg": "ok"}``; 45009 means the
robot's limit (20 messages a minute) was hit, 93000 an invalid webhook URL (the robot was
removed), 40008 a message type the robot does not take.
"""

from __future__ import annotations

from typing import Any

from notifications.channels import Context, Delivery
from notifications.channels.robots import Robot, judge, markdown, post_json, robot_of

MAX_BYTES = 4096
RATE_LIMITED = {45009: 60.0}
PERMANENT = frozenset({93000, 40008})


def payload(delivery: Delivery, ctx: Context, robot: Robot) -> dict[str, Any]:
    """The markdown message with ``<@userid>`` mentions, cut to the robot's 4096 bytes."""
    _title, text = markdown(delivery, ctx)
    if robot.at:
        text += "\n" + " ".join(f"<@{user}>" for user in robot.at)
    return {"msgtype": "markdown", "markdown": {"content": _cut(text, MAX_BYTES)}}


def _cut(text: str, limit: int) -> str:
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    return raw[: limit - 3].decode("utf-8", "ignore") + "…"


class WeComChannel:
    """Posts the markdown message; a non-zero ``errcode`` is a failure."""

    name = "wecom"
    transactional = False

    def send(self, delivery: Delivery, ctx: Context) -> None:
        robot = robot_of(delivery)
        answer = post_json(robot.url, payload(delivery, ctx, robot), ctx, self.name)
        code = int(answer.get("errcode", -1))
        judge(self.name, code, str(answer.get("errmsg", "")), RATE_LIMITED, PERMANENT)


CHANNEL = WeComChannel()
