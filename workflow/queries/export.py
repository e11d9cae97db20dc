"""Exporting the 整改台账 of a unit subtree and the statistics report as .xlsx.

Owns the customary ledger layout (a title row, one row per issue with its measures,
responsible leader and unit, deadline, progress, status, warning level and evidence count;
frozen header, column widths, landscape print fitted to the page width with the header
repeated) and the statistics workbook (one sheet per dimension).  Both are written with
openpyxl's write-only mode and the issues are read in batches, so memory stays flat
however large the subtree.  Figures come from :mod:`workflow.queries` (the board's own
numbers).  The ledger's headers are ones :mod:`workflow.imports.excel` reads, so an export
re-imports to the same data.  Must not import flask.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow import queries
from workflow.definition.model import DEADLINE_LABELS
from workflow.definition.registry import definition_of
from workflow.models import Evidence, Issue, Measure, Round, SupportingUnit, Unit, User
from workflow.org.scope import visible_clause

Target = str | Path | IO[bytes]

# (header, width, field) — the headers are the import's spellings
LEDGER_COLUMNS: list[tuple[str, int, str]] = [
    ("序号", 6, "seq"),
    ("问题编号", 16, "number"),
    ("轮次", 18, "round"),
    ("来源", 8, "source"),
    ("问题类别", 14, "category"),
    ("问题标题", 28, "title"),
    ("问题表现", 48, "description"),
    ("责任单位", 16, "unit"),
    ("责任单位代码", 12, "unit_code"),
    ("配合单位", 18, "supporting"),
    ("分管领导", 10, "supervising_leader"),
    ("责任人", 10, "person_in_charge"),
    ("整改类型", 10, "deadline_type"),
    ("整改时限", 12, "due_on"),
    ("整改措施", 48, "measures"),
    ("整改进度", 9, "progress"),
    ("完成情况", 10, "completion"),
    ("状态", 14, "state"),
    ("预警等级", 9, "warning"),
    ("佐证材料数", 10, "evidence"),
]
WARNING_LABELS = {"green": "正常", "yellow": "黄牌", "red": "红牌"}
BATCH = 500
THIN = Side(style="thin", color="999999")
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
WRAP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _cell(
    ws: Any,
    value: Any,
    *,
    font: Font | None = None,
    fill: PatternFill | None = None,
    align: Alignment | None = None,
    border: bool = False,
) -> WriteOnlyCell:
    """A write-only cell with the given value and style."""
    cell = WriteOnlyCell(ws, value=value)
    if font:
        cell.font = font
    if fill:
        cell.fill = fill
    if align:
        cell.alignment = align
    if border:
        cell.border = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
    return cell


def _print_setup(ws: Any, header_row: int, ncols: int) -> None:
    """Landscape, fitted to the page width, the header repeated on every printed page."""
    ws.freeze_panes = f"A{header_row + 1}"
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True


def ledger_statement(user: User, f: queries.Filters, session: Session, now: datetime) -> Any:
    """The ledger's issues in ``user``'s scope matching ``f``, in unit-tree order."""
    return (
        select(Issue.id)
        .where(
            visible_clause(user),
            Issue.kind.in_(queries.LEDGER_KINDS),
            *queries.filter_clauses(session, f, now),
        )
        .order_by(Issue.unit_path, Issue.id)
    )


def _batches(session: Session, ids_stmt: Any) -> Iterator[list[Issue]]:
    """The issues in batches, each with its measures, supporting units and evidence counts."""
    ids: list[int] = list(session.scalars(ids_stmt))  # ints only: 50,000 ids are ~2 MB
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        issues = session.scalars(
            select(Issue).where(Issue.id.in_(chunk)).order_by(Issue.unit_path, Issue.id)
        ).all()
        yield list(issues)
        for issue in issues:  # units and definitions stay: there are few of them
            session.expunge(issue)


def _extras(session: Session, chunk: Sequence[int]) -> tuple[dict, dict, dict]:
    """Measures, supporting units and evidence counts of the issues ``chunk``, by issue id."""
    measures: dict[int, list[Any]] = {}
    for m in session.execute(
        select(Measure.issue_id, Measure.seq, Measure.text, Measure.due_on)
        .where(Measure.issue_id.in_(chunk))
        .order_by(Measure.issue_id, Measure.seq)
    ):
        measures.setdefault(m.issue_id, []).append(m)
    supporting: dict[int, list[str]] = {}
    for issue_id, name in session.execute(
        select(SupportingUnit.issue_id, Unit.name)
        .join(Unit, Unit.id == SupportingUnit.unit_id)
        .where(SupportingUnit.issue_id.in_(chunk))
        .order_by(SupportingUnit.id)
    ):
        supporting.setdefault(issue_id, []).append(name)
    evidence = dict(
        session.execute(
            select(Evidence.issue_id, func.count())
            .where(Evidence.issue_id.in_(chunk))
            .group_by(Evidence.issue_id)
        ).all()
    )
    return measures, supporting, evidence


def ledger_row(
    issue: Issue,
    seq: int,
    rounds: dict[int, str],
    measures: list[Any],
    supporting: list[str],
    evidence: int,
) -> dict[str, Any]:
    """The ledger's values for one issue, by field."""
    st = definition_of(issue.definition).states.get(issue.state)
    return {
        "seq": seq,
        "number": issue.number,
        "round": rounds.get(issue.round_id) if issue.round_id else None,
        "source": issue.source,
        "category": issue.category,
        "title": issue.title,
        "description": issue.description,
        "unit": issue.unit.name,
        "unit_code": issue.unit.code,
        "supporting": "、".join(supporting) or None,
        "supervising_leader": issue.supervising_leader,
        "person_in_charge": issue.person_in_charge,
        "deadline_type": DEADLINE_LABELS.get(issue.deadline_type, issue.deadline_type),
        "due_on": issue.due_on,
        "measures": "\n".join(
            f"{m.seq}. {m.text}" + (f"（{m.due_on.isoformat()}）" if m.due_on else "")
            for m in measures
        )
        or None,
        "progress": f"{issue.progress}%",
        "completion": issue.completion,
        "state": st.label.zh if st else issue.state,
        "warning": WARNING_LABELS.get(issue.warning_level, issue.warning_level),
        "evidence": evidence,
    }


