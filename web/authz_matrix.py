"""Who may reach which endpoint: the one reviewed declaration, checked by the tests.

Every endpoint in ``app.url_map`` (pages, htmx fragments, the JSON API, downloads and
exports) has exactly one :class:`Access` entry here.  ``tests/security/test_authz.py``
fails when a route has no entry (deny by default: a new route is not done until someone
has decided and reviewed who may call it), when an entry names no route, and when the app
answers differently from what is declared here — for every role of the test province,
anonymous visitors, and objects inside and outside each user's scope.

How to read an entry:

- ``auth``: ``public`` (no login), ``session`` (the web's login cookie) or ``token``
  (``Authorization: Bearer``; the cookie confers nothing on the API).
- ``roles``: the roles that get past the endpoint's gate; any other role gets 403 or 404.
  ``ALL`` means every logged-in role: the data shown is then narrowed by
  :mod:`workflow.org.scope` inside the view.
- ``scope``: the object the URL names, whose visibility is checked before anything is
  shown or changed; an object outside the user's scope answers 404, the same as one that
  does not exist (no existence oracle).  ``issue`` (an issue the user may see), ``lead`` (a
  problem lead the user may see), ``evidence`` and ``letter`` (through their issue),
  ``message`` and ``token`` (the user's own), ``unit`` (a unit inside the user's units,
  given as ``?unit=``; on the admin pages, inside the user's *office* units),
  ``definition`` (any definition version, office only), ``robot`` (a group robot of a unit
in the office's reach), ``import``
  (an Excel upload staged by this user), ``round`` and ``team`` (an inspection round or
  team organised in, or targeting, the user's reach), ``rollup`` (a common problem the
  user may see).
- ``service``: after the gate, :func:`workflow.service.act` (or ``open_issue``) decides
  per action and state, so a user who may see the object can still get 403.

The gate itself lives in the views (``login_required``, ``role_required``,
``queries.get_visible``, the API's token check); this file does not grant anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow.org.scope import ROLES

ALL = frozenset(ROLES)
NONE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Access:
    """Who may reach one endpoint, and which object it is scoped to."""

    auth: str
    roles: frozenset[str] = ALL
    scope: str | None = None
    service: bool = False
    note: str = ""


def _roles(*names: str) -> frozenset[str]:
    unknown = set(names) - ALL
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    return frozenset(names)


PUBLIC = Access("public", NONE)
OFFICE = _roles("office")
READERS = _roles("office", "supervisor", "leader")

MATRIX: dict[str, Access] = {
    # ---------------------------------------------------------------- public
    "static": PUBLIC,
    "healthz": PUBLIC,
    "auth.login": Access(
        "public", NONE, note="CSRF-protected, rate-limited per account and address"
    ),
    "auth.logout": Access("public", NONE, note="ends every session of the user (epoch bump)"),
    "set_lang": Access("public", NONE),
    "api_docs.docs": Access("public", NONE, note="the list of operations, no data"),
    "api-docs.openapi_json": Access("public", NONE, note="the OpenAPI document, no data"),
    # ---------------------------------------------------------------- pages for everyone
    "home.index": Access("session"),
    "board.index": Access("session", scope="unit"),
    "ledger.index": Access("session", note="?unit= only narrows the scoped list (no 404)"),
    "ledger.preview": Access("session", note="selected ids filtered by scope.visible_clause"),
    "ledger.apply": Access("session", service=True, note="each item through service.act"),
    "inbox.index": Access("session"),
    "inbox.bell": Access("session"),
    "inbox.read": Access("session", scope="message"),
    "inbox.read_all": Access("session"),
    "excel.index": Access("session"),
    "excel.preview": Access("session", note="excel_import checks the right to open each row"),
    "excel.confirm": Access("session", scope="import"),
    "excel.ledger": Access("session", scope="unit"),
    "excel.statistics": Access("session", scope="unit"),
    "excel.account_tokens": Access("session"),
    "excel.revoke_token": Access("session", scope="token"),
    # ---------------------------------------------------------------- issues and evidence
    "issues.show": Access("session", scope="issue"),
    "issues.act": Access("session", scope="issue", service=True),
    "issues.diagram": Access("session", scope="issue"),
    "issues.letter": Access("session", scope="letter"),
    "issues.letter_docx": Access("session", scope="letter"),
    "issues.create": Access("session", OFFICE, service=True),
    "evidence.upload": Access(
        "session",
        _roles("unit_user", "unit_head", "office"),
        scope="issue",
        note="only for the lead unit (a supporting unit sees but may not upload)",
    ),  # fmt: skip
    "evidence.download": Access("session", scope="evidence"),
    # ---------------------------------------------------------------- role pages
    "queues.supervise": Access("session", _roles("supervisor")),
    "queues.spotcheck": Access("session", _roles("spot_check", "office")),
    "leads.index": Access("session", _roles("discipline", "office")),
    "leads.show": Access("session", _roles("discipline", "office"), scope="lead"),
    "stats.index": Access(
        "session", _roles("office", "supervisor", "leader", "discipline"), scope="unit"
    ),
    # ---------------------------------------------------------------- administration
    "admin.index": Access("session", OFFICE),
    "admin.units": Access(
        "session",
        OFFICE,
        scope="unit",
        note="only the units of the office's subtrees; a parent outside reads as missing",
    ),
    "admin.users": Access(
        "session",
        OFFICE,
        scope="unit",
        note="only users with a post in the office's subtrees, and only those posts; "
        "a role at a unit outside reads as missing",
    ),
    "admin.rounds": Access(
        "session", OFFICE, note="rounds organised in or inspecting the office's subtrees"
    ),
    "admin.definitions": Access("session", OFFICE),
    "admin.definition": Access("session", OFFICE, scope="definition"),
    "admin.diagram": Access("session", OFFICE, scope="definition"),
    "admin.check": Access("session", OFFICE),
    "admin_robots.robots": Access("session", OFFICE, note="robots of the office's units only"),
    "admin_robots.toggle": Access("session", OFFICE, scope="robot"),
    "admin_letters.letters": Access(
        "session", OFFICE, service=True, note="replacing: an office at a root unit only (403)"
    ),
    "admin_letters.download": Access("session", OFFICE),
    "admin_letters.preview": Access("session", OFFICE),
    "admin_letters.reset": Access(
        "session", OFFICE, service=True, note="an office at a root unit only (403)"
    ),
    # ---------------------------------------------------------------- 上下联动 linkage
    "linkage.index": Access("session", READERS),
    "linkage.rounds": Access("session", READERS, service=True, note="creating: office only (403)"),
    "linkage.round_page": Access("session", READERS, scope="round"),
    "linkage.form_team": Access("session", READERS, scope="round", service=True),
    "linkage.team_page": Access("session", READERS, scope="team"),
    "linkage.add_member": Access("session", READERS, scope="team", service=True),
    "linkage.add_target": Access("session", READERS, scope="team", service=True),
    "linkage.carry": Access("session", READERS, scope="team", service=True),
    "linkage.push": Access("session", READERS),
    "linkage.push_preview": Access("session", OFFICE),
    "linkage.push_confirm": Access("session", OFFICE, service=True),
    "linkage.rollup_page": Access("session", READERS, scope="rollup"),
    "linkage.checks": Access("session", READERS, service=True),
    "linkage.network": Access("session", READERS, service=True),
    # ---------------------------------------------------------------- JSON API (tokens)
    "api_tokens.me": Access("token"),
    "api_tokens.list_my_tokens": Access("token"),
    "api_tokens.create_my_token": Access("token"),
    "api_tokens.revoke_my_token": Access("token", scope="token"),
    "api_issues.list_issues": Access("token"),
    "api_issues.create_issue": Access("token", OFFICE, service=True),
    "api_issues.get_issue": Access("token", scope="issue"),
    "api_issues.act_on_issue": Access("token", scope="issue", service=True),
    "api_issues.list_events": Access("token", scope="issue"),
    "api_issues.list_evidence": Access("token", scope="issue"),
    "api_issues.upload_evidence": Access(
        "token", _roles("unit_user", "unit_head", "office"), scope="issue"
    ),
    "api_issues.download_evidence": Access("token", scope="evidence"),
    "api_units.list_units": Access("token"),
    "api_units.unit_progress": Access("token", scope="unit"),
    "api_units.unit_statistics": Access("token", scope="unit"),
    "api_excel.import_issues": Access("token", note="excel_import checks each row"),
    "api_excel.export_ledger": Access("token", scope="unit"),
    "api_excel.export_statistics": Access("token", scope="unit"),
}


def undeclared(endpoints: set[str]) -> set[str]:
    """Endpoints of an app that have no entry here (each one is a finding)."""
    return endpoints - MATRIX.keys()
