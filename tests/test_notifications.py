"""Notifications: the outbox dispatcher and its channels against real receivers (aiosmtpd,
http.server), retries with backoff ending in one incident, preferences, digest, SKIP LOCKED."""

from __future__ import annotations

import email
import json
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from notifications.channels import webhook
from notifications.channels.in_app import mark_read, messages, unread_count
from notifications.digest import digest
from notifications.dispatch import backoff, dispatch, dispatch_all, incidents, retry_incident
from tests.test_escalation import local, open_rect
from workflow.clock.escalation import sweep
from workflow.models import Event, InboxMessage, Outbox, User

SECRET = "s3cret-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def set_prefs(db, username: str, **prefs) -> None:
    with db.writing() as s:
        user = s.scalars(select(User).where(User.username == username)).one()
        user.preferences = {**(user.preferences or {}), **prefs}


def escalate_one(world) -> int:
    """One overdue issue of 灵隐街道 swept: outbox rows for its escalations."""
    with world.db.writing() as s:
        issue = open_rect(s, world, "HZ-XH-LY", "2026-12-31", local(2026, 9, 8))
        issue_id = issue.id
    sweep(world.db, local(2026, 9, 30, 9))
    return issue_id


def test_in_app_delivery_is_deduped_and_readable(world):
    escalate_one(world)
    now = local(2026, 9, 30, 10)
    report = dispatch_all(world.db, now, {})  # no SMTP configured: e-mails fail at once
    assert report.sent > 0 and all("SMTP_HOST" in e for e in report.errors)
    with world.db.writing() as s:
        assert not s.scalars(
            select(Outbox).where(Outbox.channel == "in_app", Outbox.status != "sent")
        ).all()
        clerk = s.scalars(select(User).where(User.username == "clerk")).one()
        n = unread_count(s, clerk.id)
        assert n >= 3 and all("【整改通】" in m.subject for m in messages(s, clerk.id))
        # a redelivery (crash after delivering, before marking sent) shows nothing twice
        s.execute(
            Outbox.__table__.update()
            .where(Outbox.channel == "in_app")
            .values(status="pending", next_attempt_at=now)
        )
    dispatch_all(world.db, now, {})
    with world.db.writing() as s:
        assert unread_count(s, clerk.id) == n
        assert mark_read(s, clerk.id, now) == n
        assert unread_count(s, clerk.id) == 0


def test_the_bell_counts_unread_and_lists_the_newest_in_one_query(world):
    """The bell's single query (a window count) agrees with the count and the inbox."""
    from workflow import queries

    escalate_one(world)
    now = local(2026, 9, 30, 10)
    dispatch_all(world.db, now, {})
    with world.db.writing() as s:
        clerk = s.scalars(select(User).where(User.username == "clerk")).one()
        n = unread_count(s, clerk.id)
        unread, latest = queries.bell(s, clerk, size=2)
        assert unread == n >= 3 and len(latest) == 2
        assert [m.id for m in latest] == [m.id for m in queries.inbox(s, clerk, 1, 2).items]
        mark_read(s, clerk.id, now)
        s.expire_all()  # mark_read is one UPDATE; the loaded messages are stale
        unread, latest = queries.bell(s, clerk)
        assert unread == 0 and latest and all(m.read_at for m in latest)
        other = s.scalars(select(User).where(User.username == "checker")).one()
        assert all(m.user_id == other.id for m in queries.bell(s, other)[1])


def test_email_with_chinese_subject_through_a_real_smtp_server(sqlite_world):
    from aiosmtpd.controller import Controller

    received: list[email.message.Message] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
            received.append(email.message_from_bytes(envelope.original_content))
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        escalate_one(sqlite_world)
        config = {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": port,
            "SMTP_FROM": "zgt@example.cn",
            "BASE_URL": "https://zgt.example.cn",
        }
        report = dispatch_all(sqlite_world.db, local(2026, 9, 30, 10), config)
        assert report.failed == 0 and report.retried == 0
    finally:
        controller.stop()
    assert received
    subjects = [str(make_header(decode_header(m["Subject"]))) for m in received]
    assert all(s.startswith("【整改通】ZG2026-000001 ") for s in subjects)
    assert "【整改通】ZG2026-000001 黄牌预警" in subjects  # decoded Chinese subject
    msg = next(m for m in received if "esc" in m["X-Rectiflow-Event"])
    assert msg["Subject"].startswith("=?utf-8?")  # RFC 2047 on the wire
    body = msg.get_payload(decode=True).decode("utf-8")
    assert "https://zgt.example.cn/issues/" in body and "完成时限：2026-12-31" in body
    assert msg["Message-ID"].endswith("@rectiflow>")
    assert len({m["X-Rectiflow-Event"] for m in received}) == len(received)


