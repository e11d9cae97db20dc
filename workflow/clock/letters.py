"""Numbered documents issued by escalation rungs: 提醒书, 督办通知书, 告诫书, 约谈通知, 通报.

Owns the numbering (``督办〔2026〕第0001号``: one sequence per kind per year), the printable
HTML archived in ``letter.html``, and the .docx rendered from that archived HTML on demand
(so the Word file always says exactly what was archived, even if the issue changes later).
Must not import flask or ``notifications``.

Numbering under concurrency: the next number is ``1 + count`` of that kind's numbers in
that year, inserted inside a savepoint; the ``letter.number`` unique index turns a race
between two sweeps (PostgreSQL partitions running in parallel) into an IntegrityError,
and the loser counts again.  On SQLite writers are serialised by ``BEGIN IMMEDIATE``.
:func:`issue_letters` does the same for a whole batch: one count, then consecutive
numbers, all inserted by one statement (numbers stay unique and gap-free).

Letters about a restricted issue (a problem lead) name only its number, never its title.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from html.parser import HTMLParser
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflow.db import among, insert_returning
from workflow.models import Issue, Letter, Unit

#: the 告诫书's new final date: this many working days after it is issued (a default; a
#: province may pass another value to :func:`issue_letter`)
ADMONITION_WORKING_DAYS = 10
MAX_NUMBER_RETRIES = 20
LETTER_TABLE = cast(Table, Letter.__table__)  # Core inserts: one statement for a batch


@dataclass(frozen=True)
class LetterKind:
    """How one kind of letter is titled and numbered."""

    title: str  # 督办通知书
    prefix: str  # 督办 (the number reads 督办〔2026〕第0001号)
    action: str  # what the letter does, in the body text


KINDS: dict[str, LetterKind] = {
    "reminder": LetterKind("整改提醒书", "提醒", "提醒"),
    "supervision_notice": LetterKind("督办通知书", "督办", "挂牌督办"),
    "admonition": LetterKind("告诫书", "告诫", "告诫"),
    "talk_notice": LetterKind("约谈通知书", "约谈", "约谈"),
    "circulated_notice": LetterKind("通报", "通报", "通报"),
}


def number_prefix(kind: str, year: int) -> str:
    """The part of a number before the sequence, e.g. ``督办〔2026〕第``."""
    return f"{KINDS[kind].prefix}〔{year}〕第"


def format_number(kind: str, year: int, seq: int) -> str:
    """``督办〔2026〕第0001号`` (at least four digits)."""
    return f"{number_prefix(kind, year)}{seq:04d}号"


def next_number(session: Session, kind: str, year: int) -> str:
    """The next free number of ``kind`` in ``year`` (numbers are never deleted)."""
    return next_numbers(session, kind, year, 1)[0]


def next_numbers(session: Session, kind: str, year: int, n: int) -> list[str]:
    """The next ``n`` free numbers of ``kind`` in ``year``, in order (one count query)."""
    prefix = number_prefix(kind, year)
    used = session.scalar(
        select(func.count()).select_from(Letter).where(Letter.number.startswith(prefix))
    )
    return [format_number(kind, year, (used or 0) + k) for k in range(1, n + 1)]


def _cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _issuer(session: Session, issue: Issue) -> str:
    """The office that issues letters for ``issue``: the root unit's inspection office."""
    root = session.get(Unit, _root_id(issue))
    return _issuer_name(root.name if root else None)


def render_html(
    *,
    kind: str,
    number: str,
    issue: Issue,
    unit_name: str,
    issuer: str,
    issued_on: date,
    due_on: date | None,
    rung_label: str,
    new_final_date: date | None,
) -> str:
    """The printable letter (a complete HTML page; every text is escaped)."""
    k = KINDS[kind]
    e = html.escape
    subject = e(issue.number) if issue.restricted else f"{e(issue.number)}（{e(issue.title)}）"
    due_text = f"整改完成时限为{_cn_date(due_on)}，" if due_on else ""
    paragraphs = [
        f'<p class="to">{e(unit_name)}：</p>',
        f'<p class="body">你单位负责整改的问题{subject}，{due_text}'
        f"现已触发「{e(rung_label)}」。根据整改督办有关规定，现予{e(k.action)}。</p>",
    ]
    if new_final_date:
        paragraphs.append(
            f'<p class="body">请于{_cn_date(new_final_date)}前完成整改，并报送整改情况和佐证材料。'
            "逾期未完成的，将按规定予以约谈、通报直至问责。</p>"
        )
    else:
        paragraphs.append('<p class="body">请抓紧落实整改措施，及时报送整改进展和佐证材料。</p>')
    paragraphs += [
        f'<p class="issuer">{e(issuer)}</p>',
        f'<p class="date">{_cn_date(issued_on)}</p>',
    ]
    body = "\n".join(paragraphs)
    return (
        '<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{e(k.title)} {e(number)}</title>"
        "<style>body{font-family:'FangSong','仿宋',serif;max-width:40em;margin:2em auto;"
        "line-height:2}h1{text-align:center;color:#c00}.number{text-align:center}"
        ".body{text-indent:2em}.issuer,.date{text-align:right}"
        "@media print{body{margin:0}}</style></head><body>\n"
        f'<h1>{e(k.title)}</h1>\n<p class="number">{e(number)}</p>\n{body}\n</body></html>\n'
    )