def export_ledger(
    session: Session,
    user: User,
    target: Target,
    now: datetime,
    f: queries.Filters | None = None,
    title: str | None = None,
) -> int:
    """Write the 整改台账 of ``user``'s scope (``f.unit_id``: one subtree) to ``target``."""
    f = f or queries.Filters()
    unit = session.get(Unit, f.unit_id) if f.unit_id else None
    ids_stmt = ledger_statement(user, f, session, now)
    total = (
        session.scalar(select(func.count()).select_from(ids_stmt.order_by(None).subquery())) or 0
    )
    rounds = dict(session.execute(select(Round.id, Round.name)).all())
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("整改台账")
    ncols = len(LEDGER_COLUMNS)
    for i, (_, width, _) in enumerate(LEDGER_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    _print_setup(ws, 3, ncols)
    heading = title or f"{unit.name if unit else ''}巡视巡察反馈问题整改台账"
    ws.merged_cells.add(CellRange(min_col=1, min_row=1, max_col=ncols, max_row=1))
    ws.merged_cells.add(CellRange(min_col=1, min_row=2, max_col=ncols, max_row=2))
    ws.row_dimensions[1].height = 30
    ws.append([_cell(ws, heading, font=Font(bold=True, size=16), align=CENTER)])
    local = now.astimezone().strftime("%Y-%m-%d %H:%M")
    ws.append([_cell(ws, f"导出时间：{local}　共 {total} 条", align=Alignment(horizontal="right"))])
    ws.append([_cell(ws, h, font=HEADER_FONT, fill=HEADER_FILL, align=CENTER, border=True)
               for h, _, _ in LEDGER_COLUMNS])  # fmt: skip
    seq = 0
    wrap_fields = {"title", "description", "measures", "supporting"}
    for batch in _batches(session, ids_stmt):
        measures, supporting, evidence = _extras(session, [i.id for i in batch])
        for issue in batch:
            seq += 1
            values = ledger_row(issue, seq, rounds, measures.get(issue.id, []),
                                supporting.get(issue.id, []), evidence.get(issue.id, 0))  # fmt: skip
            ws.append([
                _cell(ws, values[key], align=WRAP) if key in wrap_fields else values[key]
                for _, _, key in LEDGER_COLUMNS
            ])  # fmt: skip
    wb.save(target)
    return seq


# ---------------------------------------------------------------------------------- statistics

STAT_HEADERS = ["问题数", "已销号", "未销号", "完成率", "已完成", "基本完成", "长期坚持", "超期",
                "黄牌", "红牌"]  # fmt: skip


def _progress_values(p: queries.Progress) -> list[Any]:
    """The figures of a progress line, in the statistics sheets' column order."""
    return [p.total, p.done, p.not_completed, round(p.rate, 4), p.completed, p.substantially,
            p.ongoing, p.overdue, p.yellow, p.red]  # fmt: skip


def _sheet(wb: Workbook, name: str, headers: list[str], rows: list[list[Any]], title: str) -> None:
    """Add a statistics sheet: title row, header row and ``rows``."""
    ws = wb.create_sheet(name)
    for i, h in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(10, min(40, len(h) * 3))
    ws.column_dimensions["A"].width = 28
    _print_setup(ws, 2, len(headers))
    ws.merged_cells.add(CellRange(min_col=1, min_row=1, max_col=len(headers), max_row=1))
    ws.append([_cell(ws, title, font=Font(bold=True, size=14), align=CENTER)])
    ws.append([_cell(ws, h, font=HEADER_FONT, fill=HEADER_FILL, align=CENTER, border=True)
               for h in headers])  # fmt: skip
    rate_col = headers.index("完成率") if "完成率" in headers else None
    for row in rows:
        cells: list[Any] = list(row)
        if rate_col is not None and isinstance(row[rate_col], float):
            c = WriteOnlyCell(ws, value=row[rate_col])
            c.number_format = "0.0%"
            cells[rate_col] = c
        ws.append(cells)


def export_statistics(
    session: Session, user: User, target: Target, now: datetime, f: queries.Filters | None = None
) -> None:
    """Write the statistics report: one sheet per dimension, the board's own figures."""
    f = f or queries.Filters()
    stats = queries.statistics(session, user, now, f)
    unit = session.get(Unit, f.unit_id) if f.unit_id else None
    scope = unit.name if unit else "全部"
    wb = Workbook(write_only=True)
    p = stats.progress
    overall = [
        ["问题总数", p.total], ["已销号", p.done], ["未销号", p.not_completed],
        ["完成率", round(p.rate, 4)], ["已完成", p.completed], ["基本完成", p.substantially],
        ["长期坚持", p.ongoing], ["超期", p.overdue], ["黄牌", p.yellow], ["红牌", p.red],
        ["整改措施", stats.measures], ["建章立制", stats.rules_written],
        ["追缴金额（元）", float(stats.money_recovered or 0)], ["处理人数", stats.people_handled],
        ["反弹次数", stats.relapses], ["问题线索", stats.leads], ["线索已处置", stats.leads_disposed],
        ["立案", stats.cases_opened], ["党纪政务处分", stats.sanctions], ["组织处理", stats.org_measures],
        *[[f"文书：{k}", v] for k, v in sorted(stats.letters.items())],
        *[[f"预警：{k}", v] for k, v in sorted(stats.escalations.items())],
    ]  # fmt: skip
    _sheet(wb, "总体", ["指标", "数值"], overall, f"{scope}整改统计（{now:%Y-%m-%d}）")
    if unit is not None:
        kids = queries.unit_progress(session, user, queries.child_units(session, unit.id), now,
                                     replace(f, unit_id=None))  # fmt: skip
    else:
        roots = [u.id for u in queries.root_units(user)]
        kids = queries.unit_progress(session, user, roots, now, f)
    _sheet(wb, "按单位", ["单位", *STAT_HEADERS],
           [[k.name, *_progress_values(k)] for k in kids], f"{scope}按单位统计")  # fmt: skip
    dim = ["问题数", "已销号", "未销号", "完成率"]
    _sheet(wb, "按类别", ["问题类别", *dim],
           [[c, n, d, n - d, round(d / n, 4) if n else 0.0] for c, n, d in stats.by_category],
           f"{scope}按问题类别统计")  # fmt: skip
    _sheet(wb, "按轮次", ["轮次", *dim],
           [[c, n, d, n - d, round(d / n, 4) if n else 0.0] for c, n, d in stats.by_round],
           f"{scope}按轮次统计")  # fmt: skip
    _sheet(wb, "按月份", ["月份", "新增", "销号"], [list(r) for r in stats.monthly],
           f"{scope}按月统计")  # fmt: skip
    if stats.leads:
        _sheet(wb, "问题线索", ["干部层级", "线索数"], [list(r) for r in stats.leads_by_cadre],
               f"{scope}问题线索按干部层级统计")  # fmt: skip
    wb.save(target)