class Receiver(BaseHTTPRequestHandler):
    """A webhook receiver that checks the signature and rejects replays."""

    seen: set[str] = set()
    accepted: list[dict] = []
    rejected: list[str] = []
    fail_always = False

    def do_POST(self):  # noqa: N802 - http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.fail_always:
            self.send_response(500)
        elif not webhook.verify(
            SECRET,
            self.headers["X-Rectiflow-Timestamp"],
            body,
            self.headers["X-Rectiflow-Signature"],
            time.time(),
        ):
            self.rejected.append("signature-or-stale")
            self.send_response(401)
        elif self.headers["X-Rectiflow-Event"] in self.seen:
            self.rejected.append("replay")
            self.send_response(409)
        else:
            self.seen.add(self.headers["X-Rectiflow-Event"])
            self.accepted.append(json.loads(body))
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Receiver.seen, Receiver.accepted, Receiver.rejected = set(), [], []
    Receiver.fail_always = False
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", Receiver
    server.shutdown()


def test_signed_webhook_verified_and_replays_rejected(sqlite_world, receiver):
    url, rec = receiver
    db = sqlite_world.db
    set_prefs(db, "super", channels=["in_app", "webhook"], webhook_url=url)
    escalate_one(sqlite_world)
    config = {"WEBHOOK_SECRET": SECRET, "BASE_URL": "https://zgt.example.cn"}
    report = dispatch_all(db, local(2026, 9, 30, 10), config)
    assert not [e for e in report.errors if "SMTP_HOST" not in e] and rec.accepted
    payload = rec.accepted[0]
    assert payload["number"].startswith("ZG2026-") and payload["body"].count("https://zgt") == 1
    assert "考核奖金" not in json.dumps(payload, ensure_ascii=False)  # no title, only the number
    # a replayed request: same event id → 409 (counted as delivered by the dispatcher)
    with db.writing() as s:
        row = s.scalars(select(Outbox).where(Outbox.channel == "webhook")).first()
        row.status, row.next_attempt_at = "pending", local(2026, 9, 30, 11)
    report = dispatch(db, local(2026, 9, 30, 11), config)
    assert report.sent == 1 and rec.rejected == ["replay"]
    # a captured request re-sent later: stale timestamp → 401
    body = json.dumps(payload).encode()
    old = str(int(time.time()) - 3600)
    import urllib.error
    import urllib.request

    req = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "X-Rectiflow-Event": "new-id",
            "X-Rectiflow-Timestamp": old,
            "X-Rectiflow-Signature": webhook.sign(SECRET, old, body),
            "Content-Length": str(len(body)),
        },
    )
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, timeout=5)
    assert exc.value.code == 401


def test_a_webhook_that_always_fails_ends_in_exactly_one_incident(sqlite_world, receiver):
    url, rec = receiver
    rec.fail_always = True
    db = sqlite_world.db
    set_prefs(db, "super", channels=["in_app", "webhook"], webhook_url=url)
    with db.writing() as s:
        open_rect(s, sqlite_world, "HZ-XH-LY", "2026-12-31", local(2026, 9, 8))
    sweep(db, local(2026, 9, 16, 9))  # the yellow card tells the supervisor by webhook
    config = {"WEBHOOK_SECRET": SECRET}
    with db.reading() as s:
        row_id = s.scalars(select(Outbox.id).where(Outbox.channel == "webhook")).one()
    now = local(2026, 9, 16, 10)
    attempts_at = []
    for _ in range(12):  # drive the injected clock to each retry instant
        r = dispatch(db, now, config)
        with db.reading() as s:
            row = s.get(Outbox, row_id)
        if r.claimed:
            attempts_at.append(now)
        if row.status != "pending":
            break
        now = row.next_attempt_at
    assert row.status == "failed" and row.attempts == 5 and "HTTP 500" in row.last_error
    gaps = [b - a for a, b in zip(attempts_at, attempts_at[1:], strict=False)]
    assert gaps == [backoff({}, k) for k in range(1, 5)]
    assert gaps == [
        timedelta(minutes=1),
        timedelta(minutes=4),
        timedelta(minutes=16),
        timedelta(minutes=64),
    ]
    assert dispatch(db, now + timedelta(days=1), config).claimed == 0  # no attempt after the last
    with db.writing() as s:
        assert [i.id for i in incidents(s) if i.channel == "webhook"] == [row_id]
        failed = s.scalars(select(Event).where(Event.action == "delivery_failed")).all()
        assert [e.data["outbox_id"] for e in failed].count(row_id) == 1
        rec.fail_always = False
        retry_incident(s, row_id, now + timedelta(days=1), actor_id=None)
    assert dispatch(db, now + timedelta(days=1), config).sent == 1
    with db.reading() as s:
        assert s.get(Outbox, row_id).status == "sent"
        assert row_id not in [i.id for i in incidents(s)]


