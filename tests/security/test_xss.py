"""XSS and htmx attribute injection (S8, ASVS 5.3.3, 14.4.3): a payload corpus in every
free-text field, rendered on every page and fragment that shows them; the HTML is parsed
and no element, attribute or script may come from a payload."""

from __future__ import annotations

import io
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.security.conftest import PDF, copy_world, make_app
from workflow import service
from workflow.clock import letters
from workflow.models import InboxMessage, Issue, User
from workflow.org.units import add_unit, add_user

MARK = "XSSMARK"
PAYLOADS = [
    f"<script>alert('{MARK}1')</script>",
    f'"><img src="/{MARK}-img2" onerror="alert(\'{MARK}2\')" data-xss>',
    f"'><svg onload=alert('{MARK}3') data-xss>",
    f"javascript:alert('{MARK}4')",
    f"{{{{7*7}}}}{MARK}5",
    f'<div hx-get="/logout?{MARK}6" hx-trigger="load" data-xss>{MARK}6</div>',
    f'<button hx-on:click="alert(\'{MARK}7\')" hx-trigger="load" data-xss>x</button>',
    f'<a hx-post="/logout?{MARK}8" hx-trigger="load" data-xss>{MARK}8</a>',
    f"<svg><script>alert('{MARK}9')</script></svg>",
    f"</textarea></title><script>alert('{MARK}10')</script>",
    f"\u202e<img src=/{MARK}-img11 data-xss>",
    f"＜script＞alert('{MARK}12')＜/script＞",
    f"<iframe srcdoc=\"<script>alert('{MARK}13')</script>\" data-xss></iframe>",
    f"<a href=\"javascript:alert('{MARK}14')\" data-xss>x</a>",
    f"{{% raw %}}{MARK}15{{{{ config }}}}",
    f"&lt;script&gt;alert('{MARK}16')&lt;/script&gt;",
    f"<math><mi xlink:href=\"javascript:alert('{MARK}17')\" data-xss>x</mi></math>",
    f'<form action="/logout?{MARK}18" data-xss><button>go</button></form>',
]
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "poster"}


def _active(name: str, value: str) -> bool:
    """An event handler, htmx attribute or script URL that came from a payload."""
    if name.startswith("on"):
        return MARK in value
    if name.startswith(("hx-", "data-hx-")):
        return f"/logout?{MARK}" in value or "alert(" in value
    return name in URL_ATTRS and value.strip().lower().startswith(("javascript:", "vbscript:"))


