"""``/api/v1/imports`` and ``/api/v1/exports``: the 问题清单 in, the 台账 and statistics out."""

from __future__ import annotations

import io
import tempfile
from typing import Any

from flask import request, send_file
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from web.api.auth import current_api_user, prepare
from web.api.errors import ApiError
from web.api.schemas import ImportArgsSchema, ImportReportSchema
from web.database import get_session, now
from workflow import imports, queries
from workflow.queries import export

blp = Blueprint("api_excel", __name__, url_prefix="/api/v1", description="Excel import and export")
prepare(blp)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ExportArgsSchema(Schema):
    """Which subtree (and round) to export."""

    unit = fields.String(validate=validate.Length(max=64), metadata={"description": "unit code"})
    round = fields.String(validate=validate.Length(max=64), metadata={"description": "round code"})


def report_dict(report: imports.ImportReport) -> dict[str, Any]:
    """An import report for JSON."""
    return {
        "rows": report.rows,
        "valid": report.valid,
        "invalid": report.invalid,
        "existing": report.existing,
        "created": report.created,
        "written": report.written,
        "errors": [vars(m) for m in report.errors],
        "errors_truncated": report.errors_truncated,
    }


@blp.post("/imports")
@blp.arguments(ImportArgsSchema, location="query")
@blp.response(200, ImportReportSchema)
@blp.alt_response(413, description="the file is larger than the limit")
@blp.alt_response(415, description="not multipart/form-data")
def import_issues(args: dict[str, Any]) -> dict[str, Any]:
    """Import a 问题清单 (.xlsx, multipart ``file``); a dry run unless ``dry_run=false``."""
    session, user = get_session(), current_api_user()
    if not (request.mimetype or "").startswith("multipart/form-data"):
        raise ApiError(415, _l("send the workbook as multipart/form-data with a part named 'file'"))
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ApiError(422, _l("no file was sent"), fields={"file": [_l("required")]})
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as buf:
        upload.save(buf)
        buf.seek(0)
        report = imports.import_issues(
            session, buf, user, now(), dry_run=args["dry_run"], valid_only=args["valid_only"]
        )
    if report.written:
        session.commit()
    else:
        session.rollback()
    if not args["dry_run"] and not report.ok and not args["valid_only"]:
        raise ApiError(
            422,
            _l("nothing was imported: fix the rows below, or import only the valid rows"),
            fields={"file": [str(m) for m in report.errors[:200]]},
        )
    return report_dict(report)


def _filters(session: Any, args: dict[str, Any]) -> queries.Filters:
    """The export's filters from its codes (404: unit out of reach, 422: no such round)."""
    user = current_api_user()
    unit_id = round_id = None
    if args.get("unit"):
        unit = queries.unit_by_code(session, args["unit"])
        if unit is None or queries.unit_in_reach(session, user, unit.id) is None:
            raise ApiError(404, f"no unit {args['unit']!r} in your scope")
        unit_id = unit.id
    if args.get("round"):
        round_id = queries.round_id_by_code(session, args["round"])
        if round_id is None:
            raise ApiError(422, f"no round {args['round']!r}", fields={"round": ["no such code"]})
    return queries.Filters(unit_id=unit_id, round_id=round_id)


def _xlsx(buf: io.BytesIO, name: str) -> Any:
    """The workbook in ``buf`` as a download named ``name``."""
    buf.seek(0)
    return send_file(buf, mimetype=XLSX, as_attachment=True, download_name=name)


@blp.get("/exports/ledger")
@blp.arguments(ExportArgsSchema, location="query")
@blp.response(200, description="the 整改台账 workbook", content_type=XLSX)
def export_ledger(args: dict[str, Any]) -> Any:
    """The 整改台账 of a subtree (default: everything you see) as .xlsx."""
    session, user, at = get_session(), current_api_user(), now()
    buf = io.BytesIO()
    export.export_ledger(session, user, buf, at, _filters(session, args))
    return _xlsx(buf, f"ledger-{args.get('unit') or 'all'}-{at:%Y%m%d}.xlsx")


@blp.get("/exports/statistics")
@blp.arguments(ExportArgsSchema, location="query")
@blp.response(200, description="the statistics workbook", content_type=XLSX)
def export_statistics(args: dict[str, Any]) -> Any:
    """The statistics report of a subtree (one sheet per dimension) as .xlsx."""
    session, user, at = get_session(), current_api_user(), now()
    buf = io.BytesIO()
    export.export_statistics(session, user, buf, at, _filters(session, args))
    return _xlsx(buf, f"statistics-{args.get('unit') or 'all'}-{at:%Y%m%d}.xlsx")
