"""Letters from .docx templates the office edits: the shipped GB/T 9704 default, checked
uploads, the next letter laid out by the new template, the office's number series and name,
and a letter that LibreOffice opens cleanly (converted to PDF: one page, the text in it)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
from docx import Document
from sqlalchemy import select

from tests.test_escalation import local, open_rect, walk_to_correcting
from workflow.clock.escalation import sweep
from workflow.clock.letters import LetterSettings, issue_letter, to_docx
from workflow.clock.letters.templates import SAMPLE, check_template, default_template, render
from workflow.models import Issue, Letter

DOCX_MIME = "multipart/form-data"


def _letter(world) -> int:
    with world.db.writing() as s:
        issue = open_rect(s, world, "HZ-XH-LY", "2026-10-08", local(2026, 9, 8))
        walk_to_correcting(s, world, issue, local(2026, 9, 8, 10))
    sweep(world.db, local(2026, 11, 25, 9))
    with world.db.reading() as s:
        return s.scalars(select(Letter.id).where(Letter.kind == "admonition")).one()


def test_the_shipped_template_follows_gb_t_9704():
    doc = Document(io.BytesIO(render(default_template(), SAMPLE)))
    section = doc.sections[0]
    margins = (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    assert [round(m.mm) for m in margins] == [37, 35, 28, 26]  # stored in twips: ±0.02 mm
    head = doc.paragraphs[0]
    assert head.text == SAMPLE["office"] and str(head.runs[0].font.color.rgb) == "CC0000"
    xml = doc.element.xml
    assert (
        "方正小标宋简体" in xml and "仿宋_GB2312" in xml and 'w:color="CC0000"' in xml
    )  # red rule
    texts = [p.text for p in doc.paragraphs]
    assert (
        SAMPLE["number"] in texts and SAMPLE["title"] in texts and SAMPLE["paragraphs"][0] in texts
    )
    assert "PAGE" in doc.sections[0].footer._element.xml


def test_a_template_with_unknown_placeholders_or_no_docx_is_refused():
    assert check_template(default_template()) is None
    assert check_template(b"not a word file").code == "letter_template_not_docx"
    broken = render(default_template(), SAMPLE)  # a rendered letter has no placeholders left: fine
    assert check_template(broken) is None
    doc = Document(io.BytesIO(default_template()))
    doc.add_paragraph("{{ secretary_phone }}")
    out = io.BytesIO()
    doc.save(out)
    problem = check_template(out.getvalue())
    assert problem.code == "letter_template_unknown" and "secretary_phone" in str(problem)


def test_the_office_replaces_a_template_and_the_next_letter_uses_it(client, auth, sqlite_world,
                                                                      app, tmp_path):  # fmt: skip
    app.config["LETTER_TEMPLATES_DIR"] = str(tmp_path / "letters")
    letter_id = _letter(sqlite_world)
    auth.login("office")
    assert client.get("/admin/letters").status_code == 200
    bad = Document(io.BytesIO(default_template()))
    bad.add_paragraph("{{ nonsense }}")
    buf = io.BytesIO()
    bad.save(buf)
    r = client.post("/admin/letters", data={"kind": "admonition", "file": (io.BytesIO(buf.getvalue()), "t.docx")},
                    content_type=DOCX_MIME)  # fmt: skip
    assert r.status_code == 422 and "nonsense" in r.get_data(as_text=True)
    own = Document(io.BytesIO(default_template()))
    own.add_paragraph("联系人：省委巡视办督查室 {{ issue_number }}")
    buf = io.BytesIO()
    own.save(buf)
    r = client.post("/admin/letters", data={"kind": "admonition", "file": (io.BytesIO(buf.getvalue()), "t.docx")},
                    content_type=DOCX_MIME)  # fmt: skip
    assert r.status_code == 303
    word = client.get(f"/letters/{letter_id}.docx")
    assert word.status_code == 200
    texts = [p.text for p in Document(io.BytesIO(word.data)).paragraphs]
    assert any(t.startswith("联系人：省委巡视办督查室 ZG2026-") for t in texts), texts
    assert client.post("/admin/letters/admonition/reset").status_code == 303
    texts = [
        p.text
        for p in Document(io.BytesIO(client.get(f"/letters/{letter_id}.docx").data)).paragraphs
    ]
    assert not any("联系人" in t for t in texts)
    auth.logout()
    auth.login("cityoffice")  # a city office under the province: templates are the province's
    r = client.post("/admin/letters", data={"kind": "admonition", "file": (io.BytesIO(buf.getvalue()), "t.docx")},
                    content_type=DOCX_MIME)  # fmt: skip
    assert r.status_code == 403


def test_numbers_and_the_office_name_come_from_settings(sqlite_world):
    settings = LetterSettings("{prefix}〔{year}〕{seq}号", {"admonition": "浙巡告"},
                              "中共浙江省委巡视工作领导小组办公室")  # fmt: skip
    with sqlite_world.db.writing() as s:
        issue = open_rect(s, sqlite_world, "HZ-XH-LY", "2026-10-08", local(2026, 9, 8))
        first = issue_letter(s, issue, "admonition", local(2027, 3, 8), tz="Asia/Shanghai",
                             due_at=None, rung_label="告诫", settings=settings)  # fmt: skip
        second = issue_letter(s, issue, "admonition", local(2027, 3, 9), tz="Asia/Shanghai",
                              due_at=None, rung_label="告诫", settings=settings)  # fmt: skip
        assert (first.number, second.number) == ("浙巡告〔2027〕1号", "浙巡告〔2027〕2号")
        assert "中共浙江省委巡视工作领导小组办公室" in first.html
    with pytest.raises(ValueError, match="LETTER_NUMBER"):
        LetterSettings("{prefix}〔{year}〕号")


def test_a_letter_opens_cleanly_in_libreoffice(sqlite_world, tmp_path):
    # `make test` installs LibreOffice (system-deps): without it this fails, never skips
    assert shutil.which("soffice"), "LibreOffice (soffice) is missing: run `make system-deps`"
    letter_id = _letter(sqlite_world)
    with sqlite_world.db.reading() as s:
        letter = s.get(Letter, letter_id)
        number = s.get(Issue, letter.issue_id).number
        (tmp_path / "letter.docx").write_bytes(to_docx(letter, issue_number=number))
        expected = letter.number
    profile = f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}"
    for target in ("pdf", "txt:Text (encoded):UTF8"):
        done = subprocess.run(["soffice", profile, "--headless", "--convert-to", target,
                               "--outdir", str(tmp_path), str(tmp_path / "letter.docx")],
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
    pdf = (tmp_path / "letter.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
    text = (tmp_path / "letter.txt").read_text(encoding="utf-8-sig")
    assert (
        expected in text and "告诫书" in text and "中共浙江省委巡视巡察工作领导小组办公室" in text
    )


def test_a_letter_opens_with_a_way_back_a_word_download_and_print_advice(client, auth,
                                                                         sqlite_world):  # fmt: skip
    letter_id = _letter(sqlite_world)
    auth.login("office")
    r = client.get(f"/letters/{letter_id}")
    html = r.get_data(as_text=True)
    with sqlite_world.db.reading() as s:
        letter = s.get(Letter, letter_id)
        archived = letter.html
    assert r.status_code == 200 and f'href="/issues/{letter.issue_id}"' in html
    assert f'href="/letters/{letter_id}.docx"' in html and "返回问题" in html and "Ctrl+P" in html
    assert "@media print{.letter-tools{display:none}}" in html  # the bar is not printed
    assert "letter-tools" not in archived  # the archive stays as it was issued
    assert "sandbox" in r.headers["Content-Security-Policy"]
