"""Issue #8: the admin pages of an inspection office reach only its own subtree.

The city office (office@HZ, 杭州市) must not see the accounts, posts, units or rounds of
宁波市 or of the province, and a form naming a unit outside its reach must answer exactly
as for a unit that does not exist.  The province office (office@ZJ) sees everything.
"""

from __future__ import annotations

import re
from datetime import date

from tests.security.conftest import PASSWORD
from workflow import linkage

ERROR_RE = re.compile(r'<p class="flash error" role="alert">([^<]*)</p>')
OUTSIDE_HZ = ("office", "checker", "discipline", "leader")  # posts at 浙江省 or 宁波市
INSIDE_HZ = ("cityoffice", "clerk", "head", "clerk2", "head2", "super", "citysuper")


def usernames(html: str) -> set[str]:
    """The usernames listed in the users table."""
    return set(re.findall(r"<td><code>([^<]+)</code></td>", html))


def post(province, user: str, path: str, **data: str):
    return province.client(user).post(path, data={**data, "csrf_token": province.csrf[user]})


def test_city_office_lists_only_the_users_of_its_city(province):
    """Fails without the protection: the unscoped list (``queries.users_page``) showed the
    city office every account of the province, 宁波市's and the province's included."""
    c = province.client("cityoffice")
    listed = usernames(c.get("/admin/users").get_data(as_text=True))
    assert set(INSIDE_HZ) <= listed
    assert not listed & set(OUTSIDE_HZ)
    for name in OUTSIDE_HZ:  # nor can a search find them
        assert name not in usernames(c.get(f"/admin/users?q={name}").get_data(as_text=True))
    office = usernames(province.client("office").get("/admin/users").get_data(as_text=True))
    assert set(INSIDE_HZ) | set(OUTSIDE_HZ) <= office


def test_a_user_with_posts_in_two_cities_shows_only_the_post_in_reach(province):
    """Fails when the list shows every post of a listed user: the city office would read
    the 宁波市 post of someone who also works in 杭州市."""
    r = post(province, "office", "/admin/users", username="two-posts", display_name="两地人员",
             password=PASSWORD, roles="unit_user@HZ-XH-LY spot_check@NB-HS")  # fmt: skip
    assert r.status_code == 303
    city = province.client("cityoffice").get("/admin/users?q=two-posts").get_data(as_text=True)
    assert usernames(city) == {"two-posts"}
    assert "灵隐街道" in city and "海曙区" not in city
    whole = province.client("office").get("/admin/users?q=two-posts").get_data(as_text=True)
    assert "灵隐街道" in whole and "海曙区" in whole


def test_city_office_lists_only_the_units_of_its_city(province):
    """Fails without the protection: the unscoped unit list (``queries.units_page``) showed
    every unit of the province to every office."""
    html = province.client("cityoffice").get("/admin/units").get_data(as_text=True)
    assert "灵隐街道" in html and "湖滨街道" in html
    assert "宁波市" not in html and "海曙区" not in html and "浙江省" not in html
    assert "海曙区" not in province.client("cityoffice").get("/admin/units?q=NB").get_data(
        as_text=True
    )
    assert "海曙区" in province.client("office").get("/admin/units").get_data(as_text=True)


def test_a_unit_outside_the_office_answers_404(province):
    """Fails when ``?unit=`` is not checked against the office's reach: the city office
    could list 宁波市's units and users by naming it."""
    nb, xh = province.world.units["NB"], province.world.units["HZ-XH"]
    city = province.client("cityoffice")
    for page in ("/admin/units", "/admin/users"):
        assert city.get(f"{page}?unit={nb}").status_code == 404
        assert city.get(f"{page}?unit=999999").status_code == 404
        assert province.client("office").get(f"{page}?unit={nb}").status_code == 200
    narrowed = usernames(city.get(f"/admin/users?unit={xh}").get_data(as_text=True))
    assert narrowed - {"two-posts"} == {"clerk", "head", "checker_own", "super"}  # 西湖区 only


def _message(r) -> str:
    found = ERROR_RE.search(r.get_data(as_text=True))
    assert r.status_code == 422 and found, r.status_code
    return found.group(1)


def test_a_unit_outside_the_office_reads_as_missing_in_forms(province):
    """Fails when a form tells a unit of another office from a missing one (an existence
    oracle): granting a role at 宁波市, or adding a unit below it, must answer as for a
    code that does not exist."""
    roles = {code: _message(post(province, "cityoffice", "/admin/users", username="probe",
                                 display_name="p", password=PASSWORD, roles=f"unit_user@{code}"))
             for code in ("NB", "NO-SUCH")}  # fmt: skip
    assert roles["NB"].replace("NB", "X") == roles["NO-SUCH"].replace("NO-SUCH", "X")
    parents = {code: _message(post(province, "cityoffice", "/admin/units", code="HZ-NEW",
                                   name="新单位", level="township", parent=code))
               for code in ("NB", "NO-SUCH")}  # fmt: skip
    assert parents["NB"].replace("NB", "X") == parents["NO-SUCH"].replace("NO-SUCH", "X")
    listed = usernames(province.client("office").get("/admin/users?q=probe").get_data(as_text=True))
    assert not listed


def test_city_office_sees_only_rounds_organised_in_or_inspecting_its_city(province):
    """Fails when the rounds page is unscoped: the city office would read 宁波市's rounds,
    the provincial teams inspecting other cities and the province-wide issue counts."""
    world = province.world
    with world.db.writing() as s:
        office = world.user(s, "office")
        nb = linkage.create_round(s, "NB-9-1", "宁波市委第一轮巡察", "xuncha", "city", "NB",
                                  office, world.clock(), starts_on=date(2026, 3, 1))  # fmt: skip
        team = linkage.form_team(s, nb, "宁波第一巡察组", office, world.clock())
        linkage.add_target(s, team, "NB-HS", office, world.clock())
        zj = linkage.create_round(s, "ZJ-15-1", "省委第一轮巡视", "xunshi", "province", "ZJ",
                                  office, world.clock(), starts_on=date(2026, 3, 1))  # fmt: skip
        for name, target in (("省委第一巡视组", "HZ-XH"), ("省委第二巡视组", "NB")):
            team = linkage.form_team(s, zj, name, office, world.clock())
            linkage.add_target(s, team, target, office, world.clock())
    city = province.client("cityoffice").get("/admin/rounds").get_data(as_text=True)
    assert "省委第一轮巡视" in city and "省委第一巡视组" in city
    assert "宁波市委第一轮巡察" not in city and "宁波第一巡察组" not in city
    assert "省委第二巡视组" not in city
    whole = province.client("office").get("/admin/rounds").get_data(as_text=True)
    assert "宁波市委第一轮巡察" in whole and "省委第二巡视组" in whole
