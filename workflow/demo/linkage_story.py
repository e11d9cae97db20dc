"""The source article played end to end on the demo province (巡视巡察上下联动监督网).

Owns only demo data for the linkage rules.  :func:`build_story` is called by
``workflow.demo`` after the demo province exists; everything goes through the same calls
the web app uses (``workflow.linkage``, ``workflow.service``), at past instants, so the
audit chain and statistics are real.  A unit, person or round the story needs but cannot
find is skipped with a note — never an error.  Must not import flask.

The story, after the article:

1. 十四届省委第六轮巡视 inspects 省供销总社, 省交通投资集团 and 杭州科技职业技术学院;
2. the 供销 finding is pushed down (三级联动) to 绍兴市 and its counties; 上虞区 rectifies;
3. 八届绍兴市委第一轮巡察 reuses the provincial results (carried over, checks linked);
4. 省交通投资集团 runs its internal inspection at the same time (shared findings);
5. the provincial team reuses 杭州市委巡察's earlier results on the college;
6. 三门县 runs a relay inspection on the provincial common problem (危房改造), with leads;
7. 平阳县 runs a cross inspection between townships — one member refused (回避);
8. leads transferred with outcomes, entered figures with sources, a special check of 绍兴.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import linkage, service
from workflow.demo.steps import add_evidence, settle_lead
from workflow.linkage.common import Refused
from workflow.models import Issue, Membership, Round, Team, Unit, User
from workflow.org.units import add_unit

ARTICLE = "《浙江强化巡视巡察上下联动监督网建设》（记者 颜新文 通讯员 徐星 杨文虎）"
FIGURES = [  # entered figures quoted by the article, "since last year"
    ("individual_talks", 6000, "个别谈话6000余人次"),
    ("petitions", 18000, "受理群众来信来电来访1.8万余批件次"),
    ("personal_matter_checks", 160, "抽查核实160余名领导干部的个人有关事项报告"),
    ("assistance_requests", 140, "提请有关单位协助140件次"),
]
EXTRA_UNITS = [  # (code, name, level, parent) created when the parent exists
    ("ZJ-GXS", "浙江省供销合作总社", "department", "ZJ"),
    ("SX-GXS", "绍兴市供销合作总社", "department", "SX"),
    ("ZJ-JTTZ", "浙江省交通投资集团", "department", "ZJ"),
    ("ZJ-JTTZ-01", "交投集团高速公路公司", "department", "ZJ-JTTZ"),
    ("ZJ-JTTZ-02", "交投集团物产公司", "department", "ZJ-JTTZ"),
    ("HZ-KJXY", "杭州科技职业技术学院", "department", "HZ"),
    ("TZ-06-01-LA", "李岙村", "village", "TZ-06-01"),
    ("TZ-06-02-KT", "坎头村", "village", "TZ-06-02"),
    ("JH-03-CGW", "义乌市城管委", "department", "JH-03"),
]


@dataclass
class Story:
    """What the story did, and what it skipped (for printing)."""

    notes: list[str] = field(default_factory=list)
    rounds: list[str] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


class _Teller:
    def __init__(self, session: Session, now: datetime, office: User) -> None:
        self.s, self.now, self.office, self.story = session, now, office, Story()

    # --------------------------------------------------------------------- look-ups
    def unit(self, code: str) -> Unit | None:
        found = self.s.scalar(select(Unit).where(Unit.code == code))
        if found is None:
            self.story.notes.append(f"unit {code} missing: its part of the story is skipped")
        return found

    def person(self, role: str, unit: Unit, above: bool = False) -> User | None:
        """A user holding ``role`` in ``unit`` (or, with ``above``, its nearest ancestor)."""
        ids = [int(p) for p in unit.path.strip("/").split("/")] if above else [unit.id]
        for uid in reversed(ids):
            user = self.s.scalar(
                select(User)
                .join(Membership)
                .where(Membership.role == role, Membership.unit_id == uid)
                .order_by(User.id)
                .limit(1)
            )
            if user is not None:
                return user
        self.story.notes.append(f"no {role} for {unit.code}: steps needing one are skipped")
        return None

    def cadre(self, username: str, name: str, unit: Unit) -> User:
        """An inspection cadre without a login (no password), posted in ``unit``."""
        user = self.s.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(
                username=username,
                display_name=name,
                password_hash="",
                created_at=self.at(400),
                preferences={},
            )
            self.s.add(user)
            self.s.flush()
            user.memberships.append(
                Membership(user_id=user.id, unit_id=unit.id, role="spot_check", unit=unit)
            )
            self.s.flush()
        return user

    def at(self, days_ago: float) -> datetime:
        return self.now - timedelta(days=days_ago)

    # --------------------------------------------------------------------- writing
    def round(
        self,
        code: str,
        name: str,
        kind: str,
        level: str,
        organiser: Unit,
        starts: int,
        ends: int,
        previous: Round | None = None,
    ) -> Round:
        found = self.s.scalar(select(Round).where(Round.code == code))
        if found is None:
            found = linkage.create_round(
                self.s,
                code,
                name,
                kind,
                level,
                organiser,
                self.office,
                self.at(starts + 10),
                starts_on=self.at(starts).date(),
                ends_on=self.at(ends).date(),
                previous_round=previous,
            )
        self.story.rounds.append(f"{found.code} {found.name}")
        return found

    def team(self, rnd: Round, name: str, targets: list[Unit], members: list[User]) -> Team:
        t = (
            self.at(400)
            if rnd.starts_on is None
            else datetime.combine(rnd.starts_on, datetime.min.time(), tzinfo=self.now.tzinfo)
            - timedelta(days=5)
        )
        team = self.s.scalar(select(Team).where(Team.round_id == rnd.id, Team.name == name))
        if team is None:
            team = linkage.form_team(self.s, rnd, name, self.office, t)
        for unit in targets:  # targets first: a member from a target is then refused
            linkage.add_target(self.s, team, unit, self.office, t)
        for person in members:
            self.member(team, person, t)
        return team

    def member(self, team: Team, person: User, t: datetime) -> bool:
        try:
            linkage.add_member(self.s, team, person, self.office, t)
            return True
        except Refused as exc:  # the denied event stays in the caller's transaction
            self.story.refused.append(exc.reason)
            return False

    def issue(
        self, definition: str, unit: Unit, rnd: Round | None, days_ago: float, **fields: Any
    ) -> Issue:
        fields = {"title": "问题", "unit": unit.code, **fields}
        if rnd is not None:
            fields["round"] = rnd.code
            fields.setdefault("source", "巡视" if rnd.kind == "xunshi" else "巡察")
        issue = service.open_issue(self.s, definition, fields, self.office, self.at(days_ago))
        self.story.issues.append(f"{issue.number} {unit.name} {issue.title}")
        return issue

    def act(self, issue: Issue, action: str, user: User, t: datetime, **data: Any) -> bool:
        """Take ``action`` at ``t`` (never later than now); True: it was taken."""
        service.act(self.s, issue, action, user, data, issue.version, min(t, self.now))
        return True

    def close_out(self, issue: Issue, days_ago: float) -> None:
        """Walk a rectification issue to closed, if the unit's people exist."""
        clerk = self.person("unit_user", issue.unit)
        head = self.person("unit_head", issue.unit)
        sup = self.person("supervisor", issue.unit, above=True)
        if not (clerk and head and sup):
            return
        t = self.at(days_ago)
        due = (t + timedelta(days=90)).date().isoformat()
        steps: list[tuple[str, User, dict[str, Any]]] = [
            ("sign_for", clerk, {}),
            (
                "submit_plan",
                clerk,
                {
                    "measures": [
                        {
                            "text": "全面清理系统内考核奖金发放情况，违规发放的予以清退",
                            "due_on": due,
                        },
                        {"text": "修订考核奖金管理办法，建立长效机制", "due_on": due},
                    ]
                },
            ),
            ("attest_plan", head, {"attested": True}),
            ("approve_plan", sup, {}),
        ]
        for action, user, data in steps:
            t += timedelta(days=3)
            self.act(issue, action, user, t, **data)
        add_evidence(self.s, issue, clerk, t, "清退凭证及制度文件.txt")
        closing: list[tuple[str, User, dict[str, Any]]] = [
            (
                "request_closeout",
                clerk,
                {
                    "completion": "已完成",
                    "summary": "违规奖金已全部清退",
                    "money_recovered": "386000",
                    "rules_written": 2,
                },
            ),
            ("attest_closeout", head, {"attested": True}),
            ("accept", sup, {"grade": "好"}),
        ]
        for action, user, data in closing:
            t += timedelta(days=4)
            self.act(issue, action, user, t, **data)

    def lead(
        self,
        unit: Unit,
        rnd: Round,
        days_ago: float,
        title: str,
        cadre_level: str,
        outcome: tuple[int, int, int] | None,
        disposition: str = "初步核实",
    ) -> None:
        lead = self.issue(
            "problem_lead",
            unit,
            rnd,
            days_ago,
            title=title,
            cadre_level=cadre_level,
            description="巡视巡察中发现的问题线索，详情仅纪检监察机关可见。",
        )
        disc = self.person("discipline", unit, above=True)
        if disc is None or outcome is None:
            return
        settle_lead(self.act, lead, disc, self.at(days_ago), disposition, outcome, "处置情况已反馈")


