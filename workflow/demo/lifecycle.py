"""The demo's issues walked through their life at past instants, through the real service.

Rectification issues stopped at a random stage (signed for, planned, correcting, closing,
accepted, followed up — some relapse), the province's common problem pushed to every
county's 供销社, and problem leads settled by the discipline commission.
Deterministic for a given random generator.  Demo data only; must not import flask.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import service
from workflow.clock.calendar import WorkCalendar
from workflow.demo.catalogue import CADRE_LEVELS, CATEGORIES, PROBLEMS
from workflow.demo.people import People, province_unit
from workflow.demo.steps import add_evidence, settle_lead
from workflow.models import Issue, Round, Unit, User


class Lifecycle:
    """Walks issues through their life at past instants, through the real service."""

    def __init__(
        self,
        session: Session,
        rng: random.Random,
        now: datetime,
        people: People,
        cal: WorkCalendar,
    ) -> None:
        self.session, self.rng, self.now, self.people, self.cal = session, rng, now, people, cal
        self.office = people.get(province_unit(session), "office")
        self.n = 0  # issues opened so far, across counties (picks problem texts and checkers)
        self.actions = 0  # actions taken by this walker

    def _act(self, issue: Issue, action: str, user: User, at: datetime, **data: Any) -> bool:
        """Take ``action`` at ``at`` unless that lies in the future; True: it was taken."""
        if at > self.now:
            return False
        service.act(self.session, issue, action, user, data, issue.version, at, self.cal)
        self.actions += 1
        return True

    def _step(self, lo: int) -> timedelta:
        """A random pause of ``lo`` to ``lo + 12`` days between two steps."""
        return timedelta(days=self.rng.randint(lo, lo + 12))

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
        """Take the first ``stop`` steps of the issue's life (0: left transferred)."""
        clerk, head = self.people.get(unit, "unit_user"), self.people.get(unit, "unit_head")
        sup = self.people.get(county, "supervisor")
        rectified = self._rectify(issue, clerk, head, sup, t, stop, due)
        if rectified is None or stop < 6:
            return
        closed = self._close_out(issue, clerk, head, sup, rectified, stop)
        if closed is None:
            return
        t, grade = closed
        if grade == "一般" or stop < 9:
            return
        self._follow_up(issue, unit, t)

    def _rectify(
        self,
        issue: Issue,
        clerk: User,
        head: User,
        sup: User,
        t: datetime,
        stop: int,
        due: date,
    ) -> datetime | None:
        """Sign for, plan, attest, approve and report (up to ``stop``); the last instant."""
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
            t = t + self._step(2)
            if not self._act(issue, action, user, t, **data):
                return None
        return t

    def _close_out(
        self, issue: Issue, clerk: User, head: User, sup: User, t: datetime, stop: int
    ) -> tuple[datetime, str] | None:
        """Request, attest and accept the close-out (up to ``stop``); the instant and grade."""
        rng = self.rng
        add_evidence(self.session, issue, clerk, t, "整改会议纪要.pdf")
        t += self._step(5)
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
            return None
        if stop < 7 or not self._act(
            issue, "attest_closeout", head, t + self._step(1), attested=True
        ):
            return None
        t += self._step(2)
        grade = rng.choices(["好", "较好", "一般"], [5, 4, 1])[0]
        if stop < 8 or not self._act(issue, "accept", sup, t, grade=grade):
            return None
        return t, grade

    def _follow_up(self, issue: Issue, unit: Unit, t: datetime) -> None:
        """A spot-checker of another city follows the accepted issue up; some relapse."""
        checker = self.people.get(self._other_city(unit), "spot_check")
        t += self._step(3)
        if not self._act(issue, "assign_checker", self.office, t, checker=checker.username):
            return
        if self.rng.random() < 0.15:
            self._act(
                issue,
                "followup_relapse",
                checker,
                t + self._step(20),
                reason="回头看发现问题反弹",
                new_due=(t + timedelta(days=90)).date().isoformat(),
            )
        else:
            self._act(issue, "followup_holds", checker, t + self._step(20), note="整改成效巩固")

    def _other_city(self, unit: Unit) -> Unit:
        """A city other than ``unit``'s, taking turns."""
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
        disc = self.people.get(province_unit(self.session), "discipline")
        settle_lead(self._act, issue, disc, opened, disposition, outcome, "已反馈巡视办",
                    days=(5, 20, 60, 80))  # fmt: skip