def issue_letter(
    session: Session,
    issue: Issue,
    kind: str,
    now: datetime,
    *,
    tz: str,
    due_at: datetime | None,
    rung_label: str,
    new_final_date: date | None = None,
) -> Letter:
    """Number, render and store one letter about ``issue`` in the caller's transaction."""
    if kind not in KINDS:
        raise ValueError(f"unknown letter kind {kind!r}")
    zone = ZoneInfo(tz)
    issued_on = now.astimezone(zone).date()
    due_on = due_at.astimezone(zone).date() if due_at else issue.due_on
    unit = session.get(Unit, issue.unit_id)
    issuer = _issuer(session, issue)
    for _ in range(MAX_NUMBER_RETRIES):
        number = next_number(session, kind, issued_on.year)
        letter = Letter(
            number=number,
            issue_id=issue.id,
            kind=kind,
            issued_at=now,
            new_final_date=new_final_date,
            html=render_html(
                kind=kind,
                number=number,
                issue=issue,
                unit_name=unit.name if unit else "",
                issuer=issuer,
                issued_on=issued_on,
                due_on=due_on,
                rung_label=rung_label,
                new_final_date=new_final_date,
            ),
        )
        try:
            with session.begin_nested():
                session.add(letter)
        except IntegrityError:  # a concurrent sweep took this number: count again
            continue
        return letter
    raise RuntimeError(f"could not allocate a {kind} number after {MAX_NUMBER_RETRIES} tries")


@dataclass(frozen=True)
class LetterRequest:
    """One letter wanted by :func:`issue_letters`: about ``issue``, citing ``due_at``."""

    issue: Issue
    due_at: datetime | None


@dataclass(frozen=True)
class Issued:
    """A letter written by :func:`issue_letters` (what its caller links and cites)."""

    id: int
    issue_id: int
    number: str
    new_final_date: date | None


def issue_letters(
    session: Session,
    requests: Sequence[LetterRequest],
    kind: str,
    now: datetime,
    *,
    tz: str,
    rung_label: str,
    new_final_date: date | None = None,
) -> list[Issued]:
    """Number, render and store one letter per request, in request order, in bulk.

    What :func:`issue_letter` does for one issue, for a batch: one read of the units'
    names, one count for the numbers, one INSERT (in a savepoint, retried on a number
    taken by a concurrent writer).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown letter kind {kind!r}")
    if not requests:
        return []
    names = _unit_names(session, [r.issue for r in requests])
    batch = _LetterBatch(kind, now, ZoneInfo(tz), rung_label, new_final_date, names)
    for _ in range(MAX_NUMBER_RETRIES):
        numbers = next_numbers(session, kind, batch.issued_on.year, len(requests))
        rows = [batch.row(r, number) for r, number in zip(requests, numbers, strict=True)]
        ids = _insert_numbered(session, rows)
        if ids is None:  # a concurrent sweep took one of these numbers: count again
            continue
        return [
            Issued(ids[number], r.issue.id, number, new_final_date)
            for r, number in zip(requests, numbers, strict=True)
        ]
    raise RuntimeError(f"could not allocate {kind} numbers after {MAX_NUMBER_RETRIES} tries")


@dataclass(frozen=True)
class _LetterBatch:
    """What every letter of one :func:`issue_letters` call shares."""

    kind: str
    now: datetime
    zone: ZoneInfo
    rung_label: str
    new_final_date: date | None
    names: dict[int, str]  # unit id → name: the issues' units and their root units

    @property
    def issued_on(self) -> date:
        return self.now.astimezone(self.zone).date()

    def row(self, r: LetterRequest, number: str) -> dict[str, Any]:
        """The ``letter`` row of one request under ``number``, with its printable HTML."""
        return {
            "number": number,
            "issue_id": r.issue.id,
            "kind": self.kind,
            "issued_at": self.now,
            "new_final_date": self.new_final_date,
            "html": render_html(
                kind=self.kind,
                number=number,
                issue=r.issue,
                unit_name=self.names.get(r.issue.unit_id, ""),
                issuer=_issuer_name(self.names.get(_root_id(r.issue))),
                issued_on=self.issued_on,
                due_on=r.due_at.astimezone(self.zone).date() if r.due_at else r.issue.due_on,
                rung_label=self.rung_label,
                new_final_date=self.new_final_date,
            ),
        }


def _insert_numbered(session: Session, rows: list[dict[str, Any]]) -> dict[str, int] | None:
    """Insert the letters in a savepoint: number → id; None when a number was taken meanwhile."""
    try:
        with session.begin_nested():
            return {
                r.number: r.id
                for r in insert_returning(session, LETTER_TABLE, rows, (Letter.number, Letter.id))
            }
    except IntegrityError:
        return None


def _root_id(issue: Issue) -> int:
    return int(issue.unit_path.strip("/").split("/")[0])


def _issuer_name(root_name: str | None) -> str:
    return f"中共{root_name or ''}委巡视巡察工作领导小组办公室"


def _unit_names(session: Session, issues: Sequence[Issue]) -> dict[int, str]:
    """Names of the issues' units and of their root units, in one query."""
    ids = {i.unit_id for i in issues} | {_root_id(i) for i in issues}
    return dict(
        session.execute(
            select(Unit.id, Unit.name).where(among(session, Unit.id, sorted(ids)))
        ).all()
    )


def letters_of(session: Session, issue_id: int) -> list[Letter]:
    """The letters issued about an issue, oldest first (for the issue page)."""
    return list(
        session.scalars(select(Letter).where(Letter.issue_id == issue_id).order_by(Letter.id))
    )


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