def build_story(session: Session, now: datetime, office_user: User) -> Story:
    """Play the article on the demo province as of ``now`` (the caller commits)."""
    tell = _Teller(session, now, office_user)
    story = tell.story
    province = tell.unit("ZJ")
    if province is None:
        return story
    for code, name, level, parent in EXTRA_UNITS:
        if (
            session.scalar(select(Unit.id).where(Unit.code == code)) is None
            and session.scalar(select(Unit.id).where(Unit.code == parent)) is not None
        ):
            add_unit(session, code, name, level, parent)
    u = {
        code: tell.unit(code)
        for code in [
            "ZJ-GXS",
            "SX",
            "SX-GXS",
            "SX-03",
            "SX-03-GXS",
            "ZJ-JTTZ",
            "ZJ-JTTZ-01",
            "HZ",
            "HZ-KJXY",
            "TZ-06",
            "TZ-06-01",
            "TZ-06-02",
            "TZ-06-01-LA",
            "TZ-06-02-KT",
            "WZ-06",
            "WZ-06-01",
            "WZ-06-02",
            "WZ-06-03",
            "JH-03",
            "JH-03-CGW",
        ]
    }
    prov = tell.round("ZJ-14-6", "十四届省委第六轮巡视", "xunshi", "province", province, 300, 240)
    _provincial(tell, prov, province, u)
    _relay_and_cross(tell, prov, u)
    for metric, value, quote in FIGURES:
        linkage.enter_figure(
            session, None, province, metric, value, f"{ARTICLE}：{quote}", office_user, tell.at(1)
        )
    if u["SX"] is not None:
        res = linkage.run_special_check(session, u["SX"], province, prov, office_user, tell.at(1))
        failed = [i["label"] for i in res.items if not i["passed"]]
        story.notes.append(
            f"专项检查 {u['SX'].name}: "
            + ("全部达标" if not failed else "未达标 " + "、".join(failed))
        )
    return story


