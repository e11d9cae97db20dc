"""The API speaks the language ``Accept-Language`` asks for (Chinese when it names neither),
field messages included, and carries the engine's stable code beside what it said."""

from __future__ import annotations

import re

CJK = re.compile(r"[\u4e00-\u9fff]")


def error(r):
    body = r.get_json()
    assert set(body) == {"error"}, body
    return body["error"]


def test_an_error_is_chinese_by_default_and_english_when_asked(api, issues):
    zh = error(api.get("/api/v1/issues/99999999"))
    en = error(api.get("/api/v1/issues/99999999", headers={"Accept-Language": "en-GB,en;q=0.8"}))
    assert zh["status"] == en["status"] == 404 and zh["code"] == en["code"] == "not_found"
    assert CJK.search(zh["message"]) and not CJK.search(en["message"]), (zh, en)
    assert "99999999" in zh["message"] and "99999999" in en["message"]
    # a language the catalogue lacks falls back to Chinese, the office's language
    fr = error(api.get("/api/v1/issues/99999999", headers={"Accept-Language": "fr"}))
    assert fr["message"] == zh["message"]


def test_field_messages_follow_the_language(api, issues):
    body = {"definition": "rectification", "title": "", "unit": "HZ-XH-LY"}
    zh = error(api.post("/api/v1/issues/", json=body))
    en = error(api.post("/api/v1/issues/", json=body, headers={"Accept-Language": "en"}))
    assert zh["status"] == en["status"] == 422 and set(zh["fields"]) == set(en["fields"])
    assert CJK.search(zh["message"]) and not CJK.search(en["message"])
    for name in zh["fields"]:
        assert all(CJK.search(m) for m in zh["fields"][name]), zh["fields"]
