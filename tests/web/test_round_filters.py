"""Round filters offer only the rounds a user has to do with: a 杭州 township clerk is offered
the province's and 杭州's rounds, never 宁波's (or any other city's)."""

from __future__ import annotations

from tests.web.test_linkage_pages import make_round


def test_a_clerk_is_offered_only_the_rounds_on_their_path(client, auth, sqlite_world):
    make_round(sqlite_world, code="ZJ-R1")
    make_round(sqlite_world, code="HZ-R1", organiser="HZ", level="city", kind="xuncha")
    make_round(sqlite_world, code="NB-R1", organiser="NB", level="city", kind="xuncha")
    # a 宁波 round inspecting a 杭州 unit (交叉巡察) concerns 杭州 too
    make_round(sqlite_world, code="NB-X1", organiser="NB", level="city", kind="xuncha",
               targets=["HZ-XH"])  # fmt: skip
    auth.login("clerk")  # 灵隐街道, 西湖区, 杭州市
    for page in ("/ledger", "/board"):
        html = client.get(page).get_data(as_text=True)
        assert "ZJ-R1" in html and "HZ-R1" in html and "NB-X1" in html, page
        assert "NB-R1" not in html, page
    auth.logout()
    auth.login("office")  # the province office: every round of the province
    html = client.get("/ledger").get_data(as_text=True)
    assert all(code in html for code in ("ZJ-R1", "HZ-R1", "NB-R1", "NB-X1"))
