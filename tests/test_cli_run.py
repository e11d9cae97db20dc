"""`rectiflow run` binds before it says it serves, and a taken port is said plainly."""

from __future__ import annotations

import socket

from click.testing import CliRunner

from web.cli import cli


def test_a_taken_port_is_named_without_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("RECTIFLOW_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("RECTIFLOW_DATABASE_URL", raising=False)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["run", "--port", str(port), "--no-scheduler"])
    assert result.exit_code == 1, result.output
    assert f"port {port} on 127.0.0.1 is in use" in result.output
    assert "serving on" not in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
