"""The office configures its units' group robots: inside its reach only, errors naming the
field, the address shown by host only, switched off and on; others may not."""

from __future__ import annotations

from sqlalchemy import select

from workflow.models import Event, UnitRobot

HOOK = "https://oapi.dingtalk.com/robot/send?access_token=SECRET-TOKEN-123"


def _add(client, **fields):
    data = {"unit": "HZ-XH", "kind": "dingtalk", "name": "西湖区整改群", "url": HOOK,
            "secret": "SECabc", "at": "13800000000，13900000000", "subtree": "on", **fields}  # fmt: skip
    return client.post("/admin/robots", data=data)


def test_the_office_adds_a_robot_and_sees_only_its_host(client, auth, sqlite_world):
    auth.login("office")
    assert client.get("/admin/robots").status_code == 200
    r = _add(client)
    assert r.status_code == 303
    html = client.get("/admin/robots").get_data(as_text=True)
    assert "西湖区整改群" in html and "oapi.dingtalk.com" in html and "钉钉" in html
    assert "SECRET-TOKEN-123" not in html and "SECabc" not in html  # credentials stay hidden
    with sqlite_world.db.reading() as s:
        robot = s.scalars(select(UnitRobot)).one()
        assert robot.at == ["13800000000", "13900000000"] and robot.subtree and robot.active
        trail = s.scalars(select(Event).where(Event.action == "robot_add")).one()
        assert "SECRET-TOKEN" not in str(trail.data) and "SECabc" not in str(trail.data)


def test_bad_settings_are_refused_naming_the_field(client, auth, sqlite_world):
    auth.login("office")
    r = _add(client, url="file:///etc/passwd")
    assert r.status_code == 422 and "机器人地址" in r.get_data(as_text=True)
    r = _add(client, kind="telegram")
    assert r.status_code == 422
    r = _add(client, name="")
    assert r.status_code == 422
    with sqlite_world.db.reading() as s:
        assert s.scalars(select(UnitRobot)).all() == []


def test_a_city_office_cannot_configure_another_citys_unit(client, auth, sqlite_world):
    auth.login("cityoffice")  # 杭州市巡察办
    r = _add(client, unit="NB")
    assert r.status_code == 422
    with sqlite_world.db.reading() as s:
        assert s.scalars(select(UnitRobot)).all() == []


def test_switch_off_and_on_and_who_may_not(client, auth, sqlite_world):
    auth.login("office")
    _add(client, unit="NB-HS")  # 宁波: outside 杭州市巡察办's reach
    with sqlite_world.db.reading() as s:
        robot_id = s.scalars(select(UnitRobot.id)).one()
    assert client.post(f"/admin/robots/{robot_id}/active", data={"active": "0"}).status_code == 303
    with sqlite_world.db.reading() as s:
        assert s.get(UnitRobot, robot_id).active is False
    client.post(f"/admin/robots/{robot_id}/active", data={"active": "1"})
    with sqlite_world.db.reading() as s:
        assert s.get(UnitRobot, robot_id).active is True
    auth.logout()
    auth.login("cityoffice")
    assert client.post(f"/admin/robots/{robot_id}/active", data={"active": "0"}).status_code == 404
    auth.logout()
    auth.login("clerk")
    assert client.get("/admin/robots").status_code == 404  # as every admin page: not there


def test_an_unknown_unit_is_refused_naming_the_field(client, auth, sqlite_world):
    auth.login("office")
    r = _add(client, unit="NOPE")
    assert r.status_code == 422 and "NOPE" in r.get_data(as_text=True)
    with sqlite_world.db.reading() as s:
        assert s.scalars(select(UnitRobot)).all() == []
