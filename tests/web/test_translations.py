"""Every page and fragment, in Chinese and in English, for a user of each role of the demo
province: no untranslated key, no raw message id, no English sentence on a Chinese page.

Also: every message id of the catalogue has its Chinese text, and what the engine refuses
(a field that did not validate, a guard, an unknown unit) reaches a Chinese page in Chinese.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import pytest
from babel.messages.pofile import read_po
from flask import url_for
from sqlalchemy import select

from tests.conftest import make_database
from web import create_app
from web.locale import TRANSLATIONS
from workflow.clock.calendar_load import seed_from_packages
from workflow.demo.province import DEMO_PASSWORD, build
from workflow.models import (
    ApiToken,
    DefinitionVersion,
    Evidence,
    InboxMessage,
    Issue,
    Letter,
    Round,
    Team,
    Unit,
    User,
)

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
HX = {"HX-Request": "true"}
# files and redirects, not pages
NOT_PAGES = {"static", "healthz", "excel.ledger", "excel.statistics", "evidence.download",
             "issues.diagram", "issues.letter", "admin.diagram", "auth.logout",
             "inbox.open_message"}  # fmt: skip
# a text node that is a key: nav_linkage, stage_transfer, error_404 …
RAW_KEY = re.compile(r"^[a-z]+(?:_[a-z0-9]+)+$")
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}")
# an English word: three letters or more, not all capitals (HZ, API are codes)
ENGLISH = re.compile(r"(?<![A-Za-z0-9_.@/-])(?=[A-Za-z]*[a-z])[A-Za-z]{3,}(?![A-Za-z0-9_.@/-])")
# what may stand in English on a Chinese page: the product's name, the other language's
# name, formats and file types, and codes (unit codes, logins, ids: letters joined by - . _ @
# or with digits), which are data, not interface
PROPER = re.compile(
    r"Rectiflow|English|Excel|Word|YYYY-MM-DD|HH:MM|\.(?:xlsx|pdf|docx|svg|yaml)\b|"
    r"[A-Za-z0-9]+(?:[-._@/][A-Za-z0-9]+)+|\w*\d\w*"
)


class Texts(HTMLParser):
    """The visible text nodes of a page and the texts of its labelling attributes."""

    ATTRS = ("title", "placeholder", "aria-label", "alt")
    # not interface text: scripts, and code shown as code (a definition's YAML, a state name)
    CODE = ("script", "style", "pre", "code", "kbd", "samp")

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.CODE:
            self._skip += 1
        for name, value in attrs:
            if name in self.ATTRS and value:
                self.texts.append(value.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag in self.CODE:
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.texts.append(data.strip())


def texts_of(html: str) -> list[str]:
    """The human-facing texts of ``html``."""
    parser = Texts()
    parser.feed(html)
    return parser.texts


def catalogue(lang: str) -> Any:
    """The .po catalogue of ``lang``."""
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo province, small: every role has accounts, issues sit in every stage."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    db = make_database(f"sqlite:///{path}")
    with db.writing() as s:
        seed_from_packages(s, years=[2025, 2026])
    result = build(db, NOW, issues_per_county=6, max_counties=4)
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": db.url,
            "CLOCK": lambda: NOW,
            "SECRET_KEY": "test",
            "UPLOAD_FOLDER": str(path.parent / "uploads"),
            "WTF_CSRF_ENABLED": False,
        }
    )
    yield app, db, result
    db.dispose()


def users_per_role(demo) -> dict[str, str]:
    """One username of each role (the first the demo made)."""
    _app, _db, result = demo
    found: dict[str, str] = {}
    for username, role, _unit in result.accounts:
        found.setdefault(role, username)
    return found


def objects(db) -> dict[str, list[Any]]:
    """Values for every URL argument: a few of each kind of object."""
    with db.reading() as s:

        def ids(stmt):
            return list(s.scalars(stmt.limit(400)))

        issues = s.execute(select(Issue.id, Issue.kind, Issue.state).order_by(Issue.id)).all()
        picked: dict[tuple[str, str], int] = {}
        for issue_id, kind, state in issues:
            picked.setdefault((kind, state), issue_id)
        return {
            "issue_id": list(picked.values()),
            "round_id": ids(select(Round.id))[:3],
            "team_id": ids(select(Team.id))[:3],
            "dv_id": ids(select(DefinitionVersion.id))[:2],
            "message_id": ids(select(InboxMessage.id))[:1],
            "token_id": ids(select(ApiToken.id))[:1],
            "evidence_id": ids(select(Evidence.id))[:1],
            "letter_id": ids(select(Letter.id))[:1],
            "unit": ids(select(Unit.id).where(Unit.level.in_(("province", "city"))))[:2],
        }


def urls(app, objs: dict[str, list[Any]]) -> list[str]:
    """Every GET page of the app, with each argument filled from ``objs``."""
    found: list[str] = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in (rule.methods or ()) or rule.endpoint in NOT_PAGES:
                continue
            if rule.endpoint.startswith("api") or rule.rule.startswith("/api"):
                continue
            args = sorted(rule.arguments)
            if not args:
                found.append(url_for(rule.endpoint))
                for unit in objs["unit"][:1]:
                    found.append(url_for(rule.endpoint, unit=unit))
                continue
            if len(args) != 1 or args[0] not in objs:
                extra = {"action_name": "sign_for", "key": "0" * 32}
                if set(args) - {"issue_id"} <= set(extra):
                    for issue in objs["issue_id"][:3]:
                        found.append(url_for(rule.endpoint, issue_id=issue, **{
                            a: extra[a] for a in args if a != "issue_id"}))  # fmt: skip
                continue
            for value in objs[args[0]]:
                found.append(url_for(rule.endpoint, **{args[0]: value}))
    return sorted(set(found))


def problems_on(html: str, lang: str, msgids: set[str], zh_texts: set[str]) -> list[str]:
    """What is untranslated on one page in ``lang``."""
    wrong = []
    for text in texts_of(html):
        if RAW_KEY.match(text):
            wrong.append(f"raw key {text!r}")
        elif PLACEHOLDER.search(text):
            wrong.append(f"unfilled placeholder {text!r}")
        elif lang == "zh":
            bare = PROPER.sub("", text)
            if text in msgids or ENGLISH.search(bare):
                wrong.append(f"English on a Chinese page {text!r}")
        elif text in zh_texts:
            wrong.append(f"Chinese interface text on an English page {text!r}")
    return wrong


def test_every_message_id_has_its_chinese_text():
    zh = catalogue("zh")
    untranslated = [m.id for m in zh if m.id and not m.string]
    fuzzy = [m.id for m in zh if m.id and m.fuzzy]
    assert not untranslated and not fuzzy, (untranslated, fuzzy)
    # pybabel compile skips a catalogue whose header is fuzzy: the pages would be English
    assert not zh.fuzzy and not catalogue("en").fuzzy


def test_every_page_and_fragment_speaks_the_chosen_language(demo):
    app, db, _result = demo
    msgids = {m.id for m in catalogue("zh") if m.id and re.search(r"[A-Za-z]{2}", m.id)}
    zh_texts = {m.string for m in catalogue("zh") if m.id and m.string and m.string != m.id}
    pages = urls(app, objects(db))
    assert len(pages) > 40, pages
    problems: dict[str, set[str]] = {}
    for role, username in users_per_role(demo).items():
        for lang in ("zh", "en"):
            client = app.test_client()
            client.set_cookie("lang", lang)
            r = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
            assert r.status_code == 303, (username, r.status_code)
            for url in pages:
                for headers in ({}, HX):
                    r = client.get(url, headers=headers)
                    assert r.status_code < 500, (url, role, r.status_code)
                    if r.status_code >= 300 and r.status_code < 400:
                        continue  # a redirect's body is Werkzeug's, never shown
                    if not r.content_type.startswith("text/html"):
                        continue
                    for wrong in problems_on(r.get_data(as_text=True), lang, msgids, zh_texts):
                        problems.setdefault(wrong, set()).add(f"{lang} {role} {url}")
    report = [f"{w}  ← {sorted(where)[:3]}" for w, where in sorted(problems.items())]
    assert not report, "\n".join(report)


def test_what_the_engine_refuses_reaches_a_chinese_page_in_chinese(demo):
    app, db, _result = demo
    msgids = {m.id for m in catalogue("zh") if m.id and re.search(r"[A-Za-z]{2}", m.id)}
    office = users_per_role(demo)["office"]
    with db.reading() as s:
        transferred = s.scalar(
            select(Issue).where(Issue.state == "transferred", Issue.kind == "rectification")
        )
        assert transferred is not None
        issue_id, version = transferred.id, transferred.version
        clerk = s.scalar(
            select(User.username)
            .join(User.memberships)
            .where(User.memberships.any(unit_id=transferred.unit_id, role="unit_user"))
        )
    client = app.test_client()
    client.post("/login", data={"username": office, "password": DEMO_PASSWORD})
    answers = [
        client.post("/issues/new", data={"title": "", "unit": "NOPE", "due_on": "明天"}),
        client.post("/admin/units", data={"code": "", "name": "", "level": "nowhere"}),
    ]
    if clerk:
        other = app.test_client()
        other.post("/login", data={"username": clerk, "password": DEMO_PASSWORD})
        answers.append(other.post(f"/issues/{issue_id}/act/sign_for",
                                  data={"version": str(version - 1)}, headers=HX))  # fmt: skip
    problems = []
    for r in answers:
        assert 400 <= r.status_code < 500, (r.request.path, r.status_code)
        problems += problems_on(r.get_data(as_text=True), "zh", msgids, set())
    assert not problems, problems


def test_no_text_to_translate_hides_inside_an_f_string():
    """pybabel does not read inside f-strings: ``f"{_('x')}"`` would never reach the
    catalogue and show in English on a Chinese page."""
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2]
    hidden = re.compile(r"""\bf(["'])(?:(?!\1).)*\{\s*(?:escape\()?_l?\(""")
    found = [f"{p.relative_to(root)}:{n}"
             for folder in ("web", "workflow", "notifications")
             for p in (root / folder).rglob("*.py")
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if hidden.search(line)]  # fmt: skip
    assert not found, found
