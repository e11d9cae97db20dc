"""The language of a request and the translation of what the pages and the engine say.

Texts live in gettext catalogues (``web/translations/{zh,en}/LC_MESSAGES/messages.po``,
English message ids, compiled by ``make translations``).  Chinese is the default: a request
speaks the session's choice, else the ``lang`` cookie, else Chinese.  Definition labels are
not in the catalogue; they stay beside their workflow in the YAML (:func:`label`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations
from flask import Flask, g, has_request_context, request, session
from flask_babel import Babel

from workflow.messages import Message, localized

LANGS = ("zh", "en")
TRANSLATIONS = Path(__file__).parent / "translations"

babel = Babel()


def lang() -> str:
    """The language of this request: the session's choice, else the cookie, else Chinese.

    The JSON API speaks what ``Accept-Language`` asks for (Chinese when it asks for neither);
    outside a request (the CLI) the ``LANG`` of the shell decides, English unless ``zh*``.
    Read once per request (kept in ``g``): pages ask for it once per translated label.
    """
    if not has_request_context():
        return _shell_lang()
    chosen = g.get("lang")
    if chosen is None:
        if request.path.startswith("/api/"):
            chosen = request.accept_languages.best_match(LANGS) or "zh"
        else:
            chosen = session.get("lang") or request.cookies.get("lang") or "zh"
        chosen = g.lang = chosen if chosen in LANGS else "zh"
    return str(chosen)


def _shell_lang() -> str:
    """The shell's language as POSIX decides it: LC_ALL, else LC_MESSAGES, else LANG."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


@cache
def catalogue(language: str) -> NullTranslations:
    """The compiled catalogue of ``language`` (message ids as they are when none is built)."""
    return Translations.load(str(TRANSLATIONS), [language], domain="messages")


def label(obj: Any) -> str:
    """A definition Label (``.zh``/``.en``) in the request's language."""
    if obj is None:
        return ""
    return str(localized(obj, lang()))


def say(message: object, language: str | None = None) -> str:
    """What the engine said, in the request's language (or ``language``).

    A :class:`~workflow.messages.Message` is translated by its template and its parameters
    filled in (labels in the reader's language); an exception says its first argument; a
    plain string is looked up as a message id and shown as given when the catalogue does not
    know it (a name, a code, a file path).
    """
    current = language or lang()
    said = getattr(message, "message", None)
    if isinstance(said, Message) and not isinstance(message, Message | BaseException):
        place = str(getattr(message, "where", "") or "")  # a located import problem
        return f"{place}: {say(said, current)}" if place else say(said, current)
    if isinstance(message, BaseException):
        errors = getattr(message, "errors", None)
        if isinstance(errors, Mapping) and errors:  # ValidationFailed: field → messages
            return _say_fields(errors, current)
        first = message.args[0] if message.args else None
        message = first if isinstance(first, Message) else str(message)
    translations = catalogue(current)
    if isinstance(message, Message):
        text = translations.gettext(message.template)
        if not message.params:
            return text
        return text % {k: _param(v, current) for k, v in message.params.items()}
    text = "" if message is None else str(message)
    return translations.gettext(text) if text else text


def _param(value: Any, language: str) -> Any:
    """A message parameter in ``language``: a nested Message said too, lists joined."""
    if isinstance(value, Message):
        return say(value, language)
    if isinstance(value, list | tuple) and any(isinstance(v, Message) for v in value):
        sep = "；" if language == "zh" else "; "
        return sep.join(str(_param(v, language)) for v in value)
    return localized(value, language)


def _say_fields(errors: Mapping[str, Any], language: str) -> str:
    """Per-field messages as one line: ``title: required; unit: …`` in ``language``."""
    within, between = ("，", "；") if language == "zh" else (", ", "; ")
    parts = []
    for name, messages in errors.items():
        items = messages if isinstance(messages, list | tuple) else [messages]
        parts.append(f"{name}: {within.join(say(m, language) for m in items)}")
    return between.join(parts)


def init_app(app: Flask) -> None:
    """Install Babel and offer ``_``, ``label``, ``say`` and ``lang`` to every template."""
    from web import labels

    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "zh")
    babel.init_app(app, locale_selector=lang)
    labels.init_app(app)
    app.jinja_env.globals.update(label=label, say=say)

    @app.context_processor
    def _lang() -> dict[str, str]:
        return {"lang": lang()}
