"""A realistic demo province: units, people for every role, rounds, issues in every stage.

Owns only demo data.  Everything is written through the same service calls the web app
uses (``open_issue`` and ``act``), at instants in the past, so the timeline, deadlines,
audit chain and notifications are real.  Deterministic for a given seed.
Must not import flask.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow import service
from workflow.clock.calendar import WorkCalendar
from workflow.db import Database
from workflow.definition.registry import sync_definitions
from workflow.demo.steps import add_evidence, settle_lead
from workflow.models import Issue, Membership, Round, Team, TeamMember, TeamTarget, Unit, User
from workflow.org.units import add_unit, hash_password

DEMO_PASSWORD = "demo-2026"
T = TypeVar("T")

CITIES = [
    (
        "HZ",
        "杭州市",
        ["上城区", "拱墅区", "西湖区", "滨江区", "萧山区", "余杭区", "桐庐县", "淳安县"],
    ),
    ("NB", "宁波市", ["海曙区", "江北区", "北仑区", "镇海区", "鄞州区", "象山县", "宁海县"]),
    ("WZ", "温州市", ["鹿城区", "龙湾区", "瓯海区", "瑞安市", "乐清市", "平阳县"]),
    ("JX", "嘉兴市", ["南湖区", "秀洲区", "嘉善县", "海盐县", "桐乡市"]),
    ("HU", "湖州市", ["吴兴区", "南浔区", "德清县", "长兴县", "安吉县"]),
    ("SX", "绍兴市", ["越城区", "柯桥区", "上虞区", "诸暨市", "嵊州市", "新昌县"]),
    ("JH", "金华市", ["婺城区", "金东区", "义乌市", "东阳市", "永康市", "兰溪市"]),
    ("QZ", "衢州市", ["柯城区", "衢江区", "江山市", "常山县", "开化县"]),
    ("ZS", "舟山市", ["定海区", "普陀区", "岱山县", "嵊泗县"]),
    ("TZ", "台州市", ["椒江区", "黄岩区", "路桥区", "临海市", "温岭市", "三门县"]),
    ("LS", "丽水市", ["莲都区", "龙泉市", "青田县", "缙云县", "遂昌县"]),
]
TOWNSHIP_NAMES = ["城关街道", "东城街道", "西城镇", "南湖乡", "北山镇"]
DEPARTMENTS = [("GXS", "供销合作社"), ("ZRZY", "自然资源局")]
CATEGORIES = ["党的领导弱化", "党的建设缺失", "全面从严治党不力", "选人用人问题", "落实整改不到位"]
PROBLEMS = [
    ("考核奖金发放不规范", "系统内考核奖金发放未按规定程序审批，存在超标准发放情况。"),
    ("农村危房改造资金使用不规范", "专项资金拨付滞后，部分资金被挪作他用。"),
    ("“三重一大”决策制度执行不严", "重大事项未经集体研究，会议记录不完整。"),
    ("基层党组织组织生活不规范", "“三会一课”制度落实不到位，部分支部长期未按期换届。"),
    ("公务用车管理不严", "公车私用、使用登记不全等问题仍有发生。"),
    ("工程项目招投标不规范", "存在规避招标、先施工后招标的情况。"),
    ("意识形态工作责任制落实不到位", "未定期研判意识形态领域情况。"),
    ("违规收送礼品礼金", "节日期间仍有违规收受礼品礼金现象。"),
    ("干部选拔任用程序不严谨", "个别干部任前考察不深入，档案审核把关不严。"),
    ("村级集体“三资”管理混乱", "集体资产底数不清，资金收支审批不严。"),
]
CADRE_LEVELS = ["省管干部", "市管干部", "县管干部", "其他"]


@dataclass
class Demo:
    """What the demo created, for printing."""

    accounts: list[tuple[str, str, str]] = field(default_factory=list)  # (username, role, unit)
    units: int = 0
    issues: int = 0
    actions: int = 0
    notes: list[str] = field(default_factory=list)


def is_empty(session: Session) -> bool:
    """Whether the database holds no units yet."""
    return not session.scalar(select(func.count()).select_from(Unit))


class _People:
    """Creates demo users cheaply (one argon2 hash shared by every demo account)."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session, self.now = session, now
        self.hash = hash_password(DEMO_PASSWORD)
        self.by_unit_role: dict[tuple[int, str], int] = {}

    def add(self, username: str, name: str, role: str, unit: Unit) -> User:
        user = User(
            username=username,
            display_name=name,
            password_hash=self.hash,
            email=None,  # the demo sends no e-mail: in-app notifications only
            created_at=self.now,
            preferences={},
        )
        self.session.add(user)
        self.session.flush()
        user.memberships.append(Membership(user_id=user.id, unit_id=unit.id, role=role, unit=unit))
        self.by_unit_role[(unit.id, role)] = user.id
        return user

    def get(self, unit: Unit, role: str) -> User:
        user = self.session.get(User, self.by_unit_role[(unit.id, role)])
        assert user is not None
        return user


