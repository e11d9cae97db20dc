"""One configuration for every process: the web app, the CLI and Prefect workers read the same
settings from the instance folder and the environment, and deployments carry no secret."""

from __future__ import annotations

from web import create_app
from web.cli.clock import deployment_specs
from workflow import config
from workflow.clock.flows import resolve_database_url

URL = "postgresql+psycopg://rectiflow:s3cret-pw@db.example:5432/rectiflow"


def _instance(tmp_path, monkeypatch, text: str) -> None:
    folder = tmp_path / "instance"
    folder.mkdir()
    (folder / "config.py").write_text(text, encoding="utf-8")
    monkeypatch.setenv("RECTIFLOW_INSTANCE", str(folder))
    for name in ("RECTIFLOW_DATABASE_URL", "RECTIFLOW_SMTP_HOST", "RECTIFLOW_SMTP_PORT"):
        monkeypatch.delenv(name, raising=False)


def test_a_worker_reads_the_instance_file_like_the_web_app(tmp_path, monkeypatch):
    _instance(tmp_path, monkeypatch, f'DATABASE_URL = "{URL}"\nSMTP_HOST = "mail.gov"\nlower = 1\n')
    monkeypatch.setenv("RECTIFLOW_SMTP_PORT", "2525")
    monkeypatch.setenv("RECTIFLOW_DIGEST__HOUR", "7")
    app = create_app()
    settings = config.load()
    for key in ("DATABASE_URL", "SMTP_HOST", "SMTP_PORT", "UPLOAD_FOLDER", "AUDIT_HASH"):
        assert app.config[key] == settings[key], key
    assert settings["SMTP_PORT"] == 2525 and settings["DIGEST"] == {"HOUR": 7}
    assert "lower" not in settings  # only UPPERCASE names are settings
    assert resolve_database_url() == URL  # a Prefect flow run with no parameter


def test_the_environment_wins_over_the_file(tmp_path, monkeypatch):
    _instance(tmp_path, monkeypatch, 'DATABASE_URL = "sqlite:///from-file.sqlite"\n')
    monkeypatch.setenv("RECTIFLOW_DATABASE_URL", URL)
    assert config.load()["DATABASE_URL"] == URL == create_app().config["DATABASE_URL"]


def test_notification_workers_use_the_same_loader(tmp_path, monkeypatch):
    from notifications.dispatch import config_from_env

    _instance(tmp_path, monkeypatch, 'SMTP_HOST = "mail.gov"\nWEBHOOK_SECRET = "x"\n')
    settings = config_from_env()
    assert settings["SMTP_HOST"] == "mail.gov" and settings["WEBHOOK_SECRET"] == "x"


def test_no_deployment_parameter_carries_the_database():
    specs = deployment_specs(10, 60, "0 8 * * *")
    assert [name for _entry, name, _schedule, _params in specs] == ["sweep", "dispatch", "digest"]
    for _entry, _name, _schedule, params in specs:
        assert "database_url" not in params
        assert not any("://" in str(v) for v in params.values())
