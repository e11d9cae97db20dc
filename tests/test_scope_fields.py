"""Issue 14: every unit, checker, team member or round a writer names lies in the actor's
reach — reassign (service, web form, API), fan-out, the checker, and the linkage writers."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.api.conftest import Api, make_app
from tests.conftest import PASSWORD
from tests.test_service import Driver
from web import create_app
from workflow import linkage, service
from workflow.linkage import Refused
from workflow.models import Event, Issue, Round, Team, TeamMember, TeamTarget, Unit
from workflow.org import tokens
from workflow.org.units import add_user
from workflow.service.fields import ValidationFailed

HX = {"HX-Request": "true"}


def _open(world, unit="HZ-XH-LY", opener="cityoffice", definition="rectification"):
    """Open an issue of ``unit`` as ``opener``; its id."""
    with world.db.writing() as s:
        fields = {"title": "考核奖金发放不规范", "unit": unit}
        issue = service.open_issue(s, definition, fields, world.user(s, opener), world.clock())
        return issue.id


def _act(world, issue_id, action, username, **data):
    """Take an action in its own transaction; the result."""
    with world.db.writing() as s:
        issue = s.get(Issue, issue_id)
        user = world.user(s, username)
        return service.act(s, issue, action, user, data, issue.version, world.clock())


def _snapshot(world, issue_id):
    """(unit code, version, number of events) of an issue."""
    with world.db.reading() as s:
        issue = s.get(Issue, issue_id)
        code = s.scalar(select(Unit.code).where(Unit.id == issue.unit_id))
        events = s.scalar(select(func.count()).select_from(Event).where(Event.issue_id == issue_id))
        return code, issue.version, events


# ------------------------------------------------------------------ the bug, in the service


def test_a_city_office_cannot_reassign_its_issue_to_another_city(world):
    issue_id = _open(world)
    before = _snapshot(world, issue_id)
    with pytest.raises(ValidationFailed) as exc:
        _act(world, issue_id, "reassign", "cityoffice", unit="NB-HS")
    assert set(exc.value.errors) == {"unit"}
    (message,) = exc.value.errors["unit"]
    assert message.code == "service_field_unit_outside_reach" and "NB-HS" in message
    assert _snapshot(world, issue_id) == before  # unit, version and events unchanged
    # inside its own city the same action goes through
    assert _act(world, issue_id, "reassign", "cityoffice", unit="HZ-SC-HB").to_state
    assert _snapshot(world, issue_id)[0] == "HZ-SC-HB"


def test_the_province_may_reassign_anywhere_in_the_province(world):
    issue_id = _open(world)
    _act(world, issue_id, "reassign", "office", unit="NB-HS")
    assert _snapshot(world, issue_id)[0] == "NB-HS"


def test_fan_out_to_another_city_is_refused_naming_the_units(world):
    cp = _open(world, unit="HZ", definition="common_problem")
    with pytest.raises(ValidationFailed) as exc:
        _act(world, cp, "fan_out", "cityoffice", units="HZ-XH-LY,NB-HS")
    assert set(exc.value.errors) == {"units"} and "NB-HS" in exc.value.errors["units"][0]
    with world.db.reading() as s:
        assert s.scalar(select(func.count()).where(Issue.parent_id == cp)) == 0
    _act(world, cp, "fan_out", "cityoffice", units="HZ-XH-LY,HZ-SC-HB")
    with world.db.reading() as s:
        assert s.scalar(select(func.count()).where(Issue.parent_id == cp)) == 2


def test_the_checker_comes_from_the_actors_reach_or_from_above_the_issue(world):
    with world.db.writing() as s:
        add_user(s, "provcheck", "省督查组", PASSWORD, ["spot_check@ZJ"], world.clock())
        add_user(s, "xhcheck", "西湖督查组", PASSWORD, ["spot_check@HZ-SC"], world.clock())
    drive = Driver(world)
    i = drive.open()
    drive.to_acceptance(i)
    drive.act(i, "accept", "super", grade="好")
    before = _snapshot(world, i)
    # another city's spot-check team: neither in the city's reach nor above the issue
    with pytest.raises(ValidationFailed) as exc:
        _act(world, i, "assign_checker", "cityoffice", checker="checker")
    assert set(exc.value.errors) == {"checker"}
    assert exc.value.errors["checker"][0].code == "service_checker_outside_reach"
    assert _snapshot(world, i) == before
    # the province's team may check any unit of the province; the city's own county's too
    _act(world, i, "assign_checker", "cityoffice", checker="provcheck")
    _act(world, i, "assign_checker", "cityoffice", checker="xhcheck")
    # and the province's office may send 宁波's team (inside its reach)
    _act(world, i, "assign_checker", "office", checker="checker")


# ------------------------------------------------------------------ the bug, at the doors


@pytest.fixture
def web_client(sqlite_world, tmp_path):
    """A logged-out test client of the web app on the small province (CSRF off)."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": sqlite_world.db.url,
            "CLOCK": sqlite_world.clock,
            "SECRET_KEY": "test",
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "WTF_CSRF_ENABLED": False,
        }
    )
    return app.test_client()


