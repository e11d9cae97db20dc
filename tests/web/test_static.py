"""The vendored htmx is exactly 2.0.11, with its licence; the page config forbids eval."""

from __future__ import annotations

import hashlib
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "web" / "static"
HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"


def test_vendored_htmx_is_pinned():
    body = (STATIC / "vendor" / "htmx-2.0.11.min.js").read_bytes()
    assert hashlib.sha256(body).hexdigest() == HTMX_SHA256
    assert (
        "BSD" in (STATIC / "vendor" / "htmx-2.0.11.LICENSE").read_text()
        or "Zero-Clause" in (STATIC / "vendor" / "htmx-2.0.11.LICENSE").read_text()
    )


def test_htmx_config_meta(client, auth):
    auth.login("clerk")
    html = client.get("/").data.decode()
    assert '"allowEval":false' in html and '"code":"422","swap":true' in html
    assert '"includeIndicatorStyles":false' in html and 'hx-history="false"' in html
