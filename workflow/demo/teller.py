"""The teller of the demo's linkage story: look-ups that skip with a note instead of
failing, and the writing steps (rounds, teams, members, issues, close-outs, leads) the
story's chapters take through ``workflow.linkage`` and ``workflow.service``.
Demo data only; must not import flask.
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


@dataclass
class Story:
    """What the story did, and what it skipped (for printing)."""

    notes: list[str] = field(default_factory=list)
    rounds: list[str] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


class Teller:
    """Tells the story: finds its units and people, and writes through the linkage API."""

    def __init__(self, session: Session, now: datetime, office: User) -> None:
        self.s, self.now, self.office, self.story = session, now, office, Story()

    # --------------------------------------------------------------------- look-ups
    def unit(self, code: str) -> Unit | None:
        """The unit with ``code``, or None with a note that its part is skipped."""
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
        """The instant ``days_ago`` days before now."""
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
        """The round ``code``, registered (``starts`` to ``ends`` days ago) if it is new."""
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
        """The team ``name`` of ``rnd`` (formed if new) with these targets and members."""
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
        """Add ``person`` to ``team``; False (and noted) when 回避 refuses them."""
        try:
            linkage.add_member(self.s, team, person, self.office, t)
            return True
        except Refused as exc:  # the denied event stays in the caller's transaction
            self.story.refused.append(exc.reason)
            return False

    def issue(
        self, definition: str, unit: Unit, rnd: Round | None, days_ago: float, **fields: Any
    ) -> Issue:
        """Open an issue of ``definition`` for ``unit`` in ``rnd``, ``days_ago`` days ago."""
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
        add_evidence(self.s, issue, clerk, t, "清退凭证及制度文件.pdf")
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
        """Transfer a problem lead and, given an ``outcome``, settle it."""
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
