"""Messaging robots (DingTalk, WeCom, Feishu) against a real HTTP receiver that plays each
platform: it checks the signature and the body, and answers with the platform's codes."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from notifications import channels
from notifications.channels import (
    Context,
    Delivery,
    DeliveryError,
    PermanentError,
    dingtalk,
    feishu,
    wecom,
)
from notifications.channels.robots import RateLimited
from notifications.dispatch import dispatch, dispatch_all
from tests.test_escalation import local, open_rect
from tests.test_notifications import escalate_one
from workflow.clock.escalation import sweep
from workflow.models import Outbox, Unit

SECRET = "SEC0123456789abcdef"
NOW = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)


class Platform(BaseHTTPRequestHandler):
    """One receiver for the three platforms, told apart by path, as their servers check."""

    received: list[tuple[str, dict]] = []
    answers: list[dict] = []  # queued answers; an empty queue answers success

    def do_POST(self):  # noqa: N802 - http.server API
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        assert self.headers["Content-Type"].startswith("application/json")
        platform = url.path.split("/")[1]
        answer = self._check(platform, query, body)
        if answer is None:
            self.received.append((platform, body))
            answer = self.answers.pop(0) if self.answers else self._ok(platform)
        raw = json.dumps(answer).encode()
        self.send_response(200)  # every platform answers 200 and puts the error in the body
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(raw)

    def _check(self, platform, query, body):
        if platform == "dingtalk":
            if query.get("access_token") != "T0KEN":
                return {"errcode": 300001, "errmsg": "token is not exist"}
            if not dingtalk.verify(SECRET, query.get("timestamp", ""), query.get("sign", ""),
                                   int(time.time() * 1000)):  # fmt: skip
                return {"errcode": 310000, "errmsg": "sign not match"}
            if body.get("msgtype") != "markdown" or not body["markdown"].get("title"):
                return {"errcode": 40035, "errmsg": "缺少参数 markdown"}
        elif platform == "wecom":
            if query.get("key") != "K3Y":
                return {"errcode": 93000, "errmsg": "invalid webhook url"}
            if body.get("msgtype") != "markdown":
                return {"errcode": 40008, "errmsg": "invalid message type"}
        elif platform == "feishu":
            if not feishu.verify(SECRET, body.get("timestamp", ""), body.get("sign", ""),
                                 time.time()):  # fmt: skip
                return {"code": 19021, "msg": "sign match fail or timestamp is not within one hour"}
            if body.get("msg_type") != "interactive":
                return {"code": 9499, "msg": "Bad Request"}
        return None

    @staticmethod
    def _ok(platform):
        return (
            {"code": 0, "msg": "success"}
            if platform == "feishu"
            else {"errcode": 0, "errmsg": "ok"}
        )

    def log_message(self, *args):
        pass


@pytest.fixture
def platform():
    Platform.received, Platform.answers = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Platform)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", Platform
    server.shutdown()


def _delivery(channel: str, robot: dict) -> Delivery:
    return Delivery(
        outbox_id=1, event_id="esc:1:2:yellow:robot1", channel=channel, template="escalation",
        recipient_id=0, recipient_name="", recipient_email=None,
        subject="【整改通】ZG2026-000001 黄牌预警",
        body="整改事项已逾期，请于 3 个工作日内说明情况。\n/issues/1", payload={"level": "yellow"},
        issue_id=1, created_at=NOW, robot=robot,
    )  # fmt: skip


def _ctx() -> Context:
    return Context(config={"BASE_URL": "https://zgt.example.cn"}, now=NOW,
                   wall=lambda: datetime.now(UTC))  # fmt: skip


def test_the_registry_knows_the_robots():
    assert {"dingtalk", "wecom", "feishu"} <= set(channels.names())
    assert channels.get("dingtalk") is dingtalk.CHANNEL


def test_dingtalk_signs_and_mentions_by_mobile(platform):
    base, rec = platform
    robot = {"url": f"{base}/dingtalk/robot/send?access_token=T0KEN", "secret": SECRET,
             "at": ["13800000000"]}  # fmt: skip
    dingtalk.CHANNEL.send(_delivery("dingtalk", robot), _ctx())
    ((name, body),) = rec.received
    assert name == "dingtalk" and body["at"] == {"atMobiles": ["13800000000"], "isAtAll": False}
    text = body["markdown"]["text"]
    assert "黄牌预警" in body["markdown"]["title"] and "@13800000000" in text
    assert "(https://zgt.example.cn/issues/1)" in text


def test_dingtalk_errors_are_judged(platform):
    base, rec = platform
    good = {"url": f"{base}/dingtalk/robot/send?access_token=T0KEN", "secret": SECRET}
    with pytest.raises(PermanentError, match="310000"):  # a wrong secret: no retry can fix it
        dingtalk.CHANNEL.send(_delivery("dingtalk", {**good, "secret": "SECwrong"}), _ctx())
    rec.answers = [{"errcode": 410100, "errmsg": "send too fast"}]
    with pytest.raises(RateLimited) as limited:
        dingtalk.CHANNEL.send(_delivery("dingtalk", good), _ctx())
    assert limited.value.retry_after == 600
    rec.answers = [{"errcode": 500000, "errmsg": "system busy"}]
    with pytest.raises(DeliveryError) as busy:
        dingtalk.CHANNEL.send(_delivery("dingtalk", good), _ctx())
    assert not isinstance(busy.value, PermanentError) and busy.value.retry_after is None


def test_wecom_posts_markdown_with_mentions(platform):
    base, rec = platform
    robot = {"url": f"{base}/wecom/cgi-bin/webhook/send?key=K3Y", "at": ["zhangsan"]}
    wecom.CHANNEL.send(_delivery("wecom", robot), _ctx())
    ((_name, body),) = rec.received
    content = body["markdown"]["content"]
    assert "黄牌预警" in content and "<@zhangsan>" in content
    rec.answers = [{"errcode": 45009, "errmsg": "api freq out of limit"}]
    with pytest.raises(RateLimited) as limited:
        wecom.CHANNEL.send(_delivery("wecom", robot), _ctx())
    assert limited.value.retry_after == 60
    with pytest.raises(PermanentError, match="93000"):
        wecom.CHANNEL.send(_delivery("wecom", {"url": f"{base}/wecom/x?key=gone"}), _ctx())


def test_wecom_cuts_a_long_message_to_its_byte_limit():
    long = _delivery("wecom", {"url": "http://x"})
    long = Delivery(**{**long.__dict__, "body": "整改" * 3000})
    body = wecom.payload(long, _ctx(), wecom.Robot("http://x"))
    assert len(body["markdown"]["content"].encode()) <= wecom.MAX_BYTES


def test_feishu_signs_the_card(platform):
    base, rec = platform
    robot = {"url": f"{base}/feishu/open-apis/bot/v2/hook/abc", "secret": SECRET, "at": ["ou_1"]}
    feishu.CHANNEL.send(_delivery("feishu", robot), _ctx())
    ((_name, body),) = rec.received
    assert body["card"]["header"]["title"]["content"].endswith("黄牌预警")
    assert "<at id=ou_1></at>" in body["card"]["elements"][0]["content"]
    with pytest.raises(PermanentError, match="19021"):
        feishu.CHANNEL.send(_delivery("feishu", {**robot, "secret": "other"}), _ctx())
    rec.answers = [{"code": 11232, "msg": "frequency limited"}]
    with pytest.raises(RateLimited):
        feishu.CHANNEL.send(_delivery("feishu", robot), _ctx())


def test_a_robot_without_settings_or_with_a_file_url_fails_at_once():
    with pytest.raises(PermanentError, match="no robot configured"):
        dingtalk.CHANNEL.send(_delivery("dingtalk", {}), _ctx())
    with pytest.raises(PermanentError, match="http"):
        wecom.CHANNEL.send(_delivery("wecom", {"url": "file:///etc/passwd"}), _ctx())


# --- end to end: a unit's robot is told of its issues' warnings through the outbox


def _robot(world, unit: str, url: str, **options):
    from workflow.service.robots import add_robot

    with world.db.writing() as s:
        office = world.user(s, "office")
        reach = [m.unit for m in office.memberships if m.role == "office"]
        target = s.scalars(select(Unit).where(Unit.code == unit)).one()
        return add_robot(s, office, reach, target, kind="dingtalk", name="西湖区整改群", url=url,
                         secret=SECRET, at=["13800000000"], now=local(2026, 9, 7), **options).id  # fmt: skip


def _robot_rows(world):
    with world.db.reading() as s:
        return list(s.scalars(select(Outbox).where(Outbox.robot_id.is_not(None))))


def test_a_county_robot_posts_its_townships_warnings(world, platform):
    base, rec = platform
    robot_id = _robot(world, "HZ-XH", f"{base}/dingtalk/robot/send?access_token=T0KEN")
    with world.db.writing() as s:
        open_rect(s, world, "HZ-XH-LY", "2026-12-31", local(2026, 9, 8))
    assert _robot_rows(world) == []  # opening is a step, not a warning: escalations only
    sweep(world.db, local(2026, 9, 30, 9))
    rows = _robot_rows(world)
    assert (
        rows
        and {r.robot_id for r in rows} == {robot_id}
        and {r.channel for r in rows} == {"dingtalk"}
    )
    assert all(r.recipient_id is None for r in rows)
    assert len({r.dedupe_key for r in rows}) == len(rows)  # one post per warning, not per person
    report = dispatch_all(world.db, local(2026, 9, 30, 10), {"BASE_URL": "https://zgt.example.cn"})
    assert not [e for e in report.errors if "dingtalk" in e], report.errors
    posted = [body for name, body in rec.received if name == "dingtalk"]
    assert len(posted) == len(rows)
    assert all("ZG2026-" in b["markdown"]["title"] and "@13800000000" in b["markdown"]["text"]
               for b in posted)  # fmt: skip
    sweep(world.db, local(2026, 9, 30, 9))  # the same window again: nothing new
    assert len(_robot_rows(world)) == len(rows)


def test_a_rate_limited_robot_waits_as_long_as_it_was_told(world, platform):
    base, rec = platform
    _robot(world, "HZ-XH-LY", f"{base}/dingtalk/robot/send?access_token=T0KEN", subtree=False)
    escalate_one(world)
    rec.answers = [{"errcode": 410100, "errmsg": "send too fast"}] * 20
    now = local(2026, 9, 30, 10)
    dispatch(world.db, now, {}, 100)
    waiting = [r for r in _robot_rows(world) if r.status == "pending" and r.attempts == 1]
    assert waiting and all(r.next_attempt_at >= now + timedelta(seconds=600) for r in waiting)
    assert all("410100" in (r.last_error or "") for r in waiting)


def test_robots_are_never_told_of_leads_or_of_units_elsewhere(world, platform):
    base, _rec = platform
    _robot(world, "HZ-XH-LY", f"{base}/dingtalk/robot/send?access_token=T0KEN", subtree=False)
    _robot(world, "HZ-XH", f"{base}/dingtalk/robot/send?access_token=T0KEN", subtree=False)
    escalate_one(world)
    units = {r.robot_id for r in _robot_rows(world)}
    assert len(units) == 1  # the township's own robot; the county one did not ask for its subtree
    with world.db.writing() as s:
        issue = open_rect(s, world, "HZ-XH-LY", "2026-12-31", local(2026, 9, 8))
        issue.restricted = True
        restricted_id = issue.id
    sweep(world.db, local(2026, 10, 30, 9))
    assert restricted_id not in {r.issue_id for r in _robot_rows(world)}


def test_a_switched_off_robot_fails_its_queued_posts_at_once(world, platform):
    from workflow.service.robots import robot_in_reach, set_active

    base, _rec = platform
    robot_id = _robot(world, "HZ-XH-LY", f"{base}/dingtalk/robot/send?access_token=T0KEN")
    escalate_one(world)
    with world.db.writing() as s:
        office = world.user(s, "office")
        reach = [m.unit for m in office.memberships if m.role == "office"]
        set_active(s, office, robot_in_reach(s, robot_id, reach), False, local(2026, 9, 30))
    dispatch(world.db, local(2026, 9, 30, 10), {}, 100)
    rows = _robot_rows(world)
    assert {r.status for r in rows} == {"failed"}
    assert all("switched off or removed" in r.last_error for r in rows)