def build(
    db: Database,
    now: datetime,
    seed: int = 2026,
    issues_per_county: int = 30,
    max_counties: int | None = None,
) -> Demo:
    """Create the demo province as of ``now``, one transaction per county.

    Small transactions keep the ORM session small (a flush walks every object it holds)
    and SQLite's write lock short.
    """
    with db.writing() as session:
        demo, people, state = _skeleton(session, now)
    rng = random.Random(seed)
    for n, county_id in enumerate(state["counties"][:max_counties]):
        with db.writing() as session:
            people.session = session
            cal = WorkCalendar.from_session(session)
            story = _Story(session, rng, now, people, cal, demo)
            story.n = n * issues_per_county
            county = _get(session, Unit, county_id)
            units = [_get(session, Unit, u) for u in state["townships"][county_id]]
            rounds = [_get(session, Round, r) for r in state["rounds"]]
            for k in range(issues_per_county):
                unit = units[k % len(units)]
                rnd = rounds[0] if k % 2 == 0 else rounds[1 + n % 2]
                story.rectification(unit, county, rnd)
    with db.writing() as session:
        people.session = session
        story = _Story(session, rng, now, people, WorkCalendar.from_session(session), demo)
        counties = [_get(session, Unit, c) for c in state["counties"]]
        cities = [_get(session, Unit, c) for c in state["cities"]]
        rounds = [_get(session, Round, r) for r in state["rounds"]]
        story.common_problem(counties, rounds[0])
        for n in range(12):
            story.lead(cities[n % len(cities)], rounds[0], n)
    with db.writing() as session:
        # the source article's story of upper-lower linkage, played through workflow.linkage
        from workflow.demo.linkage_story import build_story

        people.session = session
        demo.notes = build_story(session, now, people.get(_province(session), "office")).notes
        demo.issues = session.scalar(select(func.count()).select_from(Issue)) or 0
    return demo


def _get(session: Session, model: type[T], ident: int) -> T:
    """Load a row the demo itself created (it must exist)."""
    row = session.get(model, ident)
    assert row is not None
    return row


