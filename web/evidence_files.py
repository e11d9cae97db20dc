"""Where the app keeps evidence files: the engine's storage arguments from the configuration.

One place for the pages, the API and the CLI: the upload folder, the size limit and — with
``EVIDENCE_CIPHER = "sm4"`` — the keyring new files are sealed with; and a stored file's
plaintext for a download (sealed files are opened transparently).
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from workflow import service
from workflow.models import Evidence
from workflow.service import vault


def storage() -> dict[str, Any]:
    """``folder``, ``limit`` and ``keyring`` for :func:`workflow.service.save_evidence`."""
    config = current_app.config
    return {
        "folder": config["UPLOAD_FOLDER"],
        "limit": config.get("MAX_CONTENT_LENGTH"),
        "keyring": vault.sealing_keyring(config.get("EVIDENCE_CIPHER"), config["KEYS_DIR"]),
    }


def stored_bytes(ev: Evidence) -> bytes | None:
    """The plaintext of an evidence file, or None when it is gone or not servable."""
    config = current_app.config
    return service.evidence_bytes(config["UPLOAD_FOLDER"], ev, config["KEYS_DIR"])
