"""Evidence upload (sniffed types, size limit, audit) and download (attachment, nosniff)."""

from __future__ import annotations

import hashlib
import io
import zipfile

from sqlalchemy import select

from workflow.models import Event, Evidence

HX = {"HX-Request": "true"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def upload(client, issue_id, body, name="会议纪要.pdf", htmx=True):
    return client.post(
        f"/issues/{issue_id}/evidence",
        data={"file": (io.BytesIO(body), name)},
        content_type="multipart/form-data",
        headers=HX if htmx else {},
    )


def test_upload_stores_hash_and_audits(client, auth, issue_id, sqlite_world, app):
    auth.login("clerk")
    r = upload(client, issue_id, PDF)
    assert r.status_code == 200 and "会议纪要.pdf".encode() in r.data
    assert b'id="evidence"' in r.data and not r.data.startswith(b"<!doctype")
    with sqlite_world.db.reading() as s:
        ev = s.scalar(select(Evidence))
        assert ev.sha256 == hashlib.sha256(PDF).hexdigest() and ev.content_type == "application/pdf"
        assert ev.stored_name != "会议纪要.pdf"
        event = s.scalar(select(Event).where(Event.action == "upload_evidence"))
        assert event.data == {"filename": "会议纪要.pdf", "sha256": ev.sha256}
        assert event.actor_role == "unit_user"


def test_png_and_docx_accepted(client, auth, issue_id):
    auth.login("clerk")
    assert upload(client, issue_id, PNG, "photo.png").status_code == 200
    assert upload(client, issue_id, docx(), "制度.docx").status_code == 200


def test_bad_types_are_refused(client, auth, issue_id, app):
    auth.login("clerk")
    r = upload(client, issue_id, b"<html><script>alert(1)</script>", "evil.pdf")
    assert r.status_code == 422 and "不支持的文件类型".encode() in r.data
    r = upload(client, issue_id, b"PK\x03\x04not a zip", "x.docx")
    assert r.status_code == 422
    assert upload(client, issue_id, b"", "empty.pdf").status_code == 422
    import os

    assert os.listdir(app.config["UPLOAD_FOLDER"]) == []


def test_too_large_is_413(client, auth, issue_id):
    auth.login("clerk")
    r = upload(client, issue_id, PDF + b"0" * (300 * 1024))
    assert r.status_code == 413 and r.headers["X-Content-Type-Options"] == "nosniff"


def test_only_actors_upload(client, auth, issue_id, other_issue_id):
    auth.login("super")  # sees the issue but acts only as a reviewer
    assert upload(client, issue_id, PDF).status_code == 403
    auth.logout()
    auth.login("clerk")
    assert upload(client, other_issue_id, PDF).status_code == 404


def test_download_is_an_attachment_with_nosniff(client, auth, issue_id, sqlite_world):
    auth.login("clerk")
    upload(client, issue_id, PDF)
    with sqlite_world.db.reading() as s:
        ev_id = s.scalar(select(Evidence.id))
    r = client.get(f"/evidence/{ev_id}")
    assert r.status_code == 200 and r.data == PDF
    assert r.headers["Content-Disposition"].startswith("attachment")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Type"] == "application/pdf"
    assert r.headers["Content-Security-Policy"].startswith("sandbox")
    auth.logout()
    auth.login("clerk2")
    assert client.get(f"/evidence/{ev_id}").status_code == 404


def test_sizes_read_as_people_read_them_and_only_the_office_sees_hashes(client, auth, issue_id):
    """A 48-byte file is "48 B", not "0.0 KB"; the SHA-256 column is the office's, a clerk
    finds the fingerprint in the link's tooltip."""
    from web.pages.common import filesize

    assert (filesize(48), filesize(12_600), filesize(5 * 1024 * 1024)) == (
        "48 B",
        "12.3 KB",
        "5.0 MB",
    )
    auth.login("clerk")
    r = upload(client, issue_id, PDF)
    html = r.get_data(as_text=True)
    assert f"{len(PDF)} B" in html and "0.0 KB" not in html
    assert '<th scope="col">SHA-256</th>' not in html and 'title="SHA-256 ' in html
    auth.logout()
    auth.login("office")
    html = client.get(f"/issues/{issue_id}").get_data(as_text=True)
    assert '<th scope="col">SHA-256</th>' in html
