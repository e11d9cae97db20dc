"""Bounded input, the same bound in every layer: integers within the 32-bit columns, names within
their varchar, ids outside 1..2^31-1 answering 404, dates before 2000 and past extensions refused
(engine, web form, API, CLI and Excel import; SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from tests.fixtures.excel.helpers import HEADERS, row, write_xlsx
from web import create_app
from web.cli import cli
from workflow import imports, linkage, service
from workflow.limits import DATE_MIN, INT_MAX, int_range, max_length, text_limit
from workflow.models import Issue, NetworkFigure, Round, Unit, User
from workflow.org.units import UnitError, add_unit
from workflow.service.fields import ValidationFailed

HUGE = (2**63, 2**31)
MB_NAME = "单" * (1024 * 1024 // 3)


@pytest.fixture
def app(world, tmp_path):
    """The app on the small province, SQLite and PostgreSQL (CSRF off)."""
    app = create_app({"TESTING": True, "DATABASE_URL": world.db.url, "CLOCK": world.clock,
                      "SECRET_KEY": "test", "UPLOAD_FOLDER": str(tmp_path / "uploads"),
                      "WTF_CSRF_ENABLED": False, "MAX_CONTENT_LENGTH": 4 * 1024 * 1024})  # fmt: skip
    yield app
    from web.database import get_database

    get_database(app).dispose()


@pytest.fixture
def client(app):
    """A test client."""
    return app.test_client()


def login(client, username: str) -> None:
    """Log ``client`` in as ``username``."""
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code in (
        302,
        303,
    )


def open_issue(world, **fields) -> int:
    """A rectification issue of 灵隐街道, opened by the provincial office."""
    with world.db.writing() as s:
        return service.open_issue(s, "rectification", {"title": "会议记录不全", "unit": "HZ-XH-LY",
                                  "due_on": "2026-12-31", **fields}, world.user(s, "office"),
                                  world.clock()).id  # fmt: skip


def act(world, issue_id: int, action: str, username: str, **data) -> None:
    """Take an action through the service."""
    with world.db.writing() as s:
        issue = s.get(Issue, issue_id)
        service.act(s, issue, action, world.user(s, username), data, issue.version, world.clock())


def correcting(world) -> int:
    """An issue whose plan is approved (request_closeout, request_extension are open)."""
    issue_id = open_issue(world)
    act(world, issue_id, "sign_for", "clerk")
    act(world, issue_id, "submit_plan", "clerk", measures="召开专题会 | 2026-12-31")
    act(world, issue_id, "attest_plan", "head", attested=True)
    act(world, issue_id, "approve_plan", "super")
    return issue_id


# ------------------------------------------------------------------------------ the limits


def test_limits_are_read_from_the_schema():
    assert text_limit(Unit.name) == 200 and text_limit(User.display_name) == 100
    assert max_length("unit", "code") == 64 and text_limit(Issue.title) == 300
    assert int_range(Issue.rules_written) == (-(2**31), INT_MAX) and INT_MAX == 2**31 - 1


# ------------------------------------------------------------------------------ integers


@pytest.mark.parametrize("value", HUGE)
def test_a_huge_counter_in_an_action_form_is_422_naming_the_field(world, client, value):
    issue_id = correcting(world)
    login(client, "clerk")
    r = client.post(f"/issues/{issue_id}/act/request_closeout", data={
        "version": 5, "completion": "已完成", "summary": "完成", "rules_written": str(value)})  # fmt: skip
    html = r.data.decode()
    assert r.status_code == 422 and 'id="f-request_closeout-rules_written-err"' in html
    assert value > 10**12 or "2147483647" in html
    with world.db.reading() as s:
        assert s.get(Issue, issue_id).rules_written == 0


@pytest.mark.parametrize("value", HUGE)
def test_a_huge_counter_through_the_api_is_422_naming_the_field(world, app, value):
    from workflow.org import tokens

    issue_id = correcting(world)
    with world.db.writing() as s:
        _, token = tokens.create_token(s, world.user(s, "clerk"), "t", world.clock())
    r = app.test_client().post(
        f"/api/v1/issues/{issue_id}/actions/request_closeout",
        headers={"Authorization": f"Bearer {token}"},
        json={"data": {"completion": "已完成", "summary": "完成", "people_handled": value},
              "expected_version": 5},
    )  # fmt: skip
    assert r.status_code == 422, r.data
    assert "people_handled" in r.get_json()["error"]["fields"]


def test_a_huge_cases_opened_is_refused_by_the_engine(world):
    from workflow.definition.model import FieldSpec, Label
    from workflow.service.fields import clean_data

    spec = FieldSpec("cases_opened", "int", False, Label("立案", "Cases"), min=0)
    with world.db.reading() as s, pytest.raises(ValidationFailed) as caught:
        clean_data(s, {"cases_opened": spec}, {"cases_opened": 2**63})
    assert "cases_opened" in caught.value.errors


@pytest.mark.parametrize("value", HUGE)
def test_a_huge_network_figure_is_refused_and_nothing_stored(world, client, value):
    login(client, "office")
    r = client.post("/linkage/network", data={"metric": "individual_talks", "value": str(value),
                                              "unit": "ZJ", "source": "通报"})  # fmt: skip
    assert r.status_code == 422
    with world.db.writing() as s, pytest.raises(ValueError, match="value"):
        linkage.enter_figure(s, None, "ZJ", "individual_talks", value, "通报",
                             world.user(s, "office"), world.clock())  # fmt: skip
    with world.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(NetworkFigure)) == 0


# ------------------------------------------------------------------------------ names


def test_a_one_megabyte_unit_name_is_refused_in_every_door(world, client, tmp_path, monkeypatch):
    with world.db.writing() as s, pytest.raises(UnitError, match="unit name: at most 200"):
        add_unit(s, "BIG", MB_NAME, "township", "HZ-XH")
    login(client, "office")
    r = client.post("/admin/units", data={"code": "BIG", "name": MB_NAME[:5000],
                                          "level": "township", "parent": "HZ-XH"})  # fmt: skip
    assert r.status_code == 422 and "200" in r.data.decode()
    r = client.post("/admin/users", data={"username": "big", "display_name": "人" * 5000,
                                          "password": PASSWORD, "roles": "unit_user@HZ-XH"})  # fmt: skip
    assert r.status_code == 422 and "100" in r.data.decode()
    with world.db.reading() as s:
        assert s.scalar(select(Unit.id).where(Unit.code == "BIG")) is None
        assert s.scalar(select(User.id).where(User.username == "big")) is None
    # the command line says it and exits 1
    monkeypatch.setenv("RECTIFLOW_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("RECTIFLOW_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"], catch_exceptions=False).exit_code == 0
    result = runner.invoke(cli, ["units", "add", "ZJ", "省" * 300, "--level", "province"],
                           catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 1 and "200" in result.output


def test_round_and_team_names_are_bounded(world):
    with world.db.writing() as s:
        office = world.user(s, "office")
        with pytest.raises(ValueError, match="at most 200"):
            linkage.create_round(s, "R9", "轮" * 201, "xunshi", "province", "ZJ", office,
                                   world.clock())  # fmt: skip
        s.add(Round(code="R1", name="第一轮", kind="xunshi", level="province",
                    organiser_unit_id=world.units["ZJ"]))  # fmt: skip
        s.flush()
        with pytest.raises(ValueError, match="at most 200"):
            linkage.form_team(s, "R1", "组" * 201, office, world.clock())


# ------------------------------------------------------------------------------ ids


@pytest.mark.parametrize("n", [2**63, 2**31, 10**30])
def test_huge_ids_in_routes_and_filters_are_404(world, client, n):
    login(client, "office")
    for url in (f"/evidence/{n}", f"/letters/{n}", f"/leads/{n}", f"/linkage/rollup/{n}",
                f"/issues/{n}", f"/ledger?unit={n}", f"/ledger?round={n}",
                f"/linkage/network?unit={n}", f"/linkage/network?round={n}"):  # fmt: skip
        assert client.get(url).status_code == 404, url


# ------------------------------------------------------------------------------ dates


def test_a_due_date_in_1900_is_refused_on_opening(world):
    with pytest.raises(ValidationFailed) as caught:
        open_issue(world, due_on="1900-01-01")
    assert "due_on" in caught.value.errors
    assert DATE_MIN.isoformat() in caught.value.errors["due_on"][0]


def test_an_extension_to_a_past_date_is_refused_with_a_reason(world):
    from workflow.service.fields import clean_action_data

    issue_id = correcting(world)
    with world.db.reading() as s:
        d = service.get_definition(s.get(Issue, issue_id))
        action = d.actions["request_extension"]
        with pytest.raises(ValidationFailed) as caught:
            clean_action_data(
                s, d, action, {"new_due": "2026-09-01", "reason": "理由"}, world.clock()
            )
        assert "after today (2026-09-07)" in caught.value.errors["new_due"][0]
        with pytest.raises(ValidationFailed):
            clean_action_data(
                s, d, action, {"new_due": "1900-01-01", "reason": "理由"}, world.clock()
            )
        clean = clean_action_data(s, d, action, {"new_due": "2027-06-30", "reason": "理由"},
                                  world.clock())  # fmt: skip
        assert clean["new_due"] == date(2027, 6, 30)
    # and through the one door every caller uses: service.act (web, API and CLI)
    with world.db.writing() as s:
        issue = s.get(Issue, issue_id)
        version = issue.version
        with pytest.raises(ValidationFailed) as caught:
            service.act(s, issue, "request_extension", world.user(s, "clerk"),
                        {"new_due": "2026-09-01", "reason": "理由"}, version, world.clock())  # fmt: skip
        assert "new_due" in caught.value.errors
    with world.db.reading() as s:
        assert s.get(Issue, issue_id).version == version  # nothing written


def test_an_excel_row_with_a_long_title_and_a_1900_date_names_its_cells(world, tmp_path):
    with world.db.writing() as s:
        s.add(Round(code="R1", name="十四届省委第六轮巡视", kind="xunshi", level="province",
                    organiser_unit_id=world.units["ZJ"]))  # fmt: skip
    cells = ["标" * 400, *row(1, 整改时限="1900-01-01")]
    path = write_xlsx(tmp_path / "a.xlsx", [cells], headers=["问题标题", *HEADERS])
    with world.db.writing() as s:
        report = imports.import_issues(s, path, world.user(s, "office"), world.clock(),
                                       allow_past=True)  # fmt: skip
    assert not report.written
    said = {(m.row, m.column): str(m) for m in report.errors}
    assert "at most 300" in said[(3, "A")] and "1900-01-01" in said[(3, "I")], said
    assert all(m.sheet for m in report.errors)