def _skeleton(session: Session, now: datetime) -> tuple[Demo, _People, dict[str, Any]]:
    """Units, people and rounds (one transaction)."""
    demo = Demo()
    sync_definitions(session, now - timedelta(days=400))
    people = _People(session, now)
    province = add_unit(session, "ZJ", "浙江省", "province")
    counties: list[Unit] = []
    townships: dict[int, list[Unit]] = {}
    cities: list[Unit] = []
    for code, name, county_names in CITIES:
        city = add_unit(session, code, name, "city", "ZJ")
        cities.append(city)
        for n, cname in enumerate(county_names, 1):
            county = add_unit(session, f"{code}-{n:02d}", cname, "county", code)
            counties.append(county)
            townships[county.id] = [
                add_unit(
                    session, f"{county.code}-{t:02d}", f"{cname}{tname}", "township", county.code
                )
                for t, tname in enumerate(TOWNSHIP_NAMES[: 3 + n % 3], 1)
            ] + [
                add_unit(
                    session, f"{county.code}-{dcode}", f"{cname}{dname}", "department", county.code
                )
                for dcode, dname in DEPARTMENTS
            ]
    demo.units = session.scalar(select(func.count()).select_from(Unit)) or 0

    # people: the province office, a supervisor and leader at each level, unit staff
    def account(username: str, name: str, role: str, unit: Unit) -> User:
        user = people.add(username, name, role, unit)
        demo.accounts.append((username, role, f"{unit.code} {unit.name}"))
        return user

    account("office", "省委巡视办 王主任", "office", province)
    account("leader", "省委巡视工作领导小组 李组长", "leader", province)
    account("discipline", "省纪委监委 陈处长", "discipline", province)
    account("supervisor", "省督办 赵处长", "supervisor", province)
    account("checker", "省专项督查组 周组员", "spot_check", province)
    for city in cities:
        low = city.code.lower()
        people.add(f"{low}.office", f"{city.name}委巡察办", "office", city)
        people.add(f"{low}.super", f"{city.name}督办", "supervisor", city)
        people.add(f"{low}.checker", f"{city.name}督查组", "spot_check", city)
    for county in counties:
        low = county.code.lower()
        people.add(f"{low}.super", f"{county.name}督办", "supervisor", county)
        for unit in townships[county.id]:
            ul = unit.code.lower()
            people.add(f"{ul}.clerk", f"{unit.name}经办人", "unit_user", unit)
            people.add(f"{ul}.head", f"{unit.name}主要负责人", "unit_head", unit)
    hz1 = counties[0]
    first = townships[hz1.id][0]
    demo.accounts += [
        (f"{first.code.lower()}.clerk", "unit_user", f"{first.code} {first.name}"),
        (f"{first.code.lower()}.head", "unit_head", f"{first.code} {first.name}"),
        (f"{hz1.code.lower()}.super", "supervisor", f"{hz1.code} {hz1.name}"),
        ("hz.office", "office", "HZ 杭州市"),
        ("nb.checker", "spot_check", "NB 宁波市"),
    ]
    session.flush()

    rounds = _rounds(session, province, cities, counties, people, now)
    state = {
        "counties": [c.id for c in counties],
        "cities": [c.id for c in cities],
        "townships": {c: [u.id for u in us] for c, us in townships.items()},
        "rounds": [r.id for r in rounds],
    }
    return demo, people, state


def _rounds(
    session: Session,
    province: Unit,
    cities: list[Unit],
    counties: list[Unit],
    people: _People,
    now: datetime,
) -> list[Round]:
    """The provincial round, a city round reusing it, a county relay round; teams."""
    today = now.date()
    r1 = Round(
        code="ZJ-14-6",
        name="十四届省委第六轮巡视",
        kind="xunshi",
        level="province",
        organiser_unit_id=province.id,
        starts_on=today - timedelta(days=300),
        ends_on=today - timedelta(days=240),
    )
    r2 = Round(
        code="SX-8-1",
        name="八届绍兴市委第一轮巡察",
        kind="xuncha",
        level="city",
        organiser_unit_id=cities[5].id,
        starts_on=today - timedelta(days=220),
        ends_on=today - timedelta(days=180),
    )
    r3 = Round(
        code="TZ-06-R2",
        name="三门县委第二轮接力式巡察",
        kind="xuncha",
        level="county",
        organiser_unit_id=_by_code(counties, "TZ-06").id,
        starts_on=today - timedelta(days=150),
        ends_on=today - timedelta(days=110),
    )
    session.add_all([r1, r2, r3])
    session.flush()
    r3.previous_round_id = r1.id
    sx_counties = [c for c in counties if c.code.startswith("SX-")][:3]
    tz06_units = session.scalars(
        select(Unit).where(Unit.parent_id == _by_code(counties, "TZ-06").id).order_by(Unit.id)
    ).all()[:2]
    for n, (rnd, targets) in enumerate(
        [(r1, cities[:4]), (r2, sx_counties), (r3, list(tz06_units))]
    ):
        team = Team(round_id=rnd.id, name=f"第{n + 1}巡视（巡察）组")
        session.add(team)
        session.flush()
        member = people.get(cities[(n + 6) % len(cities)], "spot_check")
        session.add(TeamMember(team_id=team.id, user_id=member.id))
        for unit in targets:
            session.add(
                TeamTarget(
                    team_id=team.id, unit_id=unit.id, starts_on=rnd.starts_on, ends_on=rnd.ends_on
                )
            )
    session.flush()
    return [r1, r2, r3]


