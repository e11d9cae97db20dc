"""What the engine says to people: a stable code, parameters, and an English text to translate.

The engine never picks a language.  Each message a person may read (a refused action, a
field that did not validate, a row of an import) is declared once, beside the code that
says it, as a :class:`Text`::

    EVIDENCE_MISSING = Text(
        "evidence_missing",
        N_("At least %(min)s evidence files are required (佐证材料); %(n)s uploaded"),
    )
    raise GuardFailed(EVIDENCE_MISSING(min=2, n=0))

Calling a :class:`Text` gives a :class:`Message`: a ``str`` holding the English sentence
(so logs, exceptions and old callers keep working), plus the ``code``, the ``template``
(the catalogue's message id) and the ``params``.  The web, the API and the CLI translate
the template through their gettext catalogue (``web/translations``) and fill in the
parameters; ``pybabel extract`` finds the templates by the :func:`N_` marker.  A parameter
that is a definition :class:`~workflow.definition.model.Label` (or anything with ``zh`` and
``en``) is shown in the reader's language too.

Messages kept in the audit trail store ``code`` and ``params`` (:meth:`Message.as_data`), so
a timeline can say them again in any language later (:func:`from_data`).

Must not import flask or ``notifications``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


def N_(text: str) -> str:
    """Mark ``text`` as a message id for the catalogue; it is returned unchanged."""
    return text


class Message(str):
    """One message: its English text (the string itself), code, template and parameters."""

    code: str
    template: str
    params: Mapping[str, Any]

    def __new__(cls, code: str, template: str, params: Mapping[str, Any] | None = None) -> Message:
        params = dict(params or {})
        obj = super().__new__(cls, render(template, params, "en"))
        obj.code, obj.template, obj.params = code, template, params
        return obj

    def __reduce__(self) -> Any:
        # a str subclass with attributes: pickle (Prefect, multiprocessing) must keep them
        return (Message, (self.code, self.template, dict(self.params)))

    def as_data(self) -> dict[str, Any]:
        """The message as JSON-able data for the audit trail: code and plain parameters."""
        return {"code": self.code, "params": {k: _plain(v) for k, v in self.params.items()}}


class Text:
    """A message the engine may say: a stable code and its English template (``%(name)s``)."""

    known: ClassVar[dict[str, Text]] = {}

    def __init__(self, code: str, template: str) -> None:
        known = Text.known.get(code)
        if known is not None and known.template != template:
            raise ValueError(f"message code {code!r} is declared twice with different texts")
        self.code: str = code
        self.template: str = template
        Text.known[code] = self

    def __call__(self, **params: Any) -> Message:
        """The message with ``params`` filled in."""
        return Message(self.code, self.template, params)

    def __repr__(self) -> str:
        return f"Text({self.code!r})"


def render(template: str, params: Mapping[str, Any], lang: str) -> str:
    """``template`` filled with ``params``, labels in ``lang`` (``zh`` or ``en``)."""
    if not params:
        return template
    return template % {k: localized(v, lang) for k, v in params.items()}


def localized(value: Any, lang: str) -> Any:
    """A parameter as shown in ``lang``: a label's own text, a list joined, else the value."""
    if hasattr(value, "zh") and hasattr(value, "en"):
        return value.en if lang == "en" else value.zh
    if isinstance(value, Mapping) and "zh" in value and "en" in value:
        return value["en"] if lang == "en" else value["zh"]  # a label kept in the audit trail
    if isinstance(value, list | tuple | set | frozenset):
        sep = ", " if lang == "en" else "、"
        return sep.join(str(localized(v, lang)) for v in value)
    return value


def from_data(data: Mapping[str, Any]) -> Message | None:
    """A message stored by :meth:`Message.as_data`, or None for an unknown code."""
    text = Text.known.get(str(data.get("code")))
    if text is None:
        return None
    return text(**dict(data.get("params") or {}))


def _plain(value: Any) -> Any:
    if hasattr(value, "zh") and hasattr(value, "en"):
        return {"zh": value.zh, "en": value.en}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
