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

Steps 1–5 are told in ``story_provincial``, 6–7 in ``story_relay``, by the ``teller``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import linkage
from workflow.demo.story_provincial import provincial
from workflow.demo.story_relay import relay_and_cross
from workflow.demo.teller import Story, Teller
from workflow.models import Unit, User
from workflow.org.units import add_unit

__all__ = ["ARTICLE", "EXTRA_UNITS", "FIGURES", "STORY_UNITS", "Story", "build_story"]

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

STORY_UNITS = [  # the units the story looks up (a missing one skips its part)
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


def build_story(session: Session, now: datetime, office_user: User) -> Story:
    """Play the article on the demo province as of ``now`` (the caller commits)."""
    tell = Teller(session, now, office_user)
    story = tell.story
    province = tell.unit("ZJ")
    if province is None:
        return story
    _add_extra_units(session)
    u = {code: tell.unit(code) for code in STORY_UNITS}
    prov = tell.round("ZJ-14-6", "十四届省委第六轮巡视", "xunshi", "province", province, 300, 240)
    provincial(tell, prov, province, u)
    relay_and_cross(tell, prov, u)
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


def _add_extra_units(session: Session) -> None:
    """Create the :data:`EXTRA_UNITS` the province lacks, where their parent exists."""
    for code, name, level, parent in EXTRA_UNITS:
        if (
            session.scalar(select(Unit.id).where(Unit.code == code)) is None
            and session.scalar(select(Unit.id).where(Unit.code == parent)) is not None
        ):
            add_unit(session, code, name, level, parent)