def _provincial(tell: _Teller, prov: Round, province: Unit, u: dict[str, Unit | None]) -> None:
    """Steps 1–5: provincial round, push-down, city reuse, internal inspection, college."""
    s, story = tell.s, tell.story
    leader = tell.cadre("xs.zhang", "省委第一巡视组 张组长", province)
    targets = [x for x in (u["ZJ-GXS"], u["ZJ-JTTZ"], u["HZ-KJXY"]) if x is not None]
    team = tell.team(prov, "省委第一巡视组", targets, [leader])
    for n, (cadre, outcome, disp) in enumerate(
        [
            ("省管干部", (1, 1, 0), "初步核实"),
            ("省管干部", (0, 0, 1), "谈话函询"),
            ("市管干部", (1, 1, 1), "初步核实"),
            ("省管干部", None, "初步核实"),
        ]
    ):
        where = targets[n % len(targets)] if targets else province
        tell.lead(
            where, prov, 250 - n * 3, f"{where.name}领导干部涉嫌违规问题线索", cadre, outcome, disp
        )
    if u["ZJ-GXS"] is not None:
        finding = tell.issue(
            "rectification",
            u["ZJ-GXS"],
            prov,
            245,
            title="供销系统考核奖金发放不规范",
            category="全面从严治党不力",
            description="省委巡视省供销总社发现：系统内考核奖金发放不规范。",
        )
        if u["SX"] is not None:
            pushed = linkage.push_down(
                s,
                finding,
                {"levels": ["city", "county"], "code_suffix": "-GXS", "under": u["SX"].code},
                tell.office,
                tell.at(238),
            )
            story.notes.append(
                f"三级联动: {pushed.root.number} → {len(pushed.common_problems)} 个市县共性问题,"
                f" {len(pushed.children)} 个整改问题 ({', '.join(pushed.matched)})"
            )
            leaf = next((c for c in pushed.children if c.unit.code == "SX-03-GXS"), None)
            if leaf is not None:  # 上虞区 rectifies its 供销系统 at once
                tell.close_out(leaf, 230)
            city_cp = next((c for c in pushed.common_problems if c.unit.code == "SX"), None)
            _city_round(tell, u, city_cp, pushed.children)
    if u["ZJ-JTTZ"] is not None and u["ZJ-JTTZ-01"] is not None:
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
        seen = linkage.visible_findings_for_team(s, own.id)
        story.notes.append(
            f"同步内部巡察: 集团内部巡察组可见 {len(seen)} 个问题（含省委巡视组发现）"
        )
    if u["HZ"] is not None and u["HZ-KJXY"] is not None:
        earlier = tell.round(
            "HZ-13-2", "十三届杭州市委第二轮巡察", "xuncha", "city", u["HZ"], 420, 380
        )
        tell.team(earlier, "市委第三巡察组", [u["HZ-KJXY"]], [])
        for title in ("学院党委“三重一大”决策制度执行不严", "科研经费管理使用不规范"):
            tell.issue(
                "rectification", u["HZ-KJXY"], earlier, 385, title=title, category="党的领导弱化"
            )
        reused = linkage.earlier_findings_for_team(s, team.id).get(u["HZ-KJXY"].id, [])
        story.notes.append(f"成果运用: 省委巡视组调阅市委巡察发现 {len(reused)} 个问题")


