"""marshmallow schemas of the API (the OpenAPI document is generated from them).

Inputs reject unknown fields (marshmallow's default ``RAISE``), so a typo answers 422 naming
the field instead of being ignored.  String lengths match the database columns, so no input
reaches the database too long for its column: every bound is read from the schema
(:mod:`workflow.limits`), the same the engine checks.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from workflow.definition.model import DEADLINE_TYPES
from workflow.limits import ID_MAX, text_limit
from workflow.models import ApiToken, Issue, Unit

STATES_HELP = "state name as in the definition, e.g. correcting"
MAX_ID = ID_MAX
CODE_MAX = text_limit(Unit.code)


def code_arg(**kw: Any) -> fields.String:
    """A unit, round or state code as input (as wide as the code columns)."""
    return fields.String(validate=validate.Length(max=CODE_MAX), **kw)


def text_arg(max_length: int, **kw: Any) -> fields.String:
    """A free text input of at most ``max_length`` characters (its column's size)."""
    return fields.String(validate=validate.Length(max=max_length), **kw)


def deadline_type_arg() -> fields.String:
    """立行立改 / 限期整改 / 长期坚持 as input."""
    return fields.String(validate=validate.OneOf(list(DEADLINE_TYPES)))


def id_arg(**kw: Any) -> fields.Integer:
    """A row id or version number as input (a positive 32-bit integer)."""
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kw)


class ErrorBodySchema(Schema):
    """The body of every error."""

    status = fields.Integer(required=True)
    code = fields.String(required=True)
    message = fields.String(required=True)
    changes = fields.List(
        fields.Dict(), metadata={"description": "what changed since your version"}
    )
    field_messages = fields.Dict(
        data_key="fields",
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "per-field messages"},
    )


class ErrorSchema(Schema):
    """``{"error": {...}}``."""

    error = fields.Nested(ErrorBodySchema, required=True)


# ------------------------------------------------------------------------------ units


class UnitRefSchema(Schema):
    """A unit as referenced from other objects."""

    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class UnitSchema(UnitRefSchema):
    """One node of the unit tree (a flat list ordered by path; ``parent_code`` links it)."""

    level = fields.String()
    depth = fields.Integer()
    parent_code = fields.String(allow_none=True)


class FiguresSchema(Schema):
    """The progress figures the web board shows, shared by progress and statistics rows."""

    total = fields.Integer()
    completed = fields.Integer()
    substantially_completed = fields.Integer()
    not_completed = fields.Integer()
    completion_rate = fields.Float()
    overdue = fields.Integer()
    yellow = fields.Integer()
    red = fields.Integer()


class UnitRowSchema(Schema):
    """A row about one unit."""

    unit = fields.Nested(UnitRefSchema)


# marshmallow lists the fields of the last base first: the unit (or the key), then the figures
class ProgressRowSchema(FiguresSchema, UnitRowSchema):
    """Progress figures of one unit's subtree."""

    ongoing = fields.Integer()


class ProgressSchema(Schema):
    """A subtree's progress: its own total and one row per child unit."""

    unit = fields.Nested(UnitRefSchema)
    total = fields.Nested(ProgressRowSchema)
    children = fields.List(fields.Nested(ProgressRowSchema))


class KeyRowSchema(Schema):
    """A row about one value of a dimension."""

    key = fields.String(allow_none=True)
    label = fields.String(allow_none=True)


class StatRowSchema(FiguresSchema, KeyRowSchema):
    """The figures of one value of a statistics dimension."""

    rules_written = fields.Integer()
    money_recovered = fields.String()
    people_handled = fields.Integer()


class StatisticsSchema(Schema):
    """Statistics of a subtree (optionally one round), one list per dimension."""

    unit = fields.Nested(UnitRefSchema)
    round = fields.String(allow_none=True)
    dimensions = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(StatRowSchema)))


class ScopeArgsSchema(Schema):
    """Query of the statistics: a round within the subtree."""

    round = code_arg()


# ------------------------------------------------------------------------------ issues


