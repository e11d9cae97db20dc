"""The `rectiflow` command says the engine's refusals in the shell's language (LANG/LC_ALL)."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from web.cli import cli

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def run(tmp_path, monkeypatch):
    """Invoke `rectiflow …` against a fresh instance folder with one province and its office."""
    monkeypatch.setenv("RECTIFLOW_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("RECTIFLOW_DATABASE_URL", raising=False)
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def invoke(*args: str, lang: str = "C", ok: bool = True):
        result = runner.invoke(cli, list(args), env={"LANG": lang}, catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    invoke("db", "upgrade")
    invoke("units", "add", "ZJ", "浙江省", "--level", "province")
    invoke("users", "add", "office", "--name", "o", "--password", "a-long-password",
           "--role", "office@ZJ")  # fmt: skip
    return invoke


def test_a_chinese_shell_reads_the_refusal_in_chinese(run):
    bad = run("issues", "open", "--as", "office", "--set", "title=", "--set", "unit=NOPE",
              lang="zh_CN.UTF-8", ok=False)  # fmt: skip
    assert bad.exit_code == 1
    assert "title: 必填" in bad.output, bad.output
    assert "required" not in bad.output and "no unit with code" not in bad.output
    taken = run("units", "add", "ZJ", "again", "--level", "province", lang="zh_CN.UTF-8", ok=False)
    assert taken.exit_code == 1 and CJK.search(taken.output), taken.output
    assert "taken" not in taken.output


def test_an_english_or_posix_shell_reads_english(run):
    bad = run("issues", "open", "--as", "office", "--set", "title=", "--set", "unit=NOPE", ok=False)
    assert "title: required" in bad.output and "unit: no unit with code 'NOPE'" in bad.output
    taken = run("units", "add", "ZJ", "again", "--level", "province", lang="en_GB.UTF-8", ok=False)
    assert "taken" in taken.output and not CJK.search(taken.output)


def test_lc_all_wins_over_lang(run, monkeypatch):
    monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")
    bad = run("issues", "open", "--as", "office", "--set", "title=", "--set", "unit=ZJ",
              lang="en_US.UTF-8", ok=False)  # fmt: skip
    assert "title: 必填" in bad.output, bad.output
