"""国密 option: evidence files sealed at rest with SM4 (GCM), downloads opened transparently,
keys rotated with every file re-sealed, backups and restores still serving the files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.web.test_evidence import PDF, upload
from workflow.db.backup import backup, restore
from workflow.models import Evidence
from workflow.service import vault

SECRET_TEXT = b"%PDF-1.4\n% \xe6\x95\xb4\xe6\x94\xb9\xe6\x8e\xaa\xe6\x96\xbd secret\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def sealed_app(app, tmp_path):
    app.config["EVIDENCE_CIPHER"] = "sm4"
    app.config["KEYS_DIR"] = str(tmp_path / "keys")
    return app


def _stored(app, sqlite_world) -> tuple[Evidence, Path]:
    with sqlite_world.db.reading() as s:
        ev = s.scalars(select(Evidence).order_by(Evidence.id.desc())).first()
    return ev, Path(app.config["UPLOAD_FOLDER"]) / ev.stored_name


def test_seal_and_unseal_and_what_does_not_open(tmp_path):
    ring = vault.Keyring.open_or_create(tmp_path / "evidence")
    blob = vault.seal(b"plain words", ring)
    assert vault.is_sealed(blob) and b"plain words" not in blob
    assert vault.unseal(blob, ring) == b"plain words"
    assert vault.unseal(b"not sealed", ring) == b"not sealed"  # files from before pass as they are
    altered = blob[:-20] + bytes([blob[-20] ^ 1]) + blob[-19:]
    with pytest.raises(vault.VaultError, match="altered"):
        vault.unseal(altered, ring)
    with pytest.raises(vault.VaultError, match="not in the keyring"):
        vault.unseal(blob, vault.Keyring.open_or_create(tmp_path / "other"))
    key_file = next((tmp_path / "evidence").glob("*.key"))
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_an_upload_is_sealed_on_disk_and_downloads_plain(sealed_app, client, auth, issue_id,
                                                         sqlite_world):  # fmt: skip
    auth.login("clerk")
    assert upload(client, issue_id, SECRET_TEXT).status_code == 200
    ev, path = _stored(sealed_app, sqlite_world)
    on_disk = path.read_bytes()
    assert vault.is_sealed(on_disk) and b"secret" not in on_disk
    assert ev.sha256 == hashlib.sha256(SECRET_TEXT).hexdigest()  # the plaintext's, as in the trail
    r = client.get(f"/evidence/{ev.id}")
    assert r.status_code == 200 and r.data == SECRET_TEXT


def test_rotation_reseals_every_file_and_downloads_keep_working(sealed_app, client, auth,
                                                                issue_id, sqlite_world):  # fmt: skip
    auth.login("clerk")
    sealed_app.config["EVIDENCE_CIPHER"] = "none"
    upload(client, issue_id, PDF, name="plain.pdf")  # from before encryption was on
    _plain_ev, plain_path = _stored(sealed_app, sqlite_world)
    sealed_app.config["EVIDENCE_CIPHER"] = "sm4"
    upload(client, issue_id, SECRET_TEXT)
    ev, path = _stored(sealed_app, sqlite_world)
    first_key = path.read_bytes()[6:14]
    from web.cli.ops import evidence_group

    result = sealed_app.test_cli_runner().invoke(evidence_group, ["rotate-key"])
    assert result.exit_code == 0, result.output
    assert "1 file(s) re-sealed, 1 plaintext file(s) sealed" in result.output
    assert vault.is_sealed(plain_path.read_bytes())
    assert path.read_bytes()[6:14] != first_key
    assert client.get(f"/evidence/{ev.id}").data == SECRET_TEXT
    assert client.get(f"/evidence/{_plain_ev.id}").data == PDF


def test_backup_and_restore_keep_serving_sealed_files(sealed_app, client, auth, issue_id,
                                                      sqlite_world, tmp_path):  # fmt: skip
    auth.login("clerk")
    upload(client, issue_id, SECRET_TEXT)
    ev, path = _stored(sealed_app, sqlite_world)
    uploads = Path(sealed_app.config["UPLOAD_FOLDER"])
    target = backup(sqlite_world.db.engine, tmp_path / "b" / "rectiflow.sqlite", uploads)
    path.unlink()
    assert client.get(f"/evidence/{ev.id}").status_code == 404
    restore(sqlite_world.db.engine, target, uploads)
    assert vault.is_sealed(path.read_bytes())  # restored as it was stored: sealed
    assert client.get(f"/evidence/{ev.id}").data == SECRET_TEXT


def test_the_storage_helper_every_door_uses_opens_sealed_files(
    sealed_app, client, auth, issue_id, sqlite_world
):
    auth.login("clerk")
    upload(client, issue_id, SECRET_TEXT)
    ev, _path = _stored(sealed_app, sqlite_world)
    from web.evidence_files import stored_bytes

    with sealed_app.app_context():
        assert stored_bytes(ev) == SECRET_TEXT
