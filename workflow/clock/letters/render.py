"""The printable HTML of a letter, archived in ``letter.html`` (every text escaped).

Letters about a restricted issue (a problem lead) name only its number, never its title.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.clock.letters.numbering import KINDS
from workflow.db import among
from workflow.models import Issue, Unit


def _cn_date(day: date) -> str:
    """``2026年9月8日``."""
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


def _root_id(issue: Issue) -> int:
    """The id of the root unit (province or city) above the issue's unit."""
    return int(issue.unit_path.strip("/").split("/")[0])


def _issuer_name(root_name: str | None) -> str:
    """The name of the inspection office of the root unit called ``root_name``."""
    return f"中共{root_name or ''}委巡视巡察工作领导小组办公室"


def _unit_names(session: Session, issues: Sequence[Issue]) -> dict[int, str]:
    """Names of the issues' units and of their root units, in one query."""
    ids = {i.unit_id for i in issues} | {_root_id(i) for i in issues}
    return dict(
        session.execute(
            select(Unit.id, Unit.name).where(among(session, Unit.id, sorted(ids)))
        ).all()
    )
