"""Evidence files (佐证材料): the content checks, storing a file under a random name, the record.

The engine owns the rules; the web page, the API and the CLI hand it the file as a stream
with its name, and the upload folder and size limit from their configuration.  Uploading
is not a workflow action, but it is audited like one.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import audit
from workflow.messages import N_, Text
from workflow.models import Evidence, Issue, Measure, User
from workflow.org.scope import acting_memberships
from workflow.service import vault

UPLOAD_ROLES = ("unit_user", "unit_head", "office")
TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CHUNK = 64 * 1024
DEFAULT_LIMIT = 20 * 1024 * 1024

MAX_ZIP_TOTAL = 100 * 1024 * 1024  # a docx/xlsx may expand to at most this many bytes …
MAX_ZIP_RATIO = 100  # … and, past 10 MiB, to at most this many times its own size
MAX_ZIP_MEMBERS = 5000
EXTENSIONS = {"pdf": (".pdf",), "png": (".png",), "jpeg": (".jpg", ".jpeg"), "docx": (".docx",),
              "xlsx": (".xlsx",)}  # fmt: skip
# active content a browser, a PDF reader or a server might run: refused in any accepted type
# (an evidence file is a scan, a photo or an office document; none of them needs these)
ACTIVE = re.compile(
    rb"<script|<\?php|<iframe|<object|<embed|<html|<!doctype\s+html|javascript:|vbscript:",
    re.I,
)
# shorter markers looked for only where browsers sniff (the first and last KiB), so random
# bytes inside a large image cannot match them by chance
ACTIVE_EDGES = re.compile(rb"<svg|<body|<head|<meta|<img|<a\s|<div|<form|<base|#!/", re.I)
# PDF features that run code, launch programs or carry other files: refused (decision: a
# PDF with embedded JavaScript is not accepted as evidence).  Names inside compressed
# object streams are not inflated here; such a file is still only ever served as a
# sandboxed attachment.
PDF_ACTIVE = {b"JS", b"JavaScript", b"Launch", b"EmbeddedFile", b"EmbeddedFiles", b"RichMedia",
              b"XFA", b"SubmitForm", b"ImportData"}  # fmt: skip
PDF_STREAM = re.compile(rb"stream\r?\n.*?endstream", re.S)
PDF_NAME = re.compile(rb"/([^\s/<>\[\]()%{}]+)")
PNG_END = b"IEND\xaeB`\x82"
BAD_NAME_CHARS = re.compile(r'[\\/:*?"<>|]')

EMPTY = Text("service_evidence_empty", N_("empty"))
ACTIVE_CONTENT = Text("service_evidence_active", N_("active content"))
PDF_REFUSED = Text("service_evidence_pdf", N_("pdf with active content or truncated"))
PNG_TRAILER = Text("service_evidence_png_trailer", N_("data after the end of the image"))
TYPE_REFUSED = Text("service_evidence_type", N_("type not accepted"))
ZIP_BOMB = Text("service_evidence_zip_bomb", N_("zip bomb"))
NOT_OFFICE = Text("service_evidence_not_office", N_("not an office document"))
BAD_ZIP = Text("service_evidence_bad_zip", N_("bad zip"))
MACROS = Text("service_evidence_macros", N_("macros"))
TOO_LARGE = Text("service_evidence_too_large", N_("the file is larger than %(limit)s bytes"))


class BadFile(ValueError):
    """The upload is empty or not one of the accepted types."""


class FileTooLarge(Exception):
    """The upload is larger than the limit (the web answers 413); nothing was stored."""


@dataclass(frozen=True)
class StoredFile:
    """A file written to the upload folder: its random name, size, SHA-256 and type."""

    stored_name: str
    size: int
    sha256: str
    kind: str


def may_upload(user: User, issue: Issue) -> bool:
    """The lead unit's staff and the office may add evidence."""
    return bool(acting_memberships(user, issue, UPLOAD_ROLES))


def has_measure(session: Session, issue: Issue, measure_id: int) -> bool:
    """Whether ``measure_id`` is one of the issue's measures."""
    return bool(
        session.scalar(
            select(Measure.id).where(Measure.id == measure_id, Measure.issue_id == issue.id)
        )
    )


def sniff(path: str) -> str:
    """The accepted type of the file at ``path`` from its bytes (never from its name)."""
    with open(path, "rb") as fh:
        return sniff_bytes(fh.read())  # a path of an OOXML file is read whole too


def sniff_bytes(data: bytes) -> str:
    """The accepted type of a file from its bytes (never from its name)."""
    if ACTIVE.search(data) or ACTIVE_EDGES.search(data[:1024]) or ACTIVE_EDGES.search(data[-1024:]):
        raise BadFile(ACTIVE_CONTENT())
    if re.match(rb"%PDF-[12]\.\d", data):
        if b"%%EOF" not in data[-1024:] or _pdf_names(data) & PDF_ACTIVE:
            raise BadFile(PDF_REFUSED())
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        end = data.find(PNG_END)
        if end >= 0 and data[end + len(PNG_END) :]:
            raise BadFile(PNG_TRAILER())
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"PK\x03\x04"):
        return _office(io.BytesIO(data), len(data))
    raise BadFile(TYPE_REFUSED())


def _pdf_names(data: bytes) -> set[bytes]:
    """The names used in a PDF's objects (streams left out, ``#xx`` escapes decoded)."""
    outside = PDF_STREAM.sub(b" ", data)
    names = set()
    for raw in PDF_NAME.findall(outside):
        names.add(re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m[1], 16)]), raw))
    return names


