"""The read models the pages and the API call: real rows, each list kept to the reader's scope."""

from __future__ import annotations

from datetime import timedelta

from tests.test_linkage import act, open_issue
from workflow import queries
from workflow.models import InboxMessage, Unit


def _two_issues(s, world):
    """One issue at 灵隐街道 (HZ-XH-LY) and one at 湖滨街道 (HZ-SC-HB)."""
    ly = open_issue(s, world, "HZ-XH-LY", title="灵隐 考核奖金", description="奖金 超标")
    hb = open_issue(s, world, "HZ-SC-HB", title="湖滨 公务接待", due_on="2026-10-01")
    return ly, hb


def test_issue_list_keeps_to_scope_and_filters(world):
    with world.db.writing() as s:
        ly, hb = _two_issues(s, world)
        now = world.clock() + timedelta(days=30)
        f = queries.Filters()
        office = world.user(s, "office")
        assert {i.id for i in queries.issue_list(s, office, f, now).items} == {ly.id, hb.id}
        clerk = world.user(s, "clerk")
        page = queries.issue_list(s, clerk, f, now)
        assert [i.id for i in page.items] == [ly.id] and page.total == 1
        # a filter never widens the scope: the clerk's search for the other issue finds nothing
        assert queries.issue_list(s, clerk, f, now, q="湖滨").total == 0
        assert [i.id for i in queries.issue_list(s, office, f, now, q="超标").items] == [ly.id]
        # the earliest deadline first (both wait to be signed for by the same day: then by id)
        order = sorted([ly, hb], key=lambda i: (i.due_at, i.id))
        assert queries.issue_list(s, office, f, now).items == order
        # not_overdue drops the issues whose deadline has passed
        assert queries.issue_list(s, office, f, now, not_overdue=True).total == 0
        fresh = queries.issue_list(s, office, f, world.clock(), not_overdue=True)
        assert fresh.total == 2
        act(s, world, ly, "sign_for", "clerk", world.clock() + timedelta(hours=1))
        signed = queries.issue_list(s, office, f, now, state=ly.state).items
        assert [i.id for i in signed] == [ly.id]
        paged = queries.issue_list(s, office, f, world.clock(), page=2, size=1)
        assert paged.total == 2 and paged.page == 2 and len(paged.items) == 1
        assert queries.visible_issues(s, clerk, [hb.id, ly.id]) == [ly]
        assert [e.action for e in queries.events_of(s, ly.id)][-1] == "sign_for"
        assert queries.timeline(s, ly.id)[0].action == "sign_for"
        assert queries.evidence_count(s, ly.id) == 0
        assert queries.evidence_on(s, hb.id, 1) is None


def test_office_lists_keep_to_the_office_reach(world):
    with world.db.writing() as s:
        hz = s.get(Unit, world.units["HZ"])
        units = queries.office_units(s, [hz], 1, None)  # tree order: by path
        assert [u.code for u in units.items] == ["HZ", "HZ-XH", "HZ-XH-LY", "HZ-SC", "HZ-SC-HB"]
        assert [u.code for u in queries.office_units(s, [hz], 1, "湖滨").items] == ["HZ-SC-HB"]
        assert queries.office_units(s, [], 1, None).total == 0
        users = {u.username for u in queries.office_users(s, [hz], 1, None).items}
        assert users == {"cityoffice", "clerk", "head", "clerk2", "head2", "super", "citysuper",
                         "checker_own"}  # fmt: skip
        assert "checker" not in users and "office" not in users  # posts at NB and ZJ
        found = queries.office_users(s, [hz], 1, "_")  # a wildcard is searched literally
        assert [u.username for u in found.items] == ["checker_own"]


def test_units_in_reach_and_their_codes(world):
    with world.db.writing() as s:
        clerk2 = world.user(s, "clerk2")
        assert [u.code for u in queries.reachable_units(s, clerk2)] == ["HZ-SC-HB"]
        city = world.user(s, "cityoffice")
        assert len(queries.reachable_units(s, city)) == 5
        assert queries.unit_by_code(s, "NB").id == world.units["NB"]
        assert queries.unit_by_code(s, "nope") is None
        assert queries.unit_codes(s, [world.units["ZJ"]]) == {world.units["ZJ"]: "ZJ"}


def test_inbox_read_marks_touch_only_my_messages(world):
    with world.db.writing() as s:
        at = world.clock()
        clerk, head = world.user(s, "clerk"), world.user(s, "head")
        mine = [InboxMessage(user_id=clerk.id, subject=f"提醒{i}", body="", created_at=at)
                for i in range(3)]  # fmt: skip
        theirs = InboxMessage(user_id=head.id, subject="提醒", body="", created_at=at)
        s.add_all([*mine, theirs])
        s.flush()
        assert queries.mark_read(s, clerk, theirs.id, at) is False and theirs.read_at is None
        assert queries.mark_read(s, clerk, mine[0].id, at) is True
        assert queries.unread_count(s, clerk) == 2
        later = at + timedelta(hours=1)
        assert queries.mark_read(s, clerk, mine[0].id, later) and mine[0].read_at == at
        queries.mark_all_read(s, clerk, later)
        s.expire_all()
        assert queries.unread_count(s, clerk) == 0 and queries.unread_count(s, head) == 1
