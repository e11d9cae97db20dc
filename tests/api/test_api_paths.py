"""The collections answer at both spellings, and an anonymous call is 401 JSON, never a redirect."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("path", ["/api/v1/issues", "/api/v1/issues/", "/api/v1/units",
                                  "/api/v1/units/"])  # fmt: skip
def test_anonymous_calls_answer_401_json_without_a_redirect(api, path):
    r = api.get(path, None)
    assert r.status_code == 401 and "Location" not in r.headers
    assert r.is_json and r.get_json()["error"]["code"] == "unauthorized"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", ["/api/v1/issues", "/api/v1/issues/"])
def test_the_collection_lists_at_both_spellings(api, path):
    r = api.get(path, "clerk")
    assert r.status_code == 200 and "items" in r.get_json()
    created = api.post(path, "office", json={"definition": "rectification", "title": "两种写法",
                                             "unit": "HZ-XH-LY", "category": "党的建设缺失",
                                             "description": "x"})  # fmt: skip
    assert created.status_code == 201, created.get_json()
