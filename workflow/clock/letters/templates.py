"""Letters as .docx from templates the office edits: shipped defaults in the GB/T 9704 layout.

A template is a Word file with docxtpl (Jinja) placeholders: ``{{ office }}`` (the issuing
office, the red 发文机关标志), ``{{ number }}`` (发文字号), ``{{ title }}``, ``{{ to }}``
(主送机关), the body paragraphs between ``{%p for p in paragraphs %}`` and
``{%p endfor %}`` (each ``{{ p }}``), ``{{ issuer }}`` and ``{{ date }}``, plus
``{{ issue_number }}`` and ``{{ kind }}``.  The office replaces a kind's template on the
admin page (:func:`check_template` refuses unknown placeholders and renders a preview
first); replaced templates live in ``<instance>/letters/<kind>.docx``, and the shipped
default (built here, so nothing binary is committed) serves every kind without one.

The text comes from the letter's archived HTML (:func:`~.word.blocks`), so a letter says
exactly what was archived whichever template later lays it out.  The default follows GB/T
9704-2012: A4, margins 37/35/28/26 mm (top/bottom/left/right), 发文机关标志 in red
方正小标宋简体, a red rule under the 发文字号, title in 2号 方正小标宋简体, body in 3号
仿宋_GB2312 with a two-character first-line indent and 28.95 pt lines (22 lines a page),
page numbers "— 1 —" in 4号 宋体.  Where those fonts are missing, Word and WPS substitute by
the East Asian font family and LibreOffice by fontconfig (WenQuanYi/Noto CJK on Debian).
Must not import flask or ``notifications``.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any

from workflow.clock.letters.numbering import KINDS
from workflow.messages import N_, Message, Text

PLACEHOLDERS = frozenset(
    {"office", "number", "title", "to", "paragraphs", "p", "issuer", "date", "issue_number", "kind"}
)
SAMPLE = {
    "office": "中共浙江省委巡视工作领导小组办公室",
    "number": "浙巡办〔2027〕3号",
    "title": "督办通知书",
    "to": "杭州市西湖区灵隐街道：",
    "paragraphs": [
        "你单位负责整改的问题 ZG2027-000123，现已触发「黄牌预警」。",
        "请抓紧落实整改措施。",
    ],
    "issuer": "中共浙江省委巡视工作领导小组办公室",
    "date": "2027年3月8日",
    "issue_number": "ZG2027-000123",
    "kind": "supervision_notice",
}
MAX_TEMPLATE_BYTES = 5 * 1024 * 1024

NOT_DOCX = Text("letter_template_not_docx", N_("the template is not a Word (.docx) file"))
TOO_BIG = Text("letter_template_too_big", N_("the template is larger than %(mb)s MB"))
UNKNOWN_PLACEHOLDER = Text(
    "letter_template_unknown", N_("unknown placeholder(s) %(names)s; known: %(known)s")
)
DOES_NOT_RENDER = Text("letter_template_broken", N_("the template does not render: %(reason)s"))
UNKNOWN_KIND = Text("letter_template_kind", N_("no letter kind %(kind)s"))


class TemplateError(ValueError):
    """A template the office uploaded cannot be used; the argument names why."""


def template_path(folder: str | Path, kind: str) -> Path:
    """Where the office's own template of ``kind`` is kept."""
    if kind not in KINDS:
        raise TemplateError(UNKNOWN_KIND(kind=kind))
    return Path(folder) / f"{kind}.docx"


def template_for(folder: str | Path | None, kind: str) -> bytes:
    """The office's template of ``kind`` if it has one, else the shipped default."""
    if folder is not None:
        own = template_path(folder, kind)
        if own.exists():
            return own.read_bytes()
    return default_template()


