"""Steps both demo stories take the same way: the discipline commission handling a problem
lead, and a small evidence file so that close-out guards pass.  Demo data only; must not
import flask."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from workflow import audit
from workflow.models import Evidence, Issue, User

# (issue, action, user, at, **data) → whether the action was taken
Act = Callable[..., bool]


def settle_lead(
    act: Act,
    lead: Issue,
    disc: User,
    transferred: datetime,
    disposition: str,
    outcome: tuple[int, int, int] | None,
    feedback: str,
    days: tuple[int, int, int, int] = (3, 10, 50, 70),
) -> None:
    """Accept, dispose, record the outcome and feed back, as far as the lead's state goes.

    ``days`` after ``transferred``: when each of the four steps is taken.  ``outcome``
    (cases opened, sanctions, organisational measures) None stops after disposing.
    """
    accept, dispose, record, feed = (transferred + timedelta(days=d) for d in days)
    if not act(lead, "accept_lead", disc, accept):
        return
    if not act(lead, "dispose", disc, dispose, disposition=disposition) or outcome is None:
        return
    if lead.state == "disposed":  # 予以了结 records its outcome while disposing
        cases, sanctions, org = outcome
        act(lead, "record_outcome", disc, record, cases_opened=cases, sanctions=sanctions,
            org_measures=org, note="已按规定处置")  # fmt: skip
    if lead.state == "outcome_recorded":
        act(lead, "send_feedback", disc, feed, note=feedback)


def demo_pdf(number: str) -> bytes:
    """A one-page PDF standing for an evidence file of issue ``number`` (the same bytes for
    the same number, so the row's SHA-256 and the file written later agree)."""
    text = f"Rectiflow demo evidence - {number}".encode("ascii", "replace")
    stream = b"BT /F1 14 Tf 72 760 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def write_evidence_files(session: Session, folder: str, keyring: Any = None) -> int:
    """Write the demo's evidence files into ``folder`` (those not there yet); how many."""
    from pathlib import Path

    from sqlalchemy import select

    from workflow.service import vault

    Path(folder).mkdir(parents=True, exist_ok=True)
    written = 0
    rows = session.execute(select(Evidence.stored_name, Issue.number)
                           .join(Issue, Issue.id == Evidence.issue_id))  # fmt: skip
    for stored_name, number in rows:
        path = Path(folder) / stored_name
        if not path.exists():
            vault.write_new(path, demo_pdf(number), keyring)
            written += 1
    return written


def add_evidence(session: Session, issue: Issue, user: User, at: datetime, filename: str) -> None:
    """Record a small, real evidence file (a PDF, written by :func:`write_evidence_files`)
    uploaded by ``user``, with its audit event."""
    body = demo_pdf(issue.number)
    ev = Evidence(
        issue_id=issue.id,
        filename=filename,
        stored_name=secrets.token_hex(20),
        content_type="application/pdf",
        size=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
        uploaded_by=user.id,
        uploaded_at=at,
    )
    session.add(ev)
    data: dict[str, Any] = {"filename": filename, "sha256": ev.sha256}
    audit.append(
        session,
        issue_id=issue.id,
        at=at,
        actor_id=user.id,
        actor_role="unit_user",
        actor_unit_id=issue.unit_id,
        action="upload_evidence",
        from_state=issue.state,
        to_state=issue.state,
        definition_version=issue.definition.version,
        data=data,
    )
