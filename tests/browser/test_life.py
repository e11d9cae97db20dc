"""One rectification issue through its whole life, each role in its own browser session;
the board and ledger follow it, scoping holds, and no page logs a JavaScript error."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-9"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TITLE = "灵隐街道考核奖金发放不规范（浏览器测试）"


class Session:
    """One person in their own browser context, collecting console errors."""

    def __init__(self, browser, base: str, username: str, errors: list[str], shots) -> None:
        self.context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        self.page = self.context.new_page()
        self.base, self.shots, self.name = base, shots, username
        self.page.on(
            "console",
            lambda m: (
                m.type == "error"
                and errors.append(f"{username}: {m.text} @ {m.location} on {self.page.url}")
            ),
        )
        self.page.on("pageerror", lambda e: errors.append(f"{username}: {e}"))
        self.page.goto(f"{base}/login")
        self.page.fill("#username", username)
        self.page.fill("#password", PASSWORD)
        self.page.click(".login button[type=submit]")
        self.page.wait_for_url(re.compile(r"/$"))

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)

    def act(self, action: str, expect_state: str, fill=None) -> None:
        """Open an action's form, fill it, submit, and wait for the new state."""
        box = self.page.locator(f"#act-{action}")
        box.locator("summary").click()
        if fill:
            fill(self.page)
        box.locator("button[type=submit]").click()
        self.page.wait_for_selector(f"#issue .pill:text-is('{expect_state}')")
        self.settled()

    def settled(self) -> None:
        """Wait until htmx has finished swapping and processing new content."""
        self.page.wait_for_selector(".htmx-added, .htmx-settling, .htmx-request", state="detached")

    def close(self) -> None:
        self.context.close()


def test_whole_life_of_an_issue(browser, live_server, shots):
    errors: list[str] = []

    def person(name: str) -> Session:
        return Session(browser, live_server, name, errors, shots)

    # the office transfers (移交) the issue
    office = person("office")
    office.go("/issues/new")
    office.page.fill("#n-title", TITLE)
    office.page.fill("#n-description", "系统内考核奖金发放未按规定程序审批。")
    office.page.fill("#n-unit", "HZ-XH-LY")
    office.page.fill("#n-category", "全面从严治党不力")
    office.page.fill("#n-due_on", "2026-12-31")
    office.shot("new-issue")
    office.page.click("form.form-grid button[type=submit]")
    office.page.wait_for_selector("#issue .pill:text-is('已移交')")
    issue_url = office.page.url
    issue_path = issue_url.removeprefix(live_server)

    # the clerk finds it in 我的待办, signs for it and writes the plan
    clerk = person("clerk")
    assert TITLE in clerk.page.inner_text("#work")
    clerk.shot("my-work")
    clerk.go(issue_path)
    clerk.act("sign_for", "制定整改方案")
    clerk.act(
        "submit_plan", "方案待签字背书",
        lambda p: p.fill("#f-submit_plan-measures", "召开专题民主生活会 | 2026-10-31\n修订考核奖金发放办法 | 2026-11-30"),
    )  # fmt: skip

    head = person("head")
    head.go(issue_path)
    head.act("attest_plan", "方案待审核", lambda p: p.check("#f-attest_plan-attested"))

    sup = person("super")
    sup.go("/queues/supervise")
    assert TITLE in sup.page.inner_text("main")
    sup.go(issue_path)
    sup.act("approve_plan", "整改中")

    # progress, evidence, close-out request
    clerk.go(issue_path)
    clerk.act("report_progress", "整改中", lambda p: p.fill("#f-report_progress-progress", "80"))
    clerk.page.set_input_files(
        "#evidence-file",
        files=[{"name": "专题会议纪要.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    clerk.page.click("#evidence button[type=submit]")
    clerk.page.wait_for_selector("#evidence a:text-is('专题会议纪要.pdf')")
    clerk.shot("issue-correcting")

    def closeout(p):
        p.select_option("#f-request_closeout-completion", "已完成")
        p.fill("#f-request_closeout-summary", "两项整改措施全部落实，制度已印发。")
        p.fill("#f-request_closeout-rules_written", "2")
        p.fill("#f-request_closeout-money_recovered", "12000")

    clerk.act("request_closeout", "销号待签字背书", closeout)
    head.go(issue_path)
    head.act("attest_closeout", "待验收", lambda p: p.check("#f-attest_closeout-attested"))
    sup.go(issue_path)
    sup.act("accept", "已销号", lambda p: p.select_option("#f-accept-grade", "好"))

    # the office assigns a checker from another city; the checker confirms it holds
    office.go(issue_path)
    office.act("assign_checker", "已销号", lambda p: p.fill("#f-assign_checker-checker", "checker"))
    checker = person("checker")
    assert TITLE in checker.page.inner_text("#work")
    checker.go("/queues/spotcheck")
    checker.shot("spotcheck-queue")
    checker.go(issue_path)
    checker.act(
        "followup_holds",
        "已归档",
        lambda p: p.fill("#f-followup_holds-note", "回访发现整改成效巩固。"),
    )
    checker.shot("issue-archived")
    timeline = checker.page.inner_text(".timeline")
    for step in (
        "移交",
        "签收",
        "提交整改方案",
        "审核通过方案",
        "上传佐证材料",
        "验收销号",
        "回访：巩固",
    ):
        assert step in timeline

    # the board and the ledger follow
    office.go("/board")
    row = office.page.locator("table.board tr.sum")
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == "1" and cells[7] == "1"  # one issue, archived
    assert "100.0%" in row.inner_text()
    office.shot("board")
    office.page.click("table.board a:has-text('杭州市')")
    office.page.wait_for_selector(".crumbs strong:text-is('杭州市')")
    office.go("/ledger")
    office.page.fill("#l-q", "浏览器测试")
    office.page.wait_for_selector("#results tbody tr:has-text('已归档')")
    office.settled()
    assert office.page.locator("#results tbody tr").count() == 1
    office.shot("ledger")
    office.go("/stats")
    office.shot("stats")
    office.go("/admin/definitions")
    office.shot("admin-definitions")
    sup.go("/")
    sup.shot("supervisor-work")

    # another unit's clerk cannot see the issue
    other = person("clerk2")
    response = other.page.goto(issue_url)
    assert response.status == 404 and "未找到" in other.page.inner_text("main")
    errors[:] = [e for e in errors if not ("404" in e and e.startswith("clerk2"))]
    other.shot("not-found")

    for s in (office, clerk, head, sup, checker, other):
        s.close()
    assert errors == [], "\n".join(errors)
