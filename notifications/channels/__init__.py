"""The channel registry: one module per channel, looked up by name.

A channel is a module-level object with ``name``, ``transactional`` and
``send(delivery, ctx)``.  ``send`` raises on failure — :class:`DeliveryError` for a
failure worth retrying, :class:`PermanentError` for one no retry can fix (no address
configured) — and returns normally only when the receiver has the message.  It never
logs and carries on: the dispatcher records every failure and retries (a channel that
swallowed errors would hide lost notifications).

Transactional channels (the in-app inbox) write into the database inside the
dispatcher's result transaction, so delivery and "marked sent" commit together; the
others talk to the outside world between the claim and the result transactions.
Every receiver dedupes by the event id (:attr:`Delivery.event_id`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

#: channel name -> module defining ``CHANNEL`` (imported on first use)
MODULES = {
    "in_app": "notifications.channels.in_app",
    "email": "notifications.channels.email",
    "webhook": "notifications.channels.webhook",
    "dingtalk": "notifications.channels.dingtalk",
    "wecom": "notifications.channels.wecom",
    "feishu": "notifications.channels.feishu",
}
#: the group-chat robots: configured per unit, delivered to the robot rather than a person
ROBOTS = ("dingtalk", "wecom", "feishu")


class DeliveryError(Exception):
    """The receiver did not take the message; the dispatcher retries later.

    ``retry_after`` (seconds), when set, is the least wait the receiver asked for (a rate
    limit); the dispatcher waits at least that long, and longer if its backoff says so.
    """

    retry_after: float | None = None


class PermanentError(DeliveryError):
    """No retry can succeed (e.g. no address); the row fails at once with an incident."""


@dataclass(frozen=True)
class Delivery:
    """One outbox row as a channel sees it."""

    outbox_id: int
    event_id: str  # stable across retries: receivers dedupe on it
    channel: str
    template: str
    recipient_id: int
    recipient_name: str
    recipient_email: str | None
    subject: str
    body: str
    payload: Mapping[str, Any]
    issue_id: int | None
    created_at: datetime
    preferences: Mapping[str, Any] = field(default_factory=dict)
    robot: Mapping[str, Any] | None = None  # a robot's settings (url, secret, at, name)


@dataclass
class Context:
    """What a channel may use: configuration, the clock, and (if transactional) a session."""

    config: Mapping[str, Any]
    now: datetime
    wall: Callable[[], datetime]
    session: Session | None = None


class Channel(Protocol):
    """The interface every channel module's ``CHANNEL`` provides."""

    name: str
    transactional: bool

    def send(self, delivery: Delivery, ctx: Context) -> None: ...


_loaded: dict[str, Channel] = {}


def register(channel: Channel) -> None:
    """Add (or replace) a channel, e.g. a fake one in tests."""
    _loaded[channel.name] = channel


def get(name: str) -> Channel:
    """The channel called ``name``; KeyError for an unknown one."""
    if name not in _loaded:
        module = importlib.import_module(MODULES[name])
        _loaded[name] = module.CHANNEL
    return _loaded[name]


def names() -> list[str]:
    """Every known channel name."""
    return sorted(set(MODULES) | set(_loaded))


def absolute_links(body: str, base_url: str | None) -> str:
    """Prefix relative ``/issues/…`` links in ``body`` with ``base_url``."""
    if not base_url:
        return body
    base = base_url.rstrip("/")
    return "\n".join(base + line if line.startswith("/") else line for line in body.split("\n"))
