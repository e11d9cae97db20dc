"""Steps 6–7 of the demo's linkage story: the provincial common problem (危房改造) that
三门县's relay inspection takes over and re-checks in its villages, 平阳县's cross
inspection between townships (one member refused, 回避), and 义乌's round with a lead.
Demo data only; must not import flask.
"""

from __future__ import annotations

from workflow import linkage
from workflow.demo.story_provincial import Units
from workflow.demo.teller import Teller
from workflow.models import Issue, Round, Unit


def relay_and_cross(tell: Teller, prov: Round, u: Units) -> None:
    """Steps 6–7: 三门县 relay inspection, 平阳县 cross inspection, 义乌 leads."""
    zj = tell.unit("ZJ")
    if zj is None:
        return
    common = tell.issue(
        "common_problem",
        zj,
        prov,
        242,
        title="农村困难群众危房改造专项资金使用不规范（共性问题）",
        category="全面从严治党不力",
        description="省委巡视反馈的共性问题，纳入市县巡察重点。",
    )
    if u["TZ-06"] is not None:
        _relay(tell, prov, common, u["TZ-06"], u)
    _cross(tell, u)
    _yiwu(tell, u)


def _relay(tell: Teller, prov: Round, common: Issue, county: Unit, u: Units) -> None:
    """Step 6: 三门县 carries the common problem over and re-checks it in two villages."""
    relay = tell.round(
        "TZ-06-JL1",
        "三门县委接力式巡察",
        "xuncha",
        "county",
        county,
        150,
        110,
        previous=prov,
    )
    villages = [x for x in (u["TZ-06-01-LA"], u["TZ-06-02-KT"]) if x is not None]
    towns = [x for x in (u["TZ-06-01"], u["TZ-06-02"]) if x is not None]
    team = tell.team(
        relay,
        "县委第一巡察组",
        towns,
        [tell.cadre("sm.xc1", "三门县委巡察组 陈组长", county)],
    )
    linkage.carry_over(tell.s, prov, relay, [common.id], tell.office, tell.at(148))
    for village in villages:
        check = tell.issue(
            "rectification",
            village,
            relay,
            130,
            title=f"{village.name}危房改造补助发放审核不严",
            category="全面从严治党不力",
        )
        linkage.link_check(tell.s, check, common, tell.office, tell.at(130))
        tell.lead(
            village,
            relay,
            128,
            f"{village.name}村民涉嫌骗取住房补贴问题线索",
            "其他",
            (1, 1, 0),
        )
    tell.story.notes.append(
        f"接力式巡察: 县委巡察组承接 {len(linkage.relay_view(tell.s, team.id))} 个前轮问题"
    )


def _cross(tell: Teller, u: Units) -> None:
    """Step 7: 平阳县's cross inspection; a cadre from a target township is refused."""
    a, b, c = u["WZ-06-01"], u["WZ-06-02"], u["WZ-06-03"]
    if u["WZ-06"] is None or a is None or b is None or c is None:
        return
    # cadres drawn from two townships inspect the other townships, under the county
    cross = tell.round("WZ-06-JC1", "平阳县委交叉巡察", "xuncha", "county", u["WZ-06"], 100, 60)
    tell.team(cross, "交叉巡察第一组", [b], [tell.cadre("py.a1", f"{a.name}抽调干部", a)])
    tell.team(
        cross,
        "交叉巡察第二组",
        [c],
        [
            tell.cadre("py.b1", f"{b.name}抽调干部", b),
            tell.cadre("py.c1", f"{c.name}抽调干部", c),
        ],
    )
    tell.story.notes.append(f"交叉巡察: {len(tell.story.refused)} 名组员因回避被拒")


def _yiwu(tell: Teller, u: Units) -> None:
    """义乌市委's first round: a bid-rigging finding and its problem lead."""
    if u["JH-03"] is None or u["JH-03-CGW"] is None:
        return
    yiwu = tell.round(
        "JH-03-14-1", "十四届义乌市委首轮巡察", "xuncha", "county", u["JH-03"], 200, 160
    )
    tell.team(yiwu, "市委第一巡察组", [u["JH-03-CGW"]], [])
    tell.issue(
        "rectification",
        u["JH-03-CGW"],
        yiwu,
        170,
        title="某项目招投标串标问题处理不力",
        category="全面从严治党不力",
    )
    tell.lead(u["JH-03-CGW"], yiwu, 168, "城管委项目招投标串标问题线索", "县管干部", (1, 5, 1))