def test_reassign_through_the_web_form_is_422_naming_the_unit(web_client, sqlite_world):
    issue_id = _open(sqlite_world)
    before = _snapshot(sqlite_world, issue_id)
    web_client.post("/login", data={"username": "cityoffice", "password": PASSWORD})
    r = web_client.post(
        f"/issues/{issue_id}/act/reassign",
        data={"version": before[1], "unit": "NB-HS"},
        headers=HX,
    )
    assert r.status_code == 422
    assert "NB-HS" in r.data.decode()
    assert _snapshot(sqlite_world, issue_id) == before


def test_reassign_through_the_api_is_422_naming_the_unit(sqlite_world, tmp_path):
    app = make_app(sqlite_world, tmp_path)
    with sqlite_world.db.writing() as s:
        user = sqlite_world.user(s, "cityoffice")
        _, token = tokens.create_token(s, user, "tests", sqlite_world.clock())
    api = Api(app.test_client(), {"cityoffice": token})
    issue_id = _open(sqlite_world)
    before = _snapshot(sqlite_world, issue_id)
    r = api.post(
        f"/api/v1/issues/{issue_id}/actions/reassign",
        as_="cityoffice",
        json={"data": {"unit": "NB-HS"}, "expected_version": before[1]},
    )
    assert r.status_code == 422, r.data
    fields = r.get_json()["error"]["fields"]
    assert set(fields) == {"unit"} and "NB-HS" in fields["unit"][0]
    assert _snapshot(sqlite_world, issue_id) == before


# ------------------------------------------------------------------ the property

OFFICES = {  # username → the unit of their office post
    "office": "ZJ",
    "cityoffice": "HZ",
    "nboffice": "NB",
    "xhoffice": "HZ-XH",
    "scoffice": "HZ-SC",
}
CODES = ["ZJ", "HZ", "HZ-XH", "HZ-XH-LY", "HZ-SC", "HZ-SC-HB", "NB", "NB-HS"]


def test_random_offices_never_move_an_issue_out_of_their_reach(world):
    with world.db.writing() as s:
        for username, code in OFFICES.items():
            if username not in world.users:
                world.users[username] = add_user(
                    s, username, username, PASSWORD, [f"office@{code}"], world.clock()
                ).id
        paths = {u.code: u.path for u in s.scalars(select(Unit))}
    issues = [_open(world, unit, opener="office") for unit in ("HZ-XH-LY", "HZ-SC-HB", "NB-HS")]
    reach = {name: paths[code] for name, code in OFFICES.items()}

    @settings(max_examples=40, deadline=None, database=None)
    @given(
        actor=st.sampled_from(sorted(OFFICES)),
        issue_id=st.sampled_from(issues),
        target=st.sampled_from(CODES),
    )
    def attempt(actor, issue_id, target):
        unit, version, _ = _snapshot(world, issue_id)
        sees, names = paths[unit].startswith(reach[actor]), paths[target].startswith(reach[actor])
        try:
            _act(world, issue_id, "reassign", actor, unit=target)
            moved = True
        except ValidationFailed as exc:
            assert sees and set(exc.errors) == {"unit"}
            moved = False
        except service.NotFound:
            assert not sees
            moved = False
        assert moved == (sees and names), (actor, unit, target)
        now_unit, now_version, _ = _snapshot(world, issue_id)
        assert (now_unit, now_version) == ((target, version + 1) if moved else (unit, version))
        # whoever moved it could have opened it there: nothing left the mover's reach
        with world.db.reading() as s:
            for ev in s.scalars(select(Event).where(Event.action == "reassign")):
                mover = next(n for n, uid in world.users.items() if uid == ev.actor_id)
                assert paths[ev.data["input"]["unit"]].startswith(reach[mover])

    attempt()


# ------------------------------------------------------------------ the linkage writers


def _city_round(s, world, code="HZ-R1", organiser="HZ", user="cityoffice", **kw):
    """A xuncha round organised by ``organiser``, registered by ``user``."""
    return linkage.create_round(
        s, code, f"{code}轮", "xuncha", "city", organiser, world.user(s, user), world.clock(),
        starts_on=date(2026, 9, 1), **kw,
    )  # fmt: skip


def test_a_team_target_outside_the_offices_reach_is_refused_and_recorded(world):
    with world.db.write_session() as s:
        rnd = _city_round(s, world)
        city = world.user(s, "cityoffice")
        team = linkage.form_team(s, rnd, "市委第一巡察组", city, world.clock())
        with pytest.raises(Refused) as exc:
            linkage.add_target(s, team, "NB-HS", city, world.clock())
        s.commit()
    assert "海曙区" in exc.value.reason and exc.value.reason.startswith("target:")
    with world.db.reading() as s:
        ev = s.scalar(select(Event).where(Event.outcome == "denied"))
        assert ev.action == "team_target_add" and ev.data["target"] == "NB-HS"
        assert s.scalar(select(TeamTarget.id)) is None


