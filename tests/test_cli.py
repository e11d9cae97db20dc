"""The `rectiflow` command end to end: migrate a fresh database, load the demo is separate;
open an issue and take it through its life from the shell, with errors that name the problem."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from web import create_app
from web.cli import cli

NOW = "2026-09-07T09:00:00+08:00"


@pytest.fixture
def run(tmp_path, monkeypatch):
    """Invoke `rectiflow …` against a fresh instance folder."""
    monkeypatch.setenv("RECTIFLOW_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("RECTIFLOW_DATABASE_URL", raising=False)
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True):
        result = runner.invoke(cli, list(args), catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    invoke("db", "upgrade")
    return invoke


def test_db_upgrade_is_repeatable_and_stores_definitions(run):
    out = run("db", "upgrade").output
    assert "definition rectification" in out and "unchanged" in out
    assert "rectification" in run("definitions", "list").output


def test_an_issue_through_its_life_from_the_cli(run, tmp_path):
    run("units", "add", "ZJ", "浙江省", "--level", "province")
    run("units", "add", "HZ", "杭州市", "--level", "city", "--parent", "ZJ")
    run("units", "add", "HZ-01", "上城区", "--level", "county", "--parent", "HZ")
    run("units", "add", "HZ-01-01", "湖滨街道", "--level", "township", "--parent", "HZ-01")
    run("units", "add", "NB", "宁波市", "--level", "city", "--parent", "ZJ")
    for user, role in [
        ("office", "office@ZJ"),
        ("clerk", "unit_user@HZ-01-01"),
        ("head", "unit_head@HZ-01-01"),
        ("super", "supervisor@HZ-01"),
        ("checker", "spot_check@NB"),
    ]:
        run("users", "add", user, "--name", user, "--password", "a-long-password", "--role", role)
    assert "unit_user@HZ-01-01" in run("users", "list", "--role", "unit_user").output
    out = run(
        "issues",
        "open",
        "--as",
        "office",
        "--now",
        NOW,
        "--set",
        "title=公车管理不严",
        "--set",
        "unit=HZ-01-01",
        "--set",
        "due_on=2026-12-31",
    ).output
    number = out.split()[0]
    steps = [
        ("sign_for", "clerk", []),
        ("submit_plan", "clerk", ["measures=修订公车管理制度 | 2026-11-30"]),
        ("attest_plan", "head", ["attested=true"]),
        ("approve_plan", "super", []),
        ("report_progress", "clerk", ["progress=80", "note=制度已修订"]),
    ]
    for action, user, data in steps:
        args = ["issues", "act", number, action, "--as", user, "--now", NOW]
        for item in data:
            args += ["--set", item]
        run(*args)
    shown = run("issues", "show", number, "--as", "clerk").output
    assert "correcting" in shown and "修订公车管理制度" in shown
    assert "request_closeout" in shown or "request_extension" in shown
    pdf = tmp_path / "纪要.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
    assert "evidence 纪要.pdf" in run("issues", "attach", number, str(pdf), "--as", "clerk").output
    fake = tmp_path / "x.pdf"
    fake.write_text("<script>alert(1)</script>")
    bad = run("issues", "attach", number, str(fake), "--as", "clerk", ok=False)
    assert bad.exit_code == 1 and "not accepted" in bad.output
    for action, user, data in [
        ("request_closeout", "clerk", ["completion=已完成", "summary=已整改"]),
        ("attest_closeout", "head", ["attested=true"]),
        ("accept", "super", ["grade=好"]),
        ("assign_checker", "office", ["checker=checker"]),
        ("followup_holds", "checker", ["note=巩固"]),
    ]:
        args = ["issues", "act", number, action, "--as", user, "--now", NOW]
        for item in data:
            args += ["--set", item]
        run(*args)
    assert "archived" in run("issues", "show", number).output
    assert "audit chain intact" in run("audit", "verify").output


def test_cli_errors_name_the_problem(run):
    run("units", "add", "ZJ", "浙江省", "--level", "province")
    bad = run("units", "add", "ZJ", "again", "--level", "province", ok=False)
    assert bad.exit_code == 1 and "taken" in bad.output
    bad = run(
        "users",
        "add",
        "x1",
        "--name",
        "x",
        "--password",
        "a-long-password",
        "--role",
        "boss@ZJ",
        ok=False,
    )
    assert "role 'boss'" in bad.output
    run(
        "users",
        "add",
        "office",
        "--name",
        "o",
        "--password",
        "a-long-password",
        "--role",
        "office@ZJ",
    )
    bad = run("issues", "open", "--as", "office", "--set", "title=", "--set", "unit=NOPE", ok=False)
    assert "title: required" in bad.output and "unit: no unit with code 'NOPE'" in bad.output
    bad = run("issues", "act", "ZG-404", "sign_for", "--as", "office", ok=False)
    assert "no issue 'ZG-404'" in bad.output


def test_definitions_check_reports_file_and_line(run, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\nstates: [\n", encoding="utf-8")
    bad = run("definitions", "check", str(broken), ok=False)
    assert bad.exit_code == 1 and "broken.yaml:" in bad.output
    assert "all definitions are valid" in run("definitions", "check").output


def test_app_factory_uses_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("RECTIFLOW_INSTANCE", str(tmp_path / "inst"))
    app = create_app()
    assert app.instance_path == str(tmp_path / "inst")
    assert app.config["DATABASE_URL"].endswith("inst/rectiflow.sqlite")
