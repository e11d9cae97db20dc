"""What the group-chat robots share: the robot's settings, the markdown, one JSON POST, its answer.

DingTalk custom robots (钉钉, and 浙政钉 and the other DingTalk-based government platforms),
WeCom group robots (企业微信) and Feishu/Lark bots (飞书) are each a module beside this one.
A robot belongs to a unit's group chat and is configured on that unit (its webhook URL, a
signing secret where the platform has one, and who to @); the dispatcher hands its settings
to the channel as :attr:`Delivery.robot`.  Every platform answers HTTP 200 with an error
code in the JSON, so a 200 is not yet a delivery: :func:`post_json` returns the answer and
each module reads its own codes — rate limits are retried through the outbox after the wait
the platform asks for (:class:`RateLimited`), configuration errors fail at once
(:class:`PermanentError`), anything else is retried with the usual backoff.
Must not import flask.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from notifications.channels import (
    Context,
    Delivery,
    DeliveryError,
    PermanentError,
    absolute_links,
)

LEVEL_MARKS = {"reminder": "🔔", "yellow": "🟡", "red": "🔴"}


class RateLimited(DeliveryError):
    """The platform refused for sending too fast; retry after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Robot:
    """One robot's settings: where to post, the signing secret, and who to @."""

    url: str
    secret: str | None = None
    at: tuple[str, ...] = ()  # mobiles (DingTalk), user ids (WeCom, Feishu)
    name: str = ""


def robot_of(delivery: Delivery) -> Robot:
    """The robot a delivery goes to; PermanentError if the row names none."""
    if delivery.robot is None:
        raise PermanentError(f"{delivery.channel}: the unit's robot was switched off or removed")
    settings: Mapping[str, Any] = delivery.robot
    url = str(settings.get("url") or "")
    if not url:
        raise PermanentError(f"{delivery.channel}: no robot configured for this notification")
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise PermanentError(f"{delivery.channel}: robot URL must be http(s): {url[:80]}")
    at = settings.get("at") or ()
    return Robot(url, settings.get("secret") or None, tuple(str(a) for a in at),
                 str(settings.get("name") or ""))  # fmt: skip


def markdown(delivery: Delivery, ctx: Context) -> tuple[str, str]:
    """The notification as (title, markdown text) with absolute links, for any robot."""
    body = absolute_links(delivery.body, ctx.config.get("BASE_URL"))
    lines = []
    for line in body.split("\n"):
        if line.startswith(("http://", "https://")):
            line = f"[查看问题 / Open]({line})"
        lines.append(line)
    mark = LEVEL_MARKS.get(str(delivery.payload.get("level") or ""), "")
    title = f"{mark} {delivery.subject}".strip()
    return title, f"### {title}\n\n" + "\n\n".join(x for x in lines if x.strip())


def post_json(url: str, body: Mapping[str, Any], ctx: Context, channel: str) -> dict[str, Any]:
    """POST ``body`` as JSON and return the JSON answer; DeliveryError on any HTTP failure."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(  # noqa: S310 - the URL is configuration, checked http(s)
        url, data=data, method="POST",
        headers={"Content-Type": "application/json; charset=utf-8",
                 "User-Agent": "Rectiflow-Robot/1"},
    )  # fmt: skip
    timeout = float(ctx.config.get("WEBHOOK_TIMEOUT") or 10)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  # nosec B310
            raw = response.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 429:
            retry = _seconds(exc.headers.get("Retry-After"), 60.0)
            raise RateLimited(f"{channel} answered HTTP 429", retry) from exc
        raise DeliveryError(f"{channel} answered HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(f"{channel} unreachable: {exc}") from exc
    try:
        answer = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DeliveryError(f"{channel} answered something that is not JSON") from exc
    if not isinstance(answer, dict):
        raise DeliveryError(f"{channel} answered {type(answer).__name__}, not an object")
    return answer


def judge(
    channel: str,
    code: int,
    message: str,
    rate_limited: Mapping[int, float],
    permanent: frozenset[int],
) -> None:
    """Raise for a platform error ``code`` (0 is success): wait, give up, or retry."""
    if code == 0:
        return
    text = f"{channel} error {code}: {message}"[:500]
    if code in rate_limited:
        raise RateLimited(text, rate_limited[code])
    if code in permanent:
        raise PermanentError(text)
    raise DeliveryError(text)


def _seconds(value: str | None, default: float) -> float:
    try:
        return max(1.0, float(value)) if value else default
    except ValueError:
        return default
