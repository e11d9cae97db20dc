"""The .docx of a letter, rendered on demand from its archived HTML.

So the Word file always says exactly what was archived, even if the issue changes later.
python-docx is imported only when a document is built.
"""

from __future__ import annotations

import io
from html.parser import HTMLParser

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


def to_docx(letter: Letter) -> bytes:
    """The letter as a Word document, built from its archived HTML."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    doc = Document()
    doc.core_properties.title = f"{letter.number}"
    for tag, cls, text_ in blocks(letter.html):
        para = doc.add_paragraph()
        run = para.add_run(text_)
        run.font.name = "FangSong"
        run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "仿宋")
        run.font.size = Pt(16)
        if tag == "h1":
            run.font.size, run.font.bold = Pt(22), True
            run.font.color.rgb = RGBColor(0xCC, 0, 0)
            para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif cls == "number":
            para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif cls in ("issuer", "date"):
            para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        elif cls == "body":
            para.paragraph_format.first_line_indent = Pt(32)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