def check_template(data: bytes) -> Message | None:
    """Why ``data`` cannot serve as a letter template, or None when it renders a preview."""
    if len(data) > MAX_TEMPLATE_BYTES:
        return TOO_BIG(mb=MAX_TEMPLATE_BYTES // (1024 * 1024))
    if not data.startswith(b"PK\x03\x04"):
        return NOT_DOCX()
    from docxtpl import DocxTemplate

    try:
        doc = DocxTemplate(io.BytesIO(data))
        names = set(doc.get_undeclared_template_variables())
    except Exception:  # noqa: BLE001 - a broken upload says so, whatever broke inside docxtpl
        return NOT_DOCX()
    unknown = sorted(names - PLACEHOLDERS)
    if unknown:
        return UNKNOWN_PLACEHOLDER(names=unknown, known=sorted(PLACEHOLDERS - {"p"}))
    try:
        render(data, SAMPLE)
    except Exception as exc:  # noqa: BLE001 - Jinja syntax errors and friends
        return DOES_NOT_RENDER(reason=str(exc)[:200])
    return None


def render(template: bytes, context: dict[str, Any]) -> bytes:
    """``template`` filled with ``context`` (placeholders above), as .docx bytes."""
    from docxtpl import DocxTemplate

    doc = DocxTemplate(io.BytesIO(template))
    doc.render(context, autoescape=True)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


@cache
def default_template() -> bytes:
    """The shipped template in the GB/T 9704 layout (built once per process)."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt, RGBColor

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    red = RGBColor(0xCC, 0x00, 0x00)
    center, right = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT
    _para(doc, "{{ office }}", "方正小标宋简体", 26, center, color=red)
    _para(doc, "{{ number }}", "仿宋_GB2312", 16, center, rule=True)
    _para(doc, "", "仿宋_GB2312", 16)
    _para(doc, "{{ title }}", "方正小标宋简体", 22, center)
    _para(doc, "{{ to }}", "仿宋_GB2312", 16)
    _para(doc, "{%p for p in paragraphs %}", "仿宋_GB2312", 16)
    _para(doc, "{{ p }}", "仿宋_GB2312", 16, indent=True)
    _para(doc, "{%p endfor %}", "仿宋_GB2312", 16)
    _para(doc, "", "仿宋_GB2312", 16)
    _para(doc, "{{ issuer }}", "仿宋_GB2312", 16, right)
    _para(doc, "{{ date }}", "仿宋_GB2312", 16, right)
    _page_numbers(section.footer.paragraphs[0], Pt(14))
    doc.core_properties.title = "{{ title }}"
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _para(doc: Any, text: str, font: str, size: float, align: Any = None, *,
          color: Any = None, rule: bool = False, indent: bool = False) -> None:  # fmt: skip
    """One paragraph of the template: font (East Asian and Latin), size, line pitch, rule."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    para = doc.add_paragraph()
    fmt = para.paragraph_format
    fmt.line_spacing, fmt.space_before, fmt.space_after = Pt(28.95), Pt(0), Pt(0)
    if align is not None:
        para.alignment = align
    if indent:
        fmt.first_line_indent = Pt(size * 2)  # two characters
    run = para.add_run(text)
    run.font.size = Pt(size)
    run.font.name = "Times New Roman"
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    if color is not None:
        run.font.color.rgb = color
    if rule:  # the red rule under the 发文字号 (版头中的分隔线)
        borders = para._p.get_or_add_pPr()
        pbdr = borders.makeelement(qn("w:pBdr"), {})
        bottom = pbdr.makeelement(qn("w:bottom"), {qn("w:val"): "single", qn("w:sz"): "12",
                                                  qn("w:space"): "6", qn("w:color"): "CC0000"})  # fmt: skip
        pbdr.append(bottom)
        borders.append(pbdr)


def _page_numbers(para: Any, size: Any) -> None:
    """``— n —`` centred in the footer (a PAGE field between em dashes)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn

    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    para.add_run("— ").font.size = size
    field = para._p.makeelement(qn("w:fldSimple"), {qn("w:instr"): "PAGE"})
    run = field.makeelement(qn("w:r"), {})
    text = run.makeelement(qn("w:t"), {})
    text.text = "1"
    run.append(text)
    field.append(run)
    para._p.append(field)
    para.add_run(" —").font.size = size