def test_quiet_hours_delay_email_and_digest_collects_it(sqlite_world):
    db = sqlite_world.db
    set_prefs(db, "clerk", quiet_hours="22:00-07:00")
    set_prefs(db, "head", digest=True)
    with db.writing() as s:
        open_rect(s, sqlite_world, "HZ-XH-LY", "2026-12-31", local(2026, 9, 8))
    sweep(db, local(2026, 9, 14, 23, 30))  # remind_1 (14 Sep), at night
    night = local(2026, 9, 14, 23, 30)
    config = {"SMTP_HOST": None}
    report = dispatch(db, night, config)  # "transferred" and the reminder, for clerk and head
    assert report.deferred == 2 and report.held_for_digest == 2 and report.sent == 4
    with db.reading() as s:
        clerk_mail = s.scalars(
            select(Outbox).where(Outbox.channel == "email", Outbox.status == "pending")
        ).all()
        assert {m.next_attempt_at for m in clerk_mail} == {local(2026, 9, 15, 7, 0)}
        assert {m.attempts for m in clerk_mail} == {0}
        assert s.scalar(select(func.count()).where(InboxMessage.id > 0)) == 4  # not delayed
    assert digest(db, local(2026, 9, 15, 8), config) == 1
    with db.reading() as s:
        d = s.scalars(select(Outbox).where(Outbox.template == "digest")).one()
        assert d.subject.startswith("【整改通】9月15日提醒汇总（2条）") and d.status == "pending"
        assert s.scalar(select(func.count()).where(Outbox.status == "digested")) == 2
    assert digest(db, local(2026, 9, 15, 8, 5), config) == 0


@pytest.mark.postgres
def test_dispatchers_share_the_outbox_with_skip_locked(pg_world):
    with pg_world.db.writing() as s:
        for k in range(20):
            open_rect(
                s, pg_world, "HZ-XH-LY", "2026-12-31", local(2026, 9, 8) + timedelta(seconds=k)
            )
    sweep(pg_world.db, local(2026, 9, 30, 9))
    delivered: list[int] = []
    lock = threading.Lock()

    class Counting:
        name, transactional = "email", False

        def send(self, delivery, ctx):
            time.sleep(0.005)
            with lock:
                delivered.append(delivery.outbox_id)

    from notifications import channels

    original = channels.get("email")
    channels.register(Counting())
    try:
        now = local(2026, 9, 30, 10)
        barrier = threading.Barrier(4)

        def worker():
            barrier.wait()
            for _ in range(50):
                if dispatch(pg_world.db, now, {}, batch=10).claimed == 0:
                    break

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        channels.register(original)
    with pg_world.db.reading() as s:
        emails = s.scalar(select(func.count()).where(Outbox.channel == "email"))
        assert s.scalar(select(func.count()).where(Outbox.status != "sent")) == 0
    assert len(delivered) == emails == len(set(delivered))


def test_texts_never_carry_problem_lead_details(sqlite_world):
    db = sqlite_world.db
    with db.writing() as s:
        from workflow import service

        service.open_issue(
            s,
            "problem_lead",
            {"title": "某局长涉嫌收受红包", "unit": "HZ", "description": "线索详情"},
            sqlite_world.user(s, "office"),
            local(2026, 9, 8),
        )
    sweep(db, local(2026, 12, 31, 9))
    dispatch_all(db, local(2026, 12, 31, 10), {})
    with db.reading() as s:
        for row in s.scalars(select(Outbox)):
            assert "红包" not in row.subject + row.body and "线索详情" not in row.body
        for m in s.scalars(select(InboxMessage)):
            assert "红包" not in m.subject + m.body
        recipients = {
            u for u in s.scalars(select(User.username).join(Outbox, Outbox.recipient_id == User.id))
        }
        assert recipients <= {"office", "cityoffice", "discipline"}  # office and discipline roles


def test_utc_instants_everywhere():
    assert backoff({"DISPATCH_BACKOFF_MAX_SECONDS": 100}, 9) == timedelta(seconds=100)
    assert datetime.now(UTC).tzinfo is UTC


def test_a_message_shows_its_deadline_in_beijing_time():
    """Offices work in Beijing time: a deadline due 07:30 UTC reads 15:30, never "UTC"."""
    from types import SimpleNamespace

    from workflow.outbox import render

    issue = SimpleNamespace(number="ZJ-1", id=7, due_on=None,
                            due_at=datetime(2026, 7, 10, 7, 30, tzinfo=UTC))  # fmt: skip
    subject, body = render("default", issue, "签收")  # type: ignore[arg-type]
    assert "2026-07-10 15:30" in body and "北京时间" in body and "UTC" not in body
