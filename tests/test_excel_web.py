"""The Excel page: upload with a per-row preview, import on confirmation, downloads; and the
API token page (created once, listed with last use, revoked)."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from tests.fixtures.excel.helpers import row, write_xlsx
from web.pages import excel as excel_pages
from workflow.models import ApiToken, Issue, Round


@pytest.fixture
def web(sqlite_world, tmp_path):
    from tests.api.conftest import make_app

    with sqlite_world.db.writing() as s:
        s.add(Round(code="R1", name="十四届省委第六轮巡视", kind="xunshi", level="province",
                    organiser_unit_id=sqlite_world.units["ZJ"]))  # fmt: skip
    app = make_app(sqlite_world, tmp_path)
    app.config["WTF_CSRF_ENABLED"] = False
    if "excel" not in app.blueprints:
        excel_pages.register(app)
    client = app.test_client()

    def login(username):
        r = client.post("/login", data={"username": username, "password": PASSWORD})
        assert r.status_code in (302, 303), r.data
        return client

    return login


def test_upload_preview_then_import(web, sqlite_world, tmp_path):
    client = web("office")
    assert client.get("/excel").status_code == 200
    path = write_xlsx(tmp_path / "l.xlsx", [row(1), row(2, 责任单位="西胡区"), row(3)])
    r = client.post("/excel/import", data={"file": (io.BytesIO(path.read_bytes()), "l.xlsx")},
                    content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert (
        "没有名为“西胡区”的单位，是否指 西湖区" in page and "有误" in page and "valid_only" in page
    )
    assert "did you mean" not in page  # the row problems are said in Chinese, with their place
    with sqlite_world.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Issue)) == 0
    key = re.search(r"/excel/import/([0-9a-f]{32})", page).group(1)
    assert web("clerk").post(f"/excel/import/{key}", data={"mode": "valid_only"}).status_code == 404
    client = web("office")
    r = client.post(f"/excel/import/{key}", data={"mode": "valid_only"})
    assert r.status_code == 200 and "已导入 2 条" in r.get_data(as_text=True)
    with sqlite_world.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Issue)) == 2


def test_downloads_are_scoped(web, sqlite_world):
    client = web("office")
    r = client.get("/excel/ledger.xlsx")
    assert r.status_code == 200 and load_workbook(io.BytesIO(r.data)).active["A3"].value == "序号"
    r = client.get("/excel/statistics.xlsx", query_string={"unit": sqlite_world.units["HZ"]})
    assert "总体" in load_workbook(io.BytesIO(r.data)).sheetnames
    clerk = web("clerk")
    assert (
        clerk.get("/excel/ledger.xlsx", query_string={"unit": sqlite_world.units["HZ"]}).status_code
        == 404
    )


def test_token_page(web, sqlite_world):
    client = web("super")
    r = client.post("/account/tokens", data={"name": "督办系统"})
    token = re.search(r"<code>(rf_[A-Za-z0-9_-]+)</code>", r.get_data(as_text=True)).group(1)
    page = client.get("/account/tokens").get_data(as_text=True)
    assert "督办系统" in page and token not in page
    with sqlite_world.db.reading() as s:
        token_id = s.scalar(select(ApiToken.id))
    assert "已撤销" in client.post(f"/account/tokens/{token_id}/revoke").get_data(as_text=True)
    assert web("clerk").post(f"/account/tokens/{token_id}/revoke").status_code == 404
    assert client.post("/account/tokens", data={"name": ""}).status_code == 422
