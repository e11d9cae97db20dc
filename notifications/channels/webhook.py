"""Signed JSON webhooks (government messaging robots and other systems).

Owns the request format and its signature, and :func:`verify` for receivers.

Request: ``POST`` of a UTF-8 JSON object (event id, template, issue number, subject, body
with an absolute link — never problem-lead details) with headers
``X-Rectiflow-Event`` (the event id: receivers dedupe on it), ``X-Rectiflow-Timestamp``
(Unix seconds, wall clock) and ``X-Rectiflow-Signature: sha256=<hex>``, the HMAC-SHA256
with ``WEBHOOK_SECRET`` over ``timestamp + "." + body``.

Receiver contract: answer 2xx when the event is stored; answer **409** for an event id it
already has (a redelivery): the dispatcher counts 409 as delivered.  Reject (401) a bad
signature and a timestamp older than the tolerance (default 300 s): that is a replay.
The URL is the user's ``preferences["webhook_url"]`` or ``WEBHOOK_URL``.
Must not import flask.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from notifications.channels import (
    Context,
    Delivery,
    DeliveryError,
    PermanentError,
    absolute_links,
)

TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` over ``timestamp.body``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    now: float,
    tolerance: float = TOLERANCE_SECONDS,
) -> bool:
    """Whether a received request is authentic and fresh (for receivers and tests)."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature or "")


def payload(delivery: Delivery, ctx: Context) -> dict[str, Any]:
    """The JSON object sent for ``delivery``."""
    return {
        "event": delivery.event_id,
        "template": delivery.template,
        "issue_id": delivery.issue_id,
        "number": delivery.payload.get("number"),
        "level": delivery.payload.get("level"),
        "subject": delivery.subject,
        "body": absolute_links(delivery.body, ctx.config.get("BASE_URL")),
        "created_at": delivery.created_at.isoformat(),
    }


class WebhookChannel:
    """POSTs the signed JSON; any answer but 2xx or 409 is a failure."""

    name = "webhook"
    transactional = False

    def send(self, delivery: Delivery, ctx: Context) -> None:
        url = delivery.preferences.get("webhook_url") or ctx.config.get("WEBHOOK_URL")
        secret = ctx.config.get("WEBHOOK_SECRET")
        if not url:
            raise PermanentError("no webhook URL (preferences.webhook_url or WEBHOOK_URL)")
        if not secret:
            raise PermanentError("WEBHOOK_SECRET is not configured")
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            # urlopen would also open file:// and ftp:// URLs; a webhook is HTTP only
            raise PermanentError(f"webhook URL must be http(s): {url[:80]}")
        body = json.dumps(payload(delivery, ctx), ensure_ascii=False, sort_keys=True).encode()
        timestamp = str(int(ctx.wall().timestamp()))
        request = urllib.request.Request(  # noqa: S310 - the URL is configuration, not input
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Rectiflow-Webhook/1",
                "X-Rectiflow-Event": delivery.event_id,
                "X-Rectiflow-Timestamp": timestamp,
                "X-Rectiflow-Signature": sign(secret, timestamp, body),
            },
        )
        timeout = float(ctx.config.get("WEBHOOK_TIMEOUT") or 10)
        try:
            # the scheme was checked to be http or https above (bandit B310)
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  # nosec B310
                response.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 409:  # the receiver already has this event: delivered
                return
            raise DeliveryError(f"webhook answered HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise DeliveryError(f"webhook unreachable: {exc}") from exc


CHANNEL = WebhookChannel()
