"""Security headers on every kind of response (S9; ASVS 14.3.2, 14.3.3, 14.4.1–14.4.7,
14.5.1), behind TLS: pages, fragments, API JSON, downloads, exports, static files and the
404, 405, 413, 500 and CSRF 400 answers."""

from __future__ import annotations

import io

import pytest

from tests.security.conftest import PDF, copy_world, make_app

TLS = "https://localhost"
HX = {"HX-Request": "true"}


def check(r, what: str) -> list[str]:
    """What is missing or wrong in one response's headers."""
    h, bad = r.headers, []
    csp = h.get("Content-Security-Policy", "")
    if not csp:
        bad.append("no CSP")
    if "unsafe-inline" in csp or "unsafe-eval" in csp:
        bad.append(f"unsafe CSP {csp}")
    if "frame-ancestors 'none'" not in csp and "frame-ancestors 'self'" not in csp:
        bad.append("no frame-ancestors")
    expected = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    bad += [f"{k}={h.get(k)!r}" for k, v in expected.items() if h.get(k) != v]
    if h.get("Referrer-Policy") not in ("same-origin", "no-referrer"):
        bad.append(f"Referrer-Policy={h.get('Referrer-Policy')!r}")
    if not h.get("Strict-Transport-Security", "").startswith("max-age=31536000"):
        bad.append("no HSTS behind TLS")
    if "camera=()" not in h.get("Permissions-Policy", ""):
        bad.append("no Permissions-Policy")
    if "/static/" not in what and h.get("Cache-Control") != "no-store":
        bad.append(f"Cache-Control={h.get('Cache-Control')!r}")
    for leak in ("Server", "X-Powered-By"):
        if leak in h:
            bad.append(f"{leak} header")
    if r.mimetype.startswith("text/") and "charset=utf-8" not in h.get("Content-Type", "").lower():
        bad.append(f"no charset: {h.get('Content-Type')}")
    if h.get("Content-Disposition", "").startswith("attachment") and not csp.startswith("sandbox"):
        bad.append("attachment without a sandbox CSP")
    return [f"{what} [{r.status_code}]: {b}" for b in bad]


def test_headers_on_every_kind_of_response(province):
    """Fails when ``views.security_headers`` stops running on some path (errors, API,
    downloads) or a header is dropped from it."""
    o, office = province.objects, province.client("office")
    bearer = {"Authorization": f"Bearer {province.tokens['office']}"}
    anon = province.app.test_client()
    cases = {
        "page /": office.get("/", base_url=TLS),
        "fragment /inbox/bell": office.get("/inbox/bell", headers=HX, base_url=TLS),
        "fragment /ledger": office.get("/ledger", headers=HX, base_url=TLS),
        "login page": anon.get("/login", base_url=TLS),
        "redirect to login": anon.get("/ledger", base_url=TLS),
        "htmx 401": anon.get("/ledger", headers=HX, base_url=TLS),
        "/static/css/app.css": anon.get("/static/css/app.css", base_url=TLS),
        "healthz": anon.get("/healthz", base_url=TLS),
        "issue page": office.get(f"/issues/{o['A']}", base_url=TLS),
        "diagram svg": office.get(f"/issues/{o['A']}/diagram.svg", base_url=TLS),
        "letter": office.get(f"/letters/{o['letterA']}", base_url=TLS),
        "evidence download": office.get(f"/evidence/{o['evA']}", base_url=TLS),
        "excel export": office.get("/excel/ledger.xlsx", base_url=TLS),
        "API JSON": anon.get("/api/v1/me", headers=bearer, base_url=TLS),
        "API 401": anon.get("/api/v1/me", base_url=TLS),
        "API 404": anon.get("/api/v1/issues/999999", headers=bearer, base_url=TLS),
        "API unrouted 404": anon.get("/api/v1/nothing", headers=bearer, base_url=TLS),
        "API download": anon.get(
            f"/api/v1/issues/{o['A']}/evidence/{o['evA']}", headers=bearer, base_url=TLS
        ),  # fmt: skip
        "API export": anon.get("/api/v1/exports/ledger", headers=bearer, base_url=TLS),
        "API docs": anon.get("/api/v1/docs", base_url=TLS),
        "404": office.get("/no-such-page", base_url=TLS),
        "404 htmx": office.get("/no-such-page", headers=HX, base_url=TLS),
        "405": office.put("/", base_url=TLS),
        "405 TRACE": office.open("/", method="TRACE", base_url=TLS),
        "API 405": anon.put("/api/v1/me", headers=bearer, base_url=TLS),
        "413": office.post(
            f"/issues/{o['A']}/evidence",
            base_url=TLS,
            data={
                "file": (io.BytesIO(PDF + b"0" * 300_000), "big.pdf"),
                "csrf_token": province.csrf["office"],
            },
            content_type="multipart/form-data",
        ),  # fmt: skip
        "API 413": anon.post(
            f"/api/v1/issues/{o['A']}/evidence",
            headers=bearer,
            base_url=TLS,
            data={"file": (io.BytesIO(PDF + b"0" * 300_000), "big.pdf")},
            content_type="multipart/form-data",
        ),  # fmt: skip
        "CSRF 400": office.post("/inbox/read-all", base_url=TLS),
        "CSRF 400 htmx": office.post("/inbox/read-all", headers=HX, base_url=TLS),
    }
    expected = {"404": 404, "405": 405, "405 TRACE": 405, "API 405": 405, "413": 413,
                "API 413": 413, "CSRF 400": 400, "API 401": 401, "htmx 401": 401}  # fmt: skip
    problems = []
    for what, r in cases.items():
        if what in expected and r.status_code != expected[what]:
            problems.append(f"{what}: status {r.status_code}")
        problems += check(r, what)
    assert not problems, "\n".join(problems)


@pytest.fixture
def crashing_app(world_template, tmp_path):
    """An app with one route that raises, and the error page shown as in production."""
    world = copy_world(world_template, tmp_path)
    app = make_app(world, tmp_path, SHOW_ERROR_PAGE=True)

    def boom():
        raise RuntimeError("secret detail: /srv/rectiflow/db password=hunter2")

    app.add_url_rule("/boom", "boom", boom)
    yield app
    world.db.dispose()


def test_500_is_generic_and_has_the_headers(crashing_app):
    r = crashing_app.test_client().get("/boom", base_url=TLS)
    assert r.status_code == 500
    body = r.get_data(as_text=True)
    assert "hunter2" not in body and "Traceback" not in body and "RuntimeError" not in body
    assert not check(r, "500")


def test_csp_is_strict():
    """The page CSP: no inline or eval, no framing, no plugins, no base or form hijack."""
    from web.views import CSP

    for directive in ("default-src 'none'", "script-src 'self'", "frame-ancestors 'none'",
                      "object-src 'none'", "base-uri 'none'", "form-action 'self'"):  # fmt: skip
        assert directive in CSP
    assert "unsafe" not in CSP and "*" not in CSP and "data:" not in CSP.split("img-src")[0]