def _office(package: IO[bytes], size: int) -> str:
    """docx or xlsx: an OOXML package of sane size with no macros and no odd member names."""
    try:
        with zipfile.ZipFile(package) as z:
            infos = z.infolist()
            names = {i.filename for i in infos}
            total = sum(i.file_size for i in infos)
            if len(infos) > MAX_ZIP_MEMBERS or total > MAX_ZIP_TOTAL:
                raise BadFile(ZIP_BOMB())
            if total > 10 * 1024 * 1024 and total > MAX_ZIP_RATIO * size:
                raise BadFile(ZIP_BOMB())
            if any(_bad_member(n) for n in names) or "[Content_Types].xml" not in names:
                raise BadFile(NOT_OFFICE())
            with z.open("[Content_Types].xml") as fh:
                types = fh.read(1024 * 1024)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError):
        raise BadFile(BAD_ZIP()) from None
    if b"macroenabled" in types.lower() or any(n.lower().endswith("vbaproject.bin") for n in names):
        raise BadFile(MACROS())
    if any(n.startswith("word/") for n in names):
        return "docx"
    if any(n.startswith("xl/") for n in names):
        return "xlsx"
    raise BadFile(TYPE_REFUSED())


def _bad_member(name: str) -> bool:
    """A zip member name that is absolute, has a drive, a NUL or a ``..`` part."""
    parts = name.replace("\\", "/").split("/")
    return name.startswith("/") or ":" in name or "\0" in name or ".." in parts


def display_name(filename: str, kind: str) -> str:
    """The name shown and offered on download: the last path part, no control, bidi or
    path characters, at most 200 characters, ending in an extension of the sniffed type.
    It is never used as a path (the file is stored under a random name)."""
    name = unicodedata.normalize("NFC", filename or "").replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] not in "CZ" or ch == " ")
    name = BAD_NAME_CHARS.sub("_", name).strip(" .")
    suffix = next((e for e in EXTENSIONS[kind] if name.lower().endswith(e)), None)
    if suffix is None:  # "x.exe" holding a PDF is offered as "x.exe.pdf"
        suffix, name = EXTENSIONS[kind][0], f"{name or 'evidence'}{EXTENSIONS[kind][0]}"
    stem = name[: -len(suffix)][: 200 - len(suffix)].rstrip(" .") or "evidence"
    return stem + name[-len(suffix) :]


def store_file(
    folder: str, stream: IO[bytes], limit: int, keyring: vault.Keyring | None = None
) -> StoredFile:
    """Check ``stream`` and write it to ``folder`` under a random name (sealed with SM4 when
    a keyring is given: the plaintext never touches the disk).

    Raises :class:`FileTooLarge` past ``limit`` bytes and :class:`BadFile` when it is empty
    or not an accepted type; nothing is written then.
    """
    data, size = io.BytesIO(), 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > limit:  # a limit of our own, should the request's be lifted
            raise FileTooLarge(TOO_LARGE(limit=limit))
        data.write(chunk)
    if size == 0:
        raise BadFile(EMPTY())
    raw = data.getvalue()
    kind = sniff_bytes(raw)
    stored = secrets.token_hex(20)
    vault.write_new(os.path.join(folder, stored), raw, keyring)
    return StoredFile(stored, size, hashlib.sha256(raw).hexdigest(), kind)


def save_evidence(
    session: Session,
    issue: Issue,
    user: User,
    filename: str,
    stream: IO[bytes],
    now: datetime,
    *,
    folder: str,
    limit: int | None = None,
    keyring: vault.Keyring | None = None,
) -> Evidence:
    """Store an uploaded file in ``folder`` under a random name, record it, audit the upload.

    With a ``keyring`` (``EVIDENCE_CIPHER = "sm4"``) the file is sealed at rest; its SHA-256
    is always the plaintext's, so a download can be checked against the trail.
    """
    file = store_file(folder, stream, limit or DEFAULT_LIMIT, keyring)
    member = acting_memberships(user, issue, UPLOAD_ROLES)[0]
    name = display_name(filename, file.kind)
    ev = Evidence(issue_id=issue.id, filename=name, stored_name=file.stored_name,
                  content_type=TYPES[file.kind], size=file.size, sha256=file.sha256,
                  uploaded_by=user.id, uploaded_at=now)  # fmt: skip
    session.add(ev)
    audit.append(
        session, issue_id=issue.id, at=now, actor_id=user.id, actor_role=member.role,
        actor_unit_id=member.unit_id, action="upload_evidence", from_state=issue.state,
        to_state=issue.state, definition_version=issue.definition.version,
        data={"filename": name, "sha256": ev.sha256},
    )  # fmt: skip
    session.flush()
    return ev


def stored_path(folder: str, ev: Evidence) -> str | None:
    """Where the file of ``ev`` lies in ``folder``, or None when it is gone or not servable."""
    path = os.path.join(folder, ev.stored_name)
    if ev.content_type not in TYPES.values() or not os.path.exists(path):
        return None
    return path


def evidence_bytes(folder: str, ev: Evidence, keys_dir: str) -> bytes | None:
    """The plaintext of ``ev``'s file (opened when sealed), or None when it is not servable.

    Raises :class:`~workflow.service.vault.VaultError` when a sealed file does not open.
    """
    path = stored_path(folder, ev)
    return None if path is None else vault.read_file(path, keys_dir)
