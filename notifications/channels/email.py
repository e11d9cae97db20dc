"""E-mail over SMTP.

Owns building the message and talking SMTP.  Configuration (the app's config keys):
``SMTP_HOST``, ``SMTP_PORT``, ``SMTP_TLS`` (STARTTLS), ``SMTP_SSL`` (implicit TLS, port
465), ``SMTP_USER``/``SMTP_PASSWORD``, ``SMTP_FROM``, ``SMTP_TIMEOUT``, ``BASE_URL``.
Chinese text: :class:`email.message.EmailMessage` with the default policy writes the
Subject as an RFC 2047 encoded word and the body as UTF-8.  The outbox row's event id is
sent as ``X-Rectiflow-Event`` and inside the ``Message-ID``, so a mail system (or a
person) can recognise a redelivery.  Must not import flask.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime

from notifications.channels import Context, Delivery, PermanentError, absolute_links


def message_id(event_id: str) -> str:
    """A Message-ID carrying the event id (only characters allowed in an id-left)."""
    return f"<{re.sub(r'[^A-Za-z0-9.!#$%&*+/=?^_`{{|}}~-]', '.', event_id)}@rectiflow>"


def build(delivery: Delivery, ctx: Context) -> EmailMessage:
    """The message for ``delivery``."""
    if not delivery.recipient_email:
        raise PermanentError(f"user {delivery.recipient_id} has no e-mail address")
    msg = EmailMessage()
    msg["Subject"] = delivery.subject
    msg["From"] = ctx.config.get("SMTP_FROM") or "rectiflow@localhost"
    msg["To"] = delivery.recipient_email
    msg["Date"] = format_datetime(ctx.wall())
    msg["Message-ID"] = message_id(delivery.event_id)
    msg["X-Rectiflow-Event"] = delivery.event_id
    msg.set_content(absolute_links(delivery.body, ctx.config.get("BASE_URL")), charset="utf-8")
    return msg


class EmailChannel:
    """Sends one message per delivery through the configured SMTP server."""

    name = "email"
    transactional = False

    def send(self, delivery: Delivery, ctx: Context) -> None:
        cfg = ctx.config
        host = cfg.get("SMTP_HOST")
        if not host:
            raise PermanentError("SMTP_HOST is not configured")
        msg = build(delivery, ctx)
        port = int(cfg.get("SMTP_PORT") or 25)
        timeout = float(cfg.get("SMTP_TIMEOUT") or 30)
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if cfg.get("SMTP_SSL"):
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        with smtp:
            if cfg.get("SMTP_TLS") and not cfg.get("SMTP_SSL"):
                smtp.starttls(context=context)
            if cfg.get("SMTP_USER"):
                smtp.login(cfg["SMTP_USER"], cfg.get("SMTP_PASSWORD") or "")
            smtp.send_message(msg)


CHANNEL = EmailChannel()