def _by_code(units: list[Unit], code: str) -> Unit:
    return next(u for u in units if u.code == code)


def _province(session: Session) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == "ZJ"))
    assert unit is not None
    return unit


class _Story:
    """Walks issues through their life at past instants, through the real service."""

    def __init__(
        self,
        session: Session,
        rng: random.Random,
        now: datetime,
        people: _People,
        cal: WorkCalendar,
        demo: Demo,
    ) -> None:
        self.session, self.rng, self.now, self.people, self.cal, self.demo = (
            session,
            rng,
            now,
            people,
            cal,
            demo,
        )
        self.office = people.get(_province(session), "office")
        self.n = 0

    def _act(self, issue: Issue, action: str, user: User, at: datetime, **data: Any) -> bool:
        if at > self.now:
            return False
        service.act(self.session, issue, action, user, data, issue.version, at, self.cal)
        self.demo.actions += 1
        return True

    def rectification(self, unit: Unit, county: Unit, rnd: Round) -> None:
        """One issue, stopped at a random stage of its life."""
        rng = self.rng
        self.n += 1
        title, desc = PROBLEMS[self.n % len(PROBLEMS)]
        opened = self.now - timedelta(days=rng.randint(20, 330), hours=rng.randint(0, 8))
        deadline_type = rng.choices(["by_deadline", "fix_now", "ongoing"], [8, 1, 1])[0]
        due = (opened + timedelta(days=rng.choice([60, 90, 120, 180]))).date()
        issue = service.open_issue(
            self.session,
            "rectification",
            {
                "title": f"{unit.name}{title}",
                "description": desc,
                "unit": unit.code,
                "category": rng.choice(CATEGORIES),
                "round": rnd.code,
                "deadline_type": deadline_type,
                "due_on": due.isoformat(),
                "source": "巡视" if rnd.kind == "xunshi" else "巡察",
                "supervising_leader": f"{county.name}分管领导",
                "person_in_charge": f"{unit.name}负责人",
            },
            self.office,
            opened,
            calendar=self.cal,
        )
        stop = rng.choices(range(10), [4, 6, 8, 10, 14, 12, 10, 14, 12, 10])[0]
        self._walk(issue, unit, county, opened, stop, due)

    def _walk(
        self, issue: Issue, unit: Unit, county: Unit, t: datetime, stop: int, due: date
    ) -> None:
        rng = self.rng
        clerk, head = self.people.get(unit, "unit_user"), self.people.get(unit, "unit_head")
        sup = self.people.get(county, "supervisor")
        step: Callable[[int], timedelta] = lambda lo: timedelta(days=rng.randint(lo, lo + 12))  # noqa: E731
        plan: list[tuple[str, User, dict[str, Any]]] = [
            ("sign_for", clerk, {}),
            (
                "submit_plan",
                clerk,
                {
                    "measures": [
                        {"text": "召开专题民主生活会，深入剖析问题根源", "due_on": due.isoformat()},
                        {"text": "修订完善相关制度，建立长效机制", "due_on": due.isoformat()},
                    ]
                },
            ),
            ("attest_plan", head, {"attested": True}),
            ("approve_plan", sup, {}),
            ("report_progress", clerk, {"progress": 60, "note": "已完成主要整改措施"}),
        ]
        for action, user, data in plan[:stop]:
            t = t + step(2)
            if not self._act(issue, action, user, t, **data):
                return
        if stop < 6:
            return
        add_evidence(self.session, issue, clerk, t, "整改会议纪要.txt")
        t += step(5)
        if not self._act(
            issue,
            "request_closeout",
            clerk,
            t,
            completion="已完成",
            summary="整改措施全部落实",
            rules_written=rng.randint(0, 4),
            money_recovered=str(rng.choice([0, 0, 12000, 56000])),
            people_handled=rng.randint(0, 2),
        ):
            return
        if stop < 7 or not self._act(issue, "attest_closeout", head, t + step(1), attested=True):
            return
        t += step(2)
        grade = rng.choices(["好", "较好", "一般"], [5, 4, 1])[0]
        if stop < 8 or not self._act(issue, "accept", sup, t, grade=grade):
            return
        if grade == "一般" or stop < 9:
            return
        checker = self.people.get(self._other_city(unit), "spot_check")
        t += step(3)
        if not self._act(issue, "assign_checker", self.office, t, checker=checker.username):
            return
        if rng.random() < 0.15:
            self._act(
                issue,
                "followup_relapse",
                checker,
                t + step(20),
                reason="回头看发现问题反弹",
                new_due=(t + timedelta(days=90)).date().isoformat(),
            )
        else:
            self._act(issue, "followup_holds", checker, t + step(20), note="整改成效巩固")

    def _other_city(self, unit: Unit) -> Unit:
        city_id = int(unit.path.strip("/").split("/")[1])
        others = self.session.scalars(
            select(Unit).where(Unit.level == "city", Unit.id != city_id).order_by(Unit.id)
        ).all()
        return others[self.n % len(others)]

    def common_problem(self, counties: list[Any], rnd: Round) -> None:
        """A provincial finding pushed down to every county's 供销社 (举一反三)."""
        opened = self.now - timedelta(days=200)
        parent = service.open_issue(
            self.session,
            "common_problem",
            {
                "title": "供销系统考核奖金发放不规范（共性问题）",
                "description": "省委巡视省供销总社发现的共性问题，推动市县供销系统同步整改。",
                "unit": "ZJ",
                "category": "全面从严治党不力",
                "round": rnd.code,
                "due_on": (opened + timedelta(days=120)).date().isoformat(),
                "source": "巡视",
            },
            self.office,
            opened,
            calendar=self.cal,
        )
        codes = [f"{c.code}-GXS" for c in counties if c.code.startswith(("SX", "HZ"))]
        self._act(parent, "fan_out", self.office, opened + timedelta(days=3), units=codes)

    def lead(self, city: Unit, rnd: Round, n: int) -> None:
        """A problem lead transferred to the discipline commission."""
        rng = self.rng
        opened = self.now - timedelta(days=rng.randint(30, 200))
        issue = service.open_issue(
            self.session,
            "problem_lead",
            {
                "title": f"{city.name}某局领导干部涉嫌违规问题线索",
                "description": "巡视中发现的问题线索，详情仅纪检监察机关可见。",
                "unit": city.code,
                "round": rnd.code,
                "cadre_level": CADRE_LEVELS[n % 4],
                "source": "巡视",
            },
            self.office,
            opened,
            calendar=self.cal,
        )
        if n % 6 == 0:  # left waiting for the discipline commission
            return
        disposition = ["谈话函询", "初步核实", "暂存待查", "予以了结"][n % 4]
        outcome = None
        if disposition != "暂存待查" and n % 5 != 1:
            opened_case = 1 if disposition == "初步核实" else 0
            outcome = (opened_case, opened_case, n % 2)
        disc = self.people.get(_province(self.session), "discipline")
        settle_lead(self._act, issue, disc, opened, disposition, outcome, "已反馈巡视办",
                    days=(5, 20, 60, 80))  # fmt: skip
