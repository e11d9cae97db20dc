"""Feishu/Lark custom bots (飞书自定义机器人).

Request: ``POST https://open.feishu.cn/open-apis/bot/v2/hook/<token>`` with an interactive
card whose one element is markdown; with 签名校验 on, the body also carries ``timestamp``
(Unix seconds) and ``sign`` = ``base64(HmacSHA256(key="<timestamp>\\n<secret>", msg=""))``,
and the platform refuses a timestamp more than an hour off.  @ with
``<at id=<open_id>></at>`` in the markdown.  Answer: ``{"code": 0, "msg": "success"}`` (older
bots: ``{"StatusCode": 0}``); 11232 means sending too fast (100 a minute, 5 a second), 19021
a bad signature or stale timestamp, 19022 an address not allowed, 19024 a missing keyword,
9499 a malformed request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from notifications.channels import Context, Delivery
from notifications.channels.robots import Robot, judge, markdown, post_json, robot_of

TOLERANCE_SECONDS = 3600
RATE_LIMITED = {11232: 60.0}
PERMANENT = frozenset({19021, 19022, 19024, 9499})


def sign(secret: str, timestamp: str) -> str:
    """The 签名校验 signature: HMAC-SHA256 keyed by ``timestamp\\nsecret`` over nothing."""
    mac = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def verify(secret: str, timestamp: str, signature: str, now: float) -> bool:
    """Whether a received body is signed with ``secret`` and fresh (for receivers, tests)."""
    try:
        fresh = abs(now - int(timestamp)) <= TOLERANCE_SECONDS
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp), signature)


def payload(delivery: Delivery, ctx: Context, robot: Robot, timestamp: str) -> dict[str, Any]:
    """The card (title and markdown), signed when the robot has a secret."""
    title, text = markdown(delivery, ctx)
    if robot.at:
        text += "\n" + " ".join(f"<at id={user}></at>" for user in robot.at)
    body: dict[str, Any] = {
        "msg_type": "interactive",
        "card": {
            "header": {"title": {"tag": "plain_text", "content": title}},
            "elements": [{"tag": "markdown", "content": text}],
        },
    }
    if robot.secret:
        body.update(timestamp=timestamp, sign=sign(robot.secret, timestamp))
    return body


class FeishuChannel:
    """Posts the card; a non-zero ``code`` (or ``StatusCode``) is a failure."""

    name = "feishu"
    transactional = False

    def send(self, delivery: Delivery, ctx: Context) -> None:
        robot = robot_of(delivery)
        timestamp = str(int(ctx.wall().timestamp()))
        answer = post_json(robot.url, payload(delivery, ctx, robot, timestamp), ctx, self.name)
        code = int(answer.get("code", answer.get("StatusCode", -1)))
        message = str(answer.get("msg", answer.get("StatusMessage", "")))
        judge(self.name, code, message, RATE_LIMITED, PERMANENT)


CHANNEL = FeishuChannel()