class Scanner(HTMLParser):
    """Collects every element, attribute or script that a payload created."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.in_script = tag == "script"
        for name, value in attrs:
            value = value or ""
            if name == "data-xss" or MARK in name:
                self.found.append(f"<{tag}> created by a payload ({name})")
            elif _active(name, value):
                self.found.append(f"<{tag} {name}={value!r}>")
            elif name == "srcdoc" and MARK in value:
                self.found.append(f"<{tag} srcdoc>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_script = False

    def handle_data(self, data: str) -> None:
        if self.in_script and MARK in data:
            self.found.append("<script> with a payload")


def injected(html: str) -> list[str]:
    """What a payload managed to create in ``html`` (empty when everything was escaped)."""
    scanner = Scanner()
    scanner.feed(html)
    found = scanner.found
    found += [f"raw payload {p[:30]!r}" for p in PAYLOADS if "<" in p and p in html]
    if f"49{MARK}5" in html or "SECRET_KEY" in html or "security-test" in html:
        found.append("template expression evaluated")
    return found


def test_scanner_sees_injections():
    """The checker itself: unescaped payloads are reported, escaped ones are not."""
    from markupsafe import escape

    for p in PAYLOADS:
        if "<" in p:
            assert injected(f"<p>{p}</p>"), p
        assert not injected(f"<p title='{escape(p)}'>{escape(p)}</p>"), p


class XssProvince:
    """The province with payloads in every free-text field."""

    def __init__(self, world_template: Any, tmp: Path) -> None:
        self.world = world = copy_world(world_template, tmp)
        self.app = make_app(world, tmp, WTF_CSRF_ENABLED=False)
        self.issues: list[int] = []
        clock = world.clock
        with world.db.writing() as s:
            office = world.user(s, "office")
            for n, p in enumerate(PAYLOADS, 1):
                code = f"XSS-{n:02d}"
                add_unit(s, code, p, "township", "HZ-XH")
                add_user(s, f"xss{n:02d}", p[:100], "correct-horse-9", [f"unit_user@{code}"],
                         clock(), None)  # fmt: skip
                issue = service.open_issue(
                    s, "rectification",
                    {"title": p, "category": p[:100], "description": p, "unit": code,
                     "person_in_charge": p[:100], "supervising_leader": p[:100]},
                    office, clock(),
                )  # fmt: skip
                self.issues.append(issue.id)
            s.flush()
            for n, issue_id in enumerate(self.issues, 1):
                issue = s.get(Issue, issue_id)
                actor = s.scalar(select(User).where(User.username == f"xss{n:02d}"))
                service.act(s, issue, "return_to_office", actor, {"reason": PAYLOADS[n - 1]},
                            issue.version, clock())  # fmt: skip
            joined = " ".join(PAYLOADS)
            rich = service.open_issue(
                s, "rectification",
                {"title": PAYLOADS[1][:300], "category": PAYLOADS[5][:100],
                 "description": joined, "unit": "HZ-XH-LY"}, office, clock(),
            )  # fmt: skip
            self.rich = rich.id
            clerk, head = world.user(s, "clerk"), world.user(s, "head")
            service.act(s, rich, "sign_for", clerk, {}, rich.version, clock())
            measures = [{"text": p, "due_on": None} for p in PAYLOADS]
            service.act(s, rich, "submit_plan", clerk, {"measures": measures, "note": joined},
                        rich.version, clock())  # fmt: skip
            service.act(s, rich, "attest_plan", head, {"attested": True}, rich.version, clock())
            self.letter = letters.issue_letter(
                s, rich, "reminder", clock(), tz="Asia/Shanghai", due_at=rich.due_at,
                rung_label=PAYLOADS[0],
            ).id  # fmt: skip
            lead = service.open_issue(
                s, "problem_lead", {"title": PAYLOADS[2], "unit": "HZ", "cadre_level": "市管干部",
                                    "description": joined}, office, clock(),
            )  # fmt: skip
            self.lead = lead.id
            for name in ("office", "super", "clerk", "xss01"):
                uid = s.scalar(select(User.id).where(User.username == name))
                for p in PAYLOADS:
                    s.add(InboxMessage(user_id=uid, issue_id=rich.id, subject=p[:300], body=p,
                                       created_at=clock()))  # fmt: skip
            self.hz_xh = world.units["HZ-XH"]
        self.clients: dict[str, Any] = {}
        clerk = self.client("clerk")
        for p in PAYLOADS:
            r = clerk.post(f"/issues/{self.rich}/evidence",
                           data={"file": (io.BytesIO(PDF), f"{p}.pdf")},
                           content_type="multipart/form-data")  # fmt: skip
            assert r.status_code in (303, 422), r.status_code

    def client(self, username: str) -> Any:
        if username not in self.clients:
            c = self.app.test_client()
            r = c.post("/login", data={"username": username, "password": "correct-horse-9"})
            assert r.status_code == 303
            self.clients[username] = c
        return self.clients[username]


@pytest.fixture(scope="module")
def xss(world_template, tmp_path_factory):
    prov = XssProvince(world_template, tmp_path_factory.mktemp("xss"))
    yield prov
    from web.database import get_database

    get_database(prov.app).dispose()
    prov.world.db.dispose()


def pages(x: XssProvince) -> list[tuple[str, str]]:
    """(user, path) of every page and fragment that shows the payloads."""
    office = [
        "/", "/ledger", f"/ledger?q={MARK}", "/ledger?sort=title", "/board",
        f"/board?unit={x.hz_xh}", "/stats", f"/stats?unit={x.hz_xh}", "/admin/units",
        "/admin/units?q=XSS", "/admin/users", "/admin/users?q=xss", "/inbox", "/inbox/bell",
        "/queues/spotcheck", "/excel", "/issues/new", f"/issues/{x.rich}", "/leads",
        f"/leads/{x.lead}", f"/issues/{x.lead}", f"/letters/{x.letter}", "/account/tokens",
        *[f"/issues/{i}" for i in x.issues],
    ]  # fmt: skip
    return ([("office", p) for p in office]
            + [("super", p) for p in ("/queues/supervise", "/", f"/issues/{x.rich}", "/board")]
            + [("clerk", p) for p in ("/", "/inbox", f"/issues/{x.rich}", "/ledger")]
            + [("xss01", p) for p in ("/", "/inbox", f"/issues/{x.issues[0]}")]
            + [("leader", p) for p in ("/board", "/stats")])  # fmt: skip


def test_payloads_are_inert_everywhere(xss):
    """No payload creates an element, attribute or script on any page or htmx fragment,
    and every payload is there as text.  Fails when a template renders user data with
    ``|safe``/``Markup`` or autoescaping is turned off (the scanner then finds the
    payload's elements)."""
    problems, shown = [], 0
    for user, path in pages(xss):
        for headers in ({}, {"HX-Request": "true"}):
            r = xss.client(user).get(path, headers=headers)
            assert r.status_code == 200, (user, path, r.status_code)
            html = r.get_data(as_text=True)
            shown += html.count(MARK)
            problems += [f"{user} {path}{' (htmx)' * bool(headers)}: {f}" for f in injected(html)]
    assert not problems, "\n".join(problems)
    assert shown > 1000  # the payloads really were on the pages, escaped


def test_bulk_preview_fragment_is_inert(xss):
    """The ledger's bulk preview (a POST answering a fragment) shows titles safely."""
    r = xss.client("office").post(
        "/ledger/bulk/preview", data={"bulk_action": "remind", "ids": [str(i) for i in xss.issues]},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert r.status_code == 200 and MARK in r.get_data(as_text=True)
    assert not injected(r.get_data(as_text=True))


def test_templates_never_mark_user_data_safe():
    """Static check: no ``|safe``, ``Markup(`` or ``autoescape false`` in templates/views."""
    root = Path(__file__).resolve().parents[2] / "web"
    hits = [
        f"{p.relative_to(root)}:{n}"
        for p in [*root.rglob("*.html"), *root.rglob("*.py")]
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if "|safe" in line.replace(" ", "") or "Markup(" in line or "autoescape false" in line
    ]
    assert not hits, hits


@pytest.mark.browser
def test_no_payload_runs_in_a_browser(xss, browser):
    """Chromium loads the issue pages, the ledger and the board with every payload on
    them: no dialog opens, no request goes to a payload's URL, no CSP violation is
    reported (nothing inline was even attempted), no element carries ``data-xss``, and the
    session survives (the ``hx-get="/logout"`` payloads did not fire)."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, xss.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    dialogs: list[str] = []
    requests: list[str] = []
    violations: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda req: MARK in req.url and requests.append(req.url))
    page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))
    try:
        page.goto(f"{base}/login")
        page.fill("#username", "office")
        page.fill("#password", "correct-horse-9")
        page.click(".login button[type=submit]")
        page.wait_for_url(f"{base}/")
        for path in (f"/issues/{xss.rich}", f"/issues/{xss.issues[5]}", f"/issues/{xss.issues[7]}",
                     "/ledger", "/board", f"/board?unit={xss.hz_xh}", "/inbox"):  # fmt: skip
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(300)  # room for any hx-trigger="load" to fire
            assert page.evaluate("document.querySelectorAll('[data-xss]').length") == 0, path
            assert MARK in page.content(), path
        page.goto(f"{base}/")
        assert page.url == f"{base}/", "a payload logged the user out"
    finally:
        context.close()
        server.shutdown()
        thread.join(5)
    assert dialogs == [] and requests == [] and violations == [], (dialogs, requests, violations)
