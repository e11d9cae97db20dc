"""The .docx of a letter, rendered on demand from its archived HTML through a template.

So the Word file always says exactly what was archived, even if the issue changes later;
the layout is the office's template (:mod:`.templates`).  docxtpl is imported only when a
document is built.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from workflow.models import Letter


class _Blocks(HTMLParser):
    """Collects (tag, class, text) of the h1/p blocks of an archived letter."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[tuple[str, str, str]] = []
        self._open: tuple[str, str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("h1", "p"):
            self._open = (tag, dict(attrs).get("class") or "")
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if self._open and tag == self._open[0]:
            self.blocks.append((*self._open, "".join(self._text)))
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open:
            self._text.append(data)


def blocks(letter_html: str) -> list[tuple[str, str, str]]:
    """The letter's heading and paragraphs as ``(tag, class, text)``, in order."""
    parser = _Blocks()
    parser.feed(letter_html)
    return parser.blocks


def context(letter: Letter, issue_number: str = "") -> dict[str, Any]:
    """The template's placeholders from the letter's archived HTML (what was issued)."""
    out: dict[str, Any] = {"paragraphs": [], "number": letter.number, "kind": letter.kind,
                           "office": "", "title": "", "to": "", "issuer": "", "date": ""}  # fmt: skip
    for tag, cls, text_ in blocks(letter.html):
        if tag == "h1":
            out["title"] = text_
        elif cls == "body":
            out["paragraphs"].append(text_)
        elif cls in ("number", "to", "issuer", "date"):
            out[cls] = text_
    out["office"] = out["issuer"]
    out["issue_number"] = issue_number
    return out


def to_docx(letter: Letter, template: bytes | None = None, issue_number: str = "") -> bytes:
    """The letter as a Word document: its archived text laid out by ``template`` (by
    default the shipped GB/T 9704 one)."""
    from workflow.clock.letters.templates import default_template, render

    return render(template or default_template(), context(letter, issue_number))