def test_a_team_member_or_leader_outside_the_offices_reach_is_refused(world):
    with world.db.write_session() as s:
        rnd = _city_round(s, world)
        city = world.user(s, "cityoffice")
        with pytest.raises(Refused) as exc:
            linkage.form_team(s, rnd, "组", city, world.clock(), leader=world.user(s, "checker"))
        assert exc.value.reason.startswith("leader:")
        assert s.scalar(select(Team.id)) is None  # no team left behind
        team = linkage.form_team(s, rnd, "组", city, world.clock())
        with pytest.raises(Refused) as exc:
            linkage.add_member(s, team, world.user(s, "checker"), city, world.clock())
        s.commit()
    assert exc.value.reason.startswith("member:") and "督查组成员" in exc.value.reason
    with world.db.reading() as s:
        ev = s.scalar(select(Event).where(Event.outcome == "denied"))
        assert ev.action == "team_member_add" and ev.data["person"] == "checker"
        assert s.scalar(select(TeamMember.id)) is None


def test_a_relay_cannot_follow_another_citys_round(world):
    with world.db.writing() as s:
        nb = _city_round(s, world, "NB-R1", organiser="NB", user="office")
        with pytest.raises(Refused) as exc:
            _city_round(s, world, "HZ-R2", previous_round=nb)
        assert exc.value.reason.startswith("previous_round:")
        assert s.scalar(select(Round.id).where(Round.code == "HZ-R2")) is None
        own = _city_round(s, world, "HZ-R1")
        assert _city_round(s, world, "HZ-R3", previous_round=own).previous_round_id == own.id


def test_an_entered_figure_names_a_round_in_reach(world):
    with world.db.writing() as s:
        nb = _city_round(s, world, "NB-R1", organiser="NB", user="office")
        own = _city_round(s, world, "HZ-R1")
        city = world.user(s, "cityoffice")
        with pytest.raises(Refused) as exc:
            linkage.enter_figure(s, nb, "HZ", "individual_talks", 3, "总结", city, world.clock())
        assert exc.value.reason.code == "linkage_round_outside_reach"
        linkage.enter_figure(s, own, "HZ", "individual_talks", 3, "总结", city, world.clock())


def test_a_special_check_names_a_checker_and_round_in_reach(world):
    with world.db.writing() as s:
        nb = _city_round(s, world, "NB-R1", organiser="NB", user="office")
        city = world.user(s, "cityoffice")
        with pytest.raises(Refused) as exc:
            linkage.run_special_check(s, "HZ-XH", "NB", None, city, world.clock())
        assert exc.value.reason.startswith("checker:")
        with pytest.raises(Refused) as exc:
            linkage.run_special_check(s, "HZ-XH", "HZ", nb, city, world.clock())
        assert exc.value.reason.code == "linkage_round_outside_reach"
        assert linkage.run_special_check(s, "HZ-XH", "HZ", None, city, world.clock()).check


def test_push_down_of_a_problem_outside_the_offices_reach_is_refused(world):
    cp = _open(world, unit="NB", opener="office", definition="common_problem")
    with world.db.writing() as s, pytest.raises(Refused):
        linkage.push_down(
            s, s.get(Issue, cp), ["NB-HS"], world.user(s, "cityoffice"), world.clock()
        )
    with world.db.reading() as s:
        assert s.scalar(select(func.count()).where(Issue.parent_id == cp)) == 0


def test_opening_holds_every_unit_and_the_round_it_names_to_the_opener_reach(sqlite_world):
    """A city office opens in its own city only — the lead unit was checked before; the
    inspected unit, the supporting units and the round it names are checked now."""
    import pytest

    from workflow import service
    from workflow.models import Round

    with sqlite_world.db.writing() as s:
        s.add(Round(code="NB-R9", name="宁波市委第九轮巡察", kind="xuncha", level="city",
                    organiser_unit_id=sqlite_world.units["NB"]))  # fmt: skip
    base = {"title": "跨市", "unit": "HZ-XH-LY", "category": "党的建设缺失", "description": "x"}
    for extra, field in (({"inspected_unit": "NB"}, "inspected_unit"),
                         ({"supporting_units": ["NB-HS"]}, "supporting_units"),
                         ({"round": "NB-R9"}, "round")):  # fmt: skip
        with sqlite_world.db.writing() as s:
            with pytest.raises(service.ValidationFailed) as refused:
                service.open_issue(s, "rectification", {**base, **extra},
                                   sqlite_world.user(s, "cityoffice"), sqlite_world.clock())  # fmt: skip
            assert field in refused.value.errors, refused.value.errors
    with sqlite_world.db.writing() as s:  # the province office may name them all
        issue = service.open_issue(s, "rectification", {**base, "inspected_unit": "NB",
                                   "supporting_units": ["NB-HS"], "round": "NB-R9"},
                                   sqlite_world.user(s, "office"), sqlite_world.clock())  # fmt: skip
        assert issue.id