def _city_round(
    tell: _Teller, u: dict[str, Unit | None], city_cp: Issue | None, children: list[Issue]
) -> None:
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


def _relay_and_cross(tell: _Teller, prov: Round, u: dict[str, Unit | None]) -> None:
    """Steps 6–7: 三门县 relay inspection, 平阳县 cross inspection, 义乌 leads."""
    s, story = tell.s, tell.story
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
        relay = tell.round(
            "TZ-06-JL1",
            "三门县委接力式巡察",
            "xuncha",
            "county",
            u["TZ-06"],
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
            [tell.cadre("sm.xc1", "三门县委巡察组 陈组长", u["TZ-06"])],
        )
        linkage.carry_over(s, prov, relay, [common.id], tell.office, tell.at(148))
        for village in villages:
            check = tell.issue(
                "rectification",
                village,
                relay,
                130,
                title=f"{village.name}危房改造补助发放审核不严",
                category="全面从严治党不力",
            )
            linkage.link_check(s, check, common, tell.office, tell.at(130))
            tell.lead(
                village,
                relay,
                128,
                f"{village.name}村民涉嫌骗取住房补贴问题线索",
                "其他",
                (1, 1, 0),
            )
        story.notes.append(
            f"接力式巡察: 县委巡察组承接 {len(linkage.relay_view(s, team.id))} 个前轮问题"
        )
    a, b, c = u["WZ-06-01"], u["WZ-06-02"], u["WZ-06-03"]
    if u["WZ-06"] is not None and a is not None and b is not None and c is not None:
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
        story.notes.append(f"交叉巡察: {len(story.refused)} 名组员因回避被拒")
    if u["JH-03"] is not None and u["JH-03-CGW"] is not None:
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
