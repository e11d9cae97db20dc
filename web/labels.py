"""The names of the engine's fixed vocabularies, translated: stages, roles, levels, kinds.

Definition states and actions carry their own zh/en labels in the YAML; the vocabularies
here are the engine's own codes (``Issue.stage``, ``Membership.role``, ``Unit.level`` …)
that pages show.  Each is a dict of lazy gettext strings, so the catalogue has every name
and the request's language picks one; an unknown code shows as itself.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

STAGES = {
    "transfer": _l("Transfer"),
    "handling": _l("Handling"),
    "correction": _l("Correction"),
    "verification": _l("Verification"),
    "closed": _l("Closed out"),
    "followup": _l("Follow-up"),
    "archived": _l("Archived"),
}
ROLES = {
    "office": _l("Inspection office"),
    "unit_user": _l("Unit clerk"),
    "unit_head": _l("Principal leader"),
    "supervisor": _l("Supervisor"),
    "spot_check": _l("Spot-check team"),
    "discipline": _l("Discipline commission"),
    "leader": _l("Leading group"),
    "system": _l("System"),
}
LEVELS = {
    "province": _l("Province"),
    "city": _l("City"),
    "county": _l("County"),
    "township": _l("Township"),
    "department": _l("Department"),
    "village": _l("Village"),
}
ROUND_KINDS = {"xunshi": _l("Inspection (province)"), "xuncha": _l("Inspection (city/county)")}
DEADLINE_TYPES = {
    "fix_now": _l("Fix now"),
    "by_deadline": _l("By deadline"),
    "ongoing": _l("Ongoing"),
}
WARNINGS = {"green": _l("On track"), "yellow": _l("Yellow card"), "red": _l("Red card")}
COMPLETIONS = {
    "已完成": _l("Completed"),
    "基本完成": _l("Substantially completed"),
    "未完成": _l("Not completed"),
}
STATE_KINDS = {
    "open": _l("Open"),
    "ongoing": _l("Ongoing"),
    "closed": _l("Closed"),
    "relapsed": _l("Relapsed"),
}
LETTERS = {
    "reminder": _l("Reminder"),
    "supervision_notice": _l("Supervision notice"),
    "admonition": _l("Admonition"),
    "talk_notice": _l("Admonitory meeting"),
    "circulated_notice": _l("Circulated notice"),
}
SORTS = {
    "due": _l("Deadline, soonest first"),
    "-due": _l("Deadline, latest first"),
    "number": _l("Number"),
    "-number": _l("Number (descending)"),
    "updated": _l("Recently updated"),
    "opened": _l("Recently transferred"),
    "progress": _l("Progress, lowest first"),
    "-progress": _l("Progress, highest first"),
}
BULK_ACTIONS = {
    "remind": _l("Remind the unit"),
    "assign_checker": _l("Assign checker"),
    "approve": _l("Approve plans"),
}
CHECK_ITEMS = {
    "completion_rate": _l("Rectification completion rate"),
    "overdue_rate": _l("Overdue rate"),
    "relapse_rate": _l("Relapse rate"),
    "leads_on_time_rate": _l("Leads handled on time"),
}
CHECK_DEFINITIONS = {
    "completion_rate": _l("Closed / all rectification issues"),
    "overdue_rate": _l("Open issues past their earliest deadline / all"),
    "relapse_rate": _l("Relapsed / ever closed"),
    "leads_on_time_rate": _l("Leads fed back on time / leads due"),
}
NET_MODES = {"computed": _l("Computed"), "entered": _l("Entered"), "handed_up": _l("Handed up")}
INFO_SOURCES = {
    "own": _l("This round"),
    "simultaneous": _l("Simultaneous inspection"),
    "earlier": _l("Earlier lower-level inspection"),
}
ISSUE_KINDS = {
    "rectification": _l("Rectification issue"),
    "common_problem": _l("Common problem"),
    "problem_lead": _l("Problem lead"),
}
# the 来源 of a finding: a provincial 巡视 or a city/county 巡察 (stored as the Chinese word)
FINDING_SOURCES = {"巡视": _l("Inspection (province)"), "巡察": _l("Inspection (city/county)")}
IMPORT_STATUSES = {
    "valid": _l("Valid"),
    "invalid": _l("With problems"),
    "existing": _l("Already imported"),
}

CHANNELS = {
    "in_app": _l("In-app"),
    "email": _l("E-mail"),
    "webhook": _l("Signed webhook"),
    "dingtalk": _l("DingTalk robot"),
    "wecom": _l("WeCom group robot"),
    "feishu": _l("Feishu bot"),
}

VOCABULARIES: dict[str, Mapping[str, LazyString]] = {
    "channel_label": CHANNELS,
    "stage_label": STAGES,
    "role_label": ROLES,
    "level_label": LEVELS,
    "round_kind_label": ROUND_KINDS,
    "deadline_label": DEADLINE_TYPES,
    "warning_label": WARNINGS,
    "completion_label": COMPLETIONS,
    "state_kind_label": STATE_KINDS,
    "letter_label": LETTERS,
    "sort_label": SORTS,
    "bulk_label": BULK_ACTIONS,
    "check_label": CHECK_ITEMS,
    "check_definition": CHECK_DEFINITIONS,
    "net_mode_label": NET_MODES,
    "source_label": INFO_SOURCES,
    "kind_label": ISSUE_KINDS,
    "finding_source_label": FINDING_SOURCES,
    "import_status_label": IMPORT_STATUSES,
}


def name_of(vocabulary: Mapping[str, LazyString], code: str | None) -> str:
    """The translated name of ``code`` in ``vocabulary`` (the code itself when unknown)."""
    if code is None:
        return ""
    found = vocabulary.get(code)
    return str(found) if found is not None else code


def init_app(app: Flask) -> None:
    """Offer ``stage_label(code)``, ``role_label(code)`` … to every template."""
    for name, vocabulary in VOCABULARIES.items():
        app.jinja_env.globals[name] = lambda code, v=vocabulary: name_of(v, code)