class IssueListArgsSchema(Schema):
    """The ledger's filters and the page wanted."""

    round = code_arg(metadata={"description": "round code"})
    unit = code_arg(metadata={"description": "unit code: its subtree"})
    category = text_arg(text_limit(Issue.category))
    state = code_arg(metadata={"description": STATES_HELP})
    stage = text_arg(text_limit(Issue.stage))
    deadline_type = deadline_type_arg()
    warning_level = fields.String(validate=validate.OneOf(["green", "yellow", "red"]))
    overdue = fields.Boolean()
    q = text_arg(200, metadata={"description": "search number, title, description"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))  # a cap
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class IssueSummarySchema(Schema):
    """One row of the ledger."""

    id = fields.Integer()
    number = fields.String()
    kind = fields.String()
    title = fields.String()
    category = fields.String(allow_none=True)
    state = fields.String()
    state_label = fields.String()
    stage = fields.String()
    state_kind = fields.String()
    unit = fields.Nested(UnitRefSchema)
    round = fields.String(allow_none=True)
    deadline_type = fields.String()
    due_on = fields.Date(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    overdue = fields.Boolean()
    warning_level = fields.String()
    progress = fields.Integer()
    completion = fields.String()
    version = fields.Integer()
    updated_at = fields.DateTime()


class IssuePageSchema(Schema):
    """A page of the ledger."""

    items = fields.List(fields.Nested(IssueSummarySchema))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


class FieldSpecSchema(Schema):
    """A field an action takes."""

    name = fields.String()
    type = fields.String()
    required = fields.Boolean()
    label = fields.String()
    label_en = fields.String()
    choices = fields.List(fields.String())
    max_length = fields.Integer(allow_none=True)
    min = fields.Float(allow_none=True)
    max = fields.Float(allow_none=True)


class ActionSchema(Schema):
    """An action the caller may take now."""

    name = fields.String()
    label = fields.String()
    label_en = fields.String()
    action_fields = fields.List(fields.Nested(FieldSpecSchema), data_key="fields")


class DeadlineSchema(Schema):
    """A running or paused deadline."""

    clock = fields.String()
    due_at = fields.DateTime()
    original_due_at = fields.DateTime()
    status = fields.String()
    provisional = fields.Boolean()


class MeasureSchema(Schema):
    """A rectification measure."""

    seq = fields.Integer()
    text = fields.String()
    due_on = fields.Date(allow_none=True)
    done = fields.Boolean()


class IssueSchema(IssueSummarySchema):
    """One issue in full, with the actions the caller may take now."""

    description = fields.String()
    source = fields.String(allow_none=True)
    inspected_unit = fields.Nested(UnitRefSchema, allow_none=True)
    supporting_units = fields.List(fields.Nested(UnitRefSchema))
    supervising_leader = fields.String(allow_none=True)
    person_in_charge = fields.String(allow_none=True)
    grade = fields.String(allow_none=True)
    rules_written = fields.Integer()
    money_recovered = fields.String()
    people_handled = fields.Integer()
    opened_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    measures = fields.List(fields.Nested(MeasureSchema))
    deadlines = fields.List(fields.Nested(DeadlineSchema))
    evidence_count = fields.Integer()
    actions = fields.List(fields.Nested(ActionSchema))


class IssueCreateSchema(Schema):
    """A new issue (the office's 移交); codes name the unit and the round."""

    definition = fields.String(
        load_default="rectification",
        validate=validate.OneOf(["rectification", "problem_lead", "common_problem"]),
    )
    title = fields.String(
        required=True, validate=validate.Length(min=1, max=text_limit(Issue.title))
    )
    description = text_arg(text_limit(Issue.description))
    category = text_arg(text_limit(Issue.category))
    unit = fields.String(required=True, validate=validate.Length(min=1, max=CODE_MAX))
    inspected_unit = code_arg()
    supporting_units = fields.List(code_arg(), validate=validate.Length(max=200))
    round = code_arg()
    deadline_type = deadline_type_arg()
    due_on = text_arg(20, metadata={"description": "2026-12-31, 2026/12/31 or 2026年12月31日"})
    supervising_leader = text_arg(text_limit(Issue.supervising_leader))
    person_in_charge = text_arg(text_limit(Issue.person_in_charge))
    source = text_arg(text_limit(Issue.source))
    cadre_level = text_arg(text_limit(Issue.cadre_level))
    number = text_arg(text_limit(Issue.number))


class ActArgsSchema(Schema):
    """An action's input and the version the caller saw."""

    data = fields.Dict(keys=fields.String(), load_default=dict)
    expected_version = id_arg(required=True)


class ActResultSchema(Schema):
    """What an action did, and the issue after it."""

    from_state = fields.String()
    to_state = fields.String()
    version = fields.Integer()
    notified = fields.Integer()
    issue = fields.Nested(IssueSchema)


class EventSchema(Schema):
    """One entry of an issue's history."""

    id = fields.Integer()
    at = fields.DateTime()
    action = fields.String()
    outcome = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    actor = fields.String(allow_none=True)
    actor_role = fields.String(allow_none=True)
    changes = fields.Dict()
    input = fields.Dict()


class EvidenceSchema(Schema):
    """A 佐证材料 file's record."""

    id = fields.Integer()
    issue_id = fields.Integer()
    measure_id = fields.Integer(allow_none=True)
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_by = fields.String(allow_none=True)
    uploaded_at = fields.DateTime()


class EvidenceUploadSchema(Schema):
    """The multipart form of an upload (the file itself is the ``file`` part)."""

    measure_id = id_arg()


# ------------------------------------------------------------------------------ tokens


class TokenSchema(Schema):
    """A token as listed (never its plaintext)."""

    id = fields.Integer()
    name = fields.String()
    prefix = fields.String()
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class TokenCreatedSchema(TokenSchema):
    """A new token: the plaintext appears here once."""

    token = fields.String()


class TokenCreateSchema(Schema):
    """A new token's name."""

    name = fields.String(
        required=True, validate=validate.Length(min=1, max=text_limit(ApiToken.name))
    )


# ------------------------------------------------------------------------------ excel


class ImportArgsSchema(Schema):
    """How to run an import."""

    dry_run = fields.Boolean(load_default=True)
    valid_only = fields.Boolean(load_default=False)


class ImportMessageSchema(Schema):
    """One problem found in a spreadsheet."""

    sheet = fields.String(allow_none=True)
    row = fields.Integer(allow_none=True)
    column = fields.String(allow_none=True)
    message = fields.String()


class ImportReportSchema(Schema):
    """What an import found and did."""

    rows = fields.Integer()
    valid = fields.Integer()
    invalid = fields.Integer()
    existing = fields.Integer()
    created = fields.Integer()
    written = fields.Boolean()
    errors = fields.List(fields.Nested(ImportMessageSchema))
    errors_truncated = fields.Boolean()
