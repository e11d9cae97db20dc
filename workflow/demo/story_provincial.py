"""Steps 1–5 of the demo's linkage story: the provincial round and its leads, the 供销
finding pushed down (三级联动) and rectified, 绍兴's city round reusing it, 交投集团's
simultaneous internal inspection, and the college's earlier city findings reused.
Demo data only; must not import flask.
"""

from __future__ import annotations

from workflow import linkage
from workflow.demo.teller import Teller
from workflow.models import Issue, Round, Team, Unit

Units = dict[str, Unit | None]  # the story's units by code (None: missing, skipped)

LEADS = [  # cadre level, outcome (cases, sanctions, org measures), disposition
    ("省管干部", (1, 1, 0), "初步核实"),
    ("省管干部", (0, 0, 1), "谈话函询"),
    ("市管干部", (1, 1, 1), "初步核实"),
    ("省管干部", None, "初步核实"),
]


def provincial(tell: Teller, prov: Round, province: Unit, u: Units) -> None:
    """Steps 1–5: provincial round, push-down, city reuse, internal inspection, college."""
    team = _provincial_team(tell, prov, province, u)
    _push_supply_finding(tell, prov, u)
    _internal_inspection(tell, prov, u)
    _college_reuse(tell, team, u)


def _provincial_team(tell: Teller, prov: Round, province: Unit, u: Units) -> Team:
    """Step 1: the provincial team on its three targets, and the leads it transfers."""
    leader = tell.cadre("xs.zhang", "省委第一巡视组 张组长", province)
    targets = [x for x in (u["ZJ-GXS"], u["ZJ-JTTZ"], u["HZ-KJXY"]) if x is not None]
    team = tell.team(prov, "省委第一巡视组", targets, [leader])
    for n, (cadre, outcome, disp) in enumerate(LEADS):
        where = targets[n % len(targets)] if targets else province
        tell.lead(
            where, prov, 250 - n * 3, f"{where.name}领导干部涉嫌违规问题线索", cadre, outcome, disp
        )
    return team


def _push_supply_finding(tell: Teller, prov: Round, u: Units) -> None:
    """Step 2: the 供销 finding pushed down to 绍兴 and its counties; 上虞区 rectifies."""
    if u["ZJ-GXS"] is None:
        return
    finding = tell.issue(
        "rectification",
        u["ZJ-GXS"],
        prov,
        245,
        title="供销系统考核奖金发放不规范",
        category="全面从严治党不力",
        description="省委巡视省供销总社发现：系统内考核奖金发放不规范。",
    )
    if u["SX"] is None:
        return
    pushed = linkage.push_down(
        tell.s,
        finding,
        {"levels": ["city", "county"], "code_suffix": "-GXS", "under": u["SX"].code},
        tell.office,
        tell.at(238),
    )
    tell.story.notes.append(
        f"三级联动: {pushed.root.number} → {len(pushed.common_problems)} 个市县共性问题,"
        f" {len(pushed.children)} 个整改问题 ({', '.join(pushed.matched)})"
    )
    leaf = next((c for c in pushed.children if c.unit.code == "SX-03-GXS"), None)
    if leaf is not None:  # 上虞区 rectifies its 供销系统 at once
        tell.close_out(leaf, 230)
    city_cp = next((c for c in pushed.common_problems if c.unit.code == "SX"), None)
    _city_round(tell, u, city_cp, pushed.children)


def _city_round(tell: Teller, u: Units, city_cp: Issue | None, children: list[Issue]) -> None:
    """Step 3: 绍兴 lists 市供销总社 as a target and reuses the provincial results."""
    sx, sx_gxs = u["SX"], u["SX-GXS"]
    if sx is None or sx_gxs is None:
        return
    city = tell.round("SX-8-1", "八届绍兴市委第一轮巡察", "xuncha", "city", sx, 220, 180)
    tell.team(city, "市委第一巡察组", [sx_gxs], [tell.cadre("sx.xc1", "绍兴市委巡察组 王组长", sx)])
    if city_cp is not None:
        linkage.carry_over(tell.s, "ZJ-14-6", city.code, [city_cp.id], tell.office, tell.at(215))
    old = next((c for c in children if c.unit_id == sx_gxs.id), None)
    check = tell.issue(
        "rectification",
        sx_gxs,
        city,
        200,
        title="市供销总社考核奖金整改不彻底",
        category="全面从严治党不力",
    )
    if old is not None:
        linkage.link_check(tell.s, check, old, tell.office, tell.at(200))


def _internal_inspection(tell: Teller, prov: Round, u: Units) -> None:
    """Step 4: 交投集团's internal inspection at the same time shares the findings."""
    if u["ZJ-JTTZ"] is None or u["ZJ-JTTZ-01"] is None:
        return
    internal = tell.round(
        "ZJ-JTTZ-N1",
        "省交通投资集团党委同步内部巡察",
        "xuncha",
        "province",
        u["ZJ-JTTZ"],
        290,
        250,
    )
    own = tell.team(internal, "集团党委内部巡察组", [u["ZJ-JTTZ-01"]], [])
    tell.issue(
        "rectification",
        u["ZJ-JTTZ"],
        prov,
        260,
        title="集团党委落实主体责任不到位",
        category="全面从严治党不力",
    )
    tell.issue(
        "rectification",
        u["ZJ-JTTZ-01"],
        internal,
        258,
        title="高速公路公司工程分包管理不规范",
        category="党的领导弱化",
    )
    seen = linkage.visible_findings_for_team(tell.s, own.id)
    tell.story.notes.append(
        f"同步内部巡察: 集团内部巡察组可见 {len(seen)} 个问题（含省委巡视组发现）"
    )


def _college_reuse(tell: Teller, team: Team, u: Units) -> None:
    """Step 5: the provincial team reuses 杭州市委巡察's earlier findings on the college."""
    if u["HZ"] is None or u["HZ-KJXY"] is None:
        return
    earlier = tell.round("HZ-13-2", "十三届杭州市委第二轮巡察", "xuncha", "city", u["HZ"], 420, 380)
    tell.team(earlier, "市委第三巡察组", [u["HZ-KJXY"]], [])
    for title in ("学院党委“三重一大”决策制度执行不严", "科研经费管理使用不规范"):
        tell.issue(
            "rectification", u["HZ-KJXY"], earlier, 385, title=title, category="党的领导弱化"
        )
    reused = linkage.earlier_findings_for_team(tell.s, team.id).get(u["HZ-KJXY"].id, [])
    tell.story.notes.append(f"成果运用: 省委巡视组调阅市委巡察发现 {len(reused)} 个问题")
