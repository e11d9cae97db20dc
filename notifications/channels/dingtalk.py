"""DingTalk custom robots (钉钉自定义机器人; 浙政钉 and other DingTalk-based platforms).

Request: ``POST <webhook>&timestamp=<ms>&sign=<sign>`` with a ``markdown`` message; the
sign (加签) is ``base64(HmacSHA256(secret, "<timestamp>\\n<secret>"))``, URL-encoded, and the
platform refuses a timestamp more than an hour off.  @ by mobile: the numbers go in
``at.atMobiles`` and must also appear as ``@<mobile>`` in the text.  Answer:
``{"errcode": 0, "errmsg": "ok"}``; 410100 (and the older 130101) mean "sent too fast" —
the robot is throttled for up to ten minutes —, 90030 the platform's sending quota;
300001 (no such token), 310000 (sign, keyword or IP rule not met) and 400101/400102 (robot
stopped or deleted) cannot be fixed by retrying.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from typing import Any

from notifications.channels import Context, Delivery
from notifications.channels.robots import Robot, judge, markdown, post_json, robot_of

TOLERANCE_MS = 3_600_000
RATE_LIMITED = {410100: 600.0, 130101: 600.0, 90030: 3600.0}
PERMANENT = frozenset({300001, 310000, 400101, 400102})


def sign(secret: str, timestamp_ms: str) -> str:
    """The 加签 signature (base64, not yet URL-encoded)."""
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def verify(secret: str, timestamp_ms: str, signature: str, now_ms: int) -> bool:
    """Whether a received request is signed with ``secret`` and fresh (for receivers, tests)."""
    try:
        fresh = abs(now_ms - int(timestamp_ms)) <= TOLERANCE_MS
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp_ms), signature)


def signed_url(robot: Robot, timestamp_ms: str) -> str:
    """The webhook URL, with ``timestamp`` and ``sign`` when the robot has a secret."""
    if not robot.secret:
        return robot.url
    query = urllib.parse.urlencode(
        {"timestamp": timestamp_ms, "sign": sign(robot.secret, timestamp_ms)}
    )
    return robot.url + ("&" if "?" in robot.url else "?") + query


def payload(delivery: Delivery, ctx: Context, robot: Robot) -> dict[str, Any]:
    """The markdown message, the @-mentions written into its text as DingTalk requires."""
    title, text = markdown(delivery, ctx)
    if robot.at:
        text += "\n\n" + " ".join(f"@{mobile}" for mobile in robot.at)
    return {
        "msgtype": "markdown",
        "markdown": {"title": title[:64], "text": text},
        "at": {"atMobiles": list(robot.at), "isAtAll": False},
    }


class DingTalkChannel:
    """Posts the markdown message; a non-zero ``errcode`` is a failure."""

    name = "dingtalk"
    transactional = False

    def send(self, delivery: Delivery, ctx: Context) -> None:
        robot = robot_of(delivery)
        timestamp = str(int(ctx.wall().timestamp() * 1000))
        answer = post_json(signed_url(robot, timestamp), payload(delivery, ctx, robot), ctx,
                           self.name)  # fmt: skip
        code = int(answer.get("errcode", -1))
        judge(self.name, code, str(answer.get("errmsg", "")), RATE_LIMITED, PERMANENT)


CHANNEL = DingTalkChannel()
