"""巡视巡察上下联动: the linkage rules between provincial, city and county inspection.

Owns, on top of ``workflow.service`` (which still writes every issue state):

- task linkage (任务部署联动, 三级联动): :func:`push_down` turns a provincial finding into
  a tree of common problems, one per tier (province → city → county), whose leaves are
  the matching units' rectification issues; :func:`rollup` counts a tree at each level;
- organisation linkage (组织方式联动): a provincial inspection of a unit and the unit's
  simultaneous internal inspection share one information space (:func:`shared_space`,
  :func:`visible_findings_for_team`);
- result and information linkage (成果运用 / 信息运用联动): :func:`earlier_findings` of
  lower levels for a higher-level team;
- relay inspection (接力式巡察): :func:`carry_over`, :func:`relay_view`, :func:`link_check`.

Rounds, teams and the 回避 rule live in ``workflow.teams``; statistics, rectification
quality and special checks in ``workflow.network_stats``.  Both are re-exported here, so
``workflow.linkage`` is the one import of the linkage API.  Problem leads (restricted)
never enter a shared space: their details stay with the discipline commission.
Every change appends an audit event.  Must not import flask.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from workflow import audit, service
from workflow.models import Issue, Round, Team, TeamTarget, Unit, User
from workflow.network_stats import (
    METRICS,
    Metric,
    NetworkReport,
    QualityRates,
    SpecialCheckResult,
    enter_figure,
    network_statistics,
    rectification_quality,
    relapsed_clause,
    run_special_check,
)
from workflow.scope import path_range
from workflow.teams import (
    DEFAULT_SETTINGS,
    LEVEL_RANK,
    LinkageSettings,
    Refused,
    SpecialCheckThresholds,
    add_member,
    add_target,
    check_assignment,
    create_round,
    form_team,
    recusal_reason,
    resolve_round,
    resolve_unit,
)

__all__ = [
    "METRICS",
    "LinkageSettings",
    "Metric",
    "NetworkReport",
    "PushResult",
    "PushRule",
    "QualityRates",
    "Refused",
    "RelayItem",
    "Rollup",
    "SpecialCheckResult",
    "SpecialCheckThresholds",
    "add_member",
    "add_target",
    "carry_over",
    "check_assignment",
    "create_round",
    "earlier_findings",
    "earlier_findings_for_team",
    "enter_figure",
    "form_team",
    "link_check",
    "matching_units",
    "network_statistics",
    "push_down",
    "recusal_reason",
    "rectification_quality",
    "relay_view",
    "rollup",
    "run_special_check",
    "shared_space",
    "simultaneous_rounds",
    "visible_findings_clause",
    "visible_findings_for_team",
]


def _in_subtree(unit: Unit) -> ColumnElement[bool]:
    """Issues whose lead unit or inspected unit lies in ``unit``'s subtree."""
    inside = select(Unit.id).where(Unit.path.startswith(unit.path, autoescape=True))
    return or_(path_range(Issue.unit_path, unit.path), Issue.inspected_unit_id.in_(inside))


def _system_event(
    session: Session, user: User, issue: Issue, action: str, now: datetime, data: dict[str, Any]
) -> None:
    member = next(
        (
            m
            for m in user.memberships
            if m.role == "office" and issue.unit_path.startswith(m.unit.path)
        ),
        None,
    )
    audit.append(
        session,
        issue_id=issue.id,
        at=now,
        actor_id=user.id,
        actor_role="office",
        actor_unit_id=member.unit_id if member else None,
        action=action,
        from_state=issue.state,
        to_state=issue.state,
        definition_version=issue.definition.version,
        data=data,
    )


# ====================================================================== task linkage


@dataclass(frozen=True)
class PushRule:
    """Which units a finding is pushed down to.

    Either explicit ``codes``, or a rule over the unit tree whose given conditions must all
    hold: ``levels`` (a unit sits at a level if it has that level, or if it is a department
    of a unit of that level — a county's 供销社 sits at county level), ``name_contains``
    (e.g. "供销") and ``code_suffix`` (e.g. "-GXS").  ``under`` narrows the search to one
    unit's subtree (default: the root common problem's unit).
    """

    codes: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    name_contains: str | None = None
    code_suffix: str | None = None
    under: str | None = None

    @classmethod
    def of(cls, value: PushRule | Mapping[str, Any] | Sequence[str]) -> PushRule:
        """A rule from a rule, a mapping of its fields, or a list of unit codes."""
        if isinstance(value, PushRule):
            return value
        if isinstance(value, Mapping):
            unknown = set(value) - {"codes", "levels", "name_contains", "code_suffix", "under"}
            if unknown:
                raise ValueError(f"unknown rule keys: {', '.join(sorted(unknown))}")
            return cls(
                codes=tuple(value.get("codes") or ()),
                levels=tuple(value.get("levels") or ()),
                name_contains=value.get("name_contains"),
                code_suffix=value.get("code_suffix"),
                under=value.get("under"),
            )
        return cls(codes=tuple(value))


def matching_units(session: Session, rule: PushRule, root: Unit) -> tuple[list[Unit], list[str]]:
    """The units ``rule`` selects strictly inside ``root``'s subtree, and notes on misses."""
    notes: list[str] = []
    scope = root
    if rule.under:
        scope = resolve_unit(session, rule.under)
        if not scope.path.startswith(root.path):
            return [], [f"{rule.under} lies outside {root.code}"]
    q = select(Unit).where(Unit.path.startswith(scope.path, autoescape=True), Unit.id != root.id)
    if rule.codes:
        found = list(session.scalars(q.where(Unit.code.in_(rule.codes)).order_by(Unit.path)))
        missing = set(rule.codes) - {u.code for u in found}
        notes += [f"{code}: no such unit under {scope.code}, skipped" for code in sorted(missing)]
        return found, notes
    if not (rule.levels or rule.name_contains or rule.code_suffix):
        raise ValueError("a push-down rule needs codes, levels, name_contains or code_suffix")
    parent = aliased(Unit)
    q = q.outerjoin(parent, parent.id == Unit.parent_id)
    if rule.levels:
        q = q.where(
            or_(
                Unit.level.in_(rule.levels),
                and_(Unit.level == "department", parent.level.in_(rule.levels)),
            )
        )
    if rule.name_contains:
        q = q.where(Unit.name.contains(rule.name_contains, autoescape=True))
    if rule.code_suffix:
        q = q.where(Unit.code.endswith(rule.code_suffix, autoescape=True))
    found = list(session.scalars(q.order_by(Unit.path)))
    if not found:
        notes.append(f"no unit under {scope.code} matches the rule")
    return found, notes


@dataclass
class PushResult:
    """What :func:`push_down` did."""

    root: Issue
    common_problems: list[Issue] = field(default_factory=list)  # the tier parents it opened
    children: list[Issue] = field(default_factory=list)  # the units' rectification issues
    matched: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _copy_fields(issue: Issue, unit_code: str) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "title": issue.title,
        "description": issue.description,
        "category": issue.category,
        "unit": unit_code,
        "deadline_type": issue.deadline_type,
        "source": issue.source,
        "due_on": issue.due_on.isoformat() if issue.due_on else None,
    }
    if issue.round is not None:
        fields["round"] = issue.round.code
    return fields


def push_down(
    session: Session,
    source: Issue | Mapping[str, Any],
    rule: PushRule | Mapping[str, Any] | Sequence[str],
    user: User,
    now: datetime,
    settings: LinkageSettings = DEFAULT_SETTINGS,
) -> PushResult:
    """Push a finding down the tree as a common problem (三级联动); safe to repeat.

    ``source`` is a common problem (used as the root), another finding (a root common
    problem is opened at its round's organiser, recording where it came from), or the
    fields of a new root common problem.  Each unit of ``settings.push_tiers`` (city,
    county) that holds matching units gets its own common problem under the one above, so
    each level tracks its own children and sees the roll-up above and below; every matching
    unit gets a rectification issue under its nearest tier (its own, if it is a tier unit).
    The children are spawned by the common_problem definition's ``fan_out`` / ``add_units``
    actions through ``workflow.service.act`` — pushing again only adds what is missing.
    """
    rule_ = PushRule.of(rule)
    if isinstance(source, Issue) and source.kind == "common_problem":
        root = source
    elif isinstance(source, Issue):
        unit = (
            source.round.organiser
            if source.round
            else resolve_unit(session, int(source.unit_path.strip("/").split("/")[0]))
        )
        root = service.open_issue(
            session, "common_problem", _copy_fields(source, unit.code), user, now
        )
        root.data = {**(root.data or {}), "pushed_down_from": source.id}
        _system_event(
            session,
            user,
            source,
            "push_down",
            now,
            {"common_problem": root.id, "number": root.number},
        )
    else:
        root = service.open_issue(session, "common_problem", source, user, now)
    if root.state_kind == "closed":
        raise Refused(f"common problem {root.number} is closed; open a new one")
    units, notes = matching_units(session, rule_, root.unit)
    result = PushResult(root, matched=[u.code for u in units], notes=notes)
    ancestor_ids = {int(p) for u in units for p in u.path.strip("/").split("/")}
    tiers = {
        u.id: u
        for u in session.scalars(select(Unit).where(Unit.id.in_(ancestor_ids)))
        if u.level in settings.push_tiers and u.depth > root.unit.depth
    }
    node: dict[int, Issue] = {root.unit_id: root}  # unit id → its common problem
    wanted: dict[int, list[str]] = {}  # common problem id → unit codes to fan out to
    below = _descendants(session, root.id)
    has_child = {(i.parent_id, i.unit_id) for i in below}
    existing = {(i.parent_id, i.unit_id): i for i in below if i.kind == "common_problem"}
    for u in units:
        parent = root
        for pid in (int(p) for p in u.path.strip("/").split("/")):
            tier = tiers.get(pid)
            if tier is None:
                continue
            if pid not in node:
                found = existing.get((parent.id, pid))
                if found is None:
                    found = service.open_issue(
                        session,
                        "common_problem",
                        _copy_fields(root, tier.code),
                        user,
                        now,
                        parent=parent,
                    )
                    result.common_problems.append(found)
                    # listed in the parent's fan-out, which finds it and opens nothing
                    wanted.setdefault(parent.id, []).append(tier.code)
                node[pid] = found
            parent = node[pid]
        if (parent.id, u.id) not in has_child:
            wanted.setdefault(parent.id, []).append(u.code)
    by_id = {i.id: i for i in node.values()}
    for cp_id, codes in wanted.items():
        cp = by_id[cp_id]
        action = {"draft": "fan_out", "fanned_out": "add_units"}.get(cp.state)
        if action is None:
            notes.append(f"{cp.number} is {cp.state}; {', '.join(codes)} not added")
            continue
        res = service.act(session, cp, action, user, {"units": sorted(set(codes))}, cp.version, now)
        result.children += [c for c in res.children if c.kind != "common_problem"]
    _system_event(
        session,
        user,
        root,
        "push_down_rule",
        now,
        {
            "rule": {k: v for k, v in vars(rule_).items() if v},
            "matched": result.matched,
            "opened": [i.number for i in result.common_problems],
            "notes": notes,
        },
    )
    return result


def _descendants(session: Session, issue_id: int) -> list[Issue]:
    tree = select(Issue.id.label("id")).where(Issue.id == issue_id).cte("tree", recursive=True)
    tree = tree.union_all(select(Issue.id).where(Issue.parent_id == tree.c.id))
    return list(
        session.scalars(select(Issue).where(Issue.id.in_(select(tree.c.id)), Issue.id != issue_id))
    )


@dataclass
class Rollup:
    """Counts of a common problem's tree, level by level (depth 1 = its children)."""

    issue_id: int
    ancestors: list[dict[str, Any]]  # the chain above, root first: id, number, unit, state
    levels: list[dict[str, Any]]  # depth, unit levels, total, by state_kind, by stage
    total: int
    closed: int
    ongoing: int
    open: int
    completion_rate: float | None  # closed leaves / leaves (ongoing items are not closed)


def rollup(session: Session, issue_id: int) -> Rollup:
    """Roll a common problem's descendants up, per tree level (one recursive SQL query).

    Leaves are the descendants that are not themselves common problems: the units'
    rectification issues.  ``completion_rate`` = closed leaves / leaves (长期坚持 items
    never count as closed); None when there are no leaves yet.
    """
    tree = (
        select(Issue.id.label("id"), literal(0).label("depth"))
        .where(Issue.id == issue_id)
        .cte("tree", recursive=True)
    )
    tree = tree.union_all(select(Issue.id, tree.c.depth + 1).where(Issue.parent_id == tree.c.id))
    rows = session.execute(
        select(tree.c.depth, Unit.level, Issue.kind, Issue.state_kind, Issue.stage, func.count())
        .join(Issue, Issue.id == tree.c.id)
        .join(Unit, Unit.id == Issue.unit_id)
        .where(tree.c.depth > 0)
        .group_by(tree.c.depth, Unit.level, Issue.kind, Issue.state_kind, Issue.stage)
    ).all()
    levels: dict[int, dict[str, Any]] = {}
    leaves = {"open": 0, "ongoing": 0, "closed": 0}
    for depth, unit_level, kind, state_kind, stage, n in rows:
        lv = levels.setdefault(
            depth,
            {
                "depth": depth,
                "unit_levels": {},
                "total": 0,
                "by_state_kind": {},
                "by_stage": {},
                "common_problems": 0,
            },
        )
        lv["total"] += n
        lv["unit_levels"][unit_level] = lv["unit_levels"].get(unit_level, 0) + n
        lv["by_state_kind"][state_kind] = lv["by_state_kind"].get(state_kind, 0) + n
        lv["by_stage"][stage] = lv["by_stage"].get(stage, 0) + n
        if kind == "common_problem":
            lv["common_problems"] += n
        else:
            leaves[state_kind] = leaves.get(state_kind, 0) + n
    n_leaves = sum(leaves.values())
    return Rollup(
        issue_id=issue_id,
        ancestors=_ancestors(session, issue_id),
        levels=[levels[d] for d in sorted(levels)],
        total=n_leaves,
        closed=leaves["closed"],
        ongoing=leaves["ongoing"],
        open=leaves["open"],
        completion_rate=round(leaves["closed"] / n_leaves, 4) if n_leaves else None,
    )


def _ancestors(session: Session, issue_id: int) -> list[dict[str, Any]]:
    up = (
        select(Issue.parent_id.label("id"), literal(1).label("height"))
        .where(Issue.id == issue_id)
        .cte("up", recursive=True)
    )
    up = up.union_all(select(Issue.parent_id, up.c.height + 1).where(Issue.id == up.c.id))
    rows = session.execute(
        select(Issue.id, Issue.number, Unit.code, Issue.state, up.c.height)
        .join(up, up.c.id == Issue.id)
        .join(Unit, Unit.id == Issue.unit_id)
        .order_by(up.c.height.desc())
    ).all()
    return [{"id": r[0], "number": r[1], "unit": r[2], "state": r[3]} for r in rows]


# ====================================================================== shared information


def simultaneous_rounds(session: Session, round_id: int) -> list[Round]:
    """Other rounds whose dates overlap ``round_id``'s (an open end counts as still running)."""
    rnd = resolve_round(session, round_id)
    if rnd.starts_on is None:
        return []
    q = select(Round).where(
        Round.id != rnd.id,
        Round.starts_on.is_not(None),
        or_(Round.ends_on.is_(None), Round.ends_on >= rnd.starts_on),
    )
    if rnd.ends_on is not None:
        q = q.where(Round.starts_on <= rnd.ends_on)
    return list(session.scalars(q.order_by(Round.starts_on, Round.id)))


def shared_space(session: Session, unit_id: int, round_ids: Sequence[int]) -> list[Issue]:
    """The one information space of a unit inspected by several rounds at once.

    Every finding (problem leads excepted) of ``round_ids`` about ``unit_id`` or any unit
    inside it — e.g. a provincial 巡视 of a unit and the unit's 同步开展内部巡察.
    """
    unit = resolve_unit(session, unit_id)
    return list(
        session.scalars(
            select(Issue)
            .where(
                Issue.round_id.in_(list(round_ids)), _in_subtree(unit), Issue.restricted.is_(False)
            )
            .order_by(Issue.round_id, Issue.id)
        )
    )


def _targets(session: Session, team_ids: Any) -> list[tuple[int, Unit]]:
    return [
        (r, u)
        for r, u in session.execute(
            select(Team.round_id, Unit)
            .join(TeamTarget, TeamTarget.team_id == Team.id)
            .join(Unit, Unit.id == TeamTarget.unit_id)
            .where(team_ids)
        )
    ]


def visible_findings_clause(session: Session, team_id: int) -> ColumnElement[bool]:
    """SQL condition for the findings a team sees (for paged lists); see the function below."""
    team = session.get(Team, team_id)
    if team is None:
        raise LookupError(f"no team {team_id}")
    own = [u for _, u in _targets(session, Team.id == team.id)]
    parts = [
        and_(
            Issue.round_id == team.round_id,
            or_(Issue.team_id == team.id, *[_in_subtree(t) for t in own]),
        )
    ]
    sim = [r.id for r in simultaneous_rounds(session, team.round_id)]
    for round_id, other in _targets(session, Team.round_id.in_(sim)) if sim else []:
        for mine in own:
            if other.path.startswith(mine.path) or mine.path.startswith(other.path):
                shared = mine if other.path.startswith(mine.path) else other
                parts.append(
                    and_(Issue.round_id.in_([round_id, team.round_id]), _in_subtree(shared))
                )
    return and_(or_(*parts) if parts else false(), Issue.restricted.is_(False))


def visible_findings_for_team(session: Session, team_id: int) -> list[Issue]:
    """The findings a team sees: its round's, and a shared space with simultaneous rounds.

    = issues of the team's round for its targets (or recorded by the team), plus, for each
    simultaneous round (overlapping dates) with a target on the same branch of the tree as
    one of this team's targets (one contains the other), both rounds' issues in the higher
    of the two units' subtree — so a provincial team and the unit's internal inspection see
    each other's findings, both ways.  Problem leads never appear.
    """
    clause = visible_findings_clause(session, team_id)
    return list(session.scalars(select(Issue).where(clause).order_by(Issue.round_id, Issue.id)))


def earlier_findings(
    session: Session, unit_id: int, before: date, levels: Sequence[str] | None = None
) -> list[Issue]:
    """Findings of inspections of ``unit_id`` (or units inside it) that started before ``before``.

    ``levels`` keeps rounds of those levels only (e.g. the city and county rounds a
    provincial team reuses, 成果运用联动).  Problem leads never appear.
    """
    unit = resolve_unit(session, unit_id)
    q = (
        select(Issue)
        .join(Round, Round.id == Issue.round_id)
        .where(Round.starts_on < before, _in_subtree(unit), Issue.restricted.is_(False))
    )
    if levels is not None:
        q = q.where(Round.level.in_(list(levels)))
    return list(session.scalars(q.order_by(Round.starts_on, Issue.id)))


def earlier_findings_for_team(session: Session, team_id: int) -> dict[int, list[Issue]]:
    """Per target unit id: lower levels' findings from rounds before this team's round."""
    team = session.get(Team, team_id)
    if team is None:
        raise LookupError(f"no team {team_id}")
    rank = LEVEL_RANK.get(team.round.level, 0)
    lower = [lv for lv, r in LEVEL_RANK.items() if r > rank]
    before = team.round.starts_on or date.max
    return {
        u.id: earlier_findings(session, u.id, before, lower)
        for _, u in _targets(session, Team.id == team.id)
    }


# ====================================================================== relay inspection


def _earlier_round_ids(session: Session, rnd: Round) -> set[int]:
    ids: set[int] = set()
    prev = rnd.previous_round_id
    while prev is not None and prev not in ids:  # the chain of previous rounds
        ids.add(prev)
        prev = session.scalar(select(Round.previous_round_id).where(Round.id == prev))
    if rnd.starts_on is not None:
        ids |= set(session.scalars(select(Round.id).where(Round.starts_on < rnd.starts_on)))
    ids.discard(rnd.id)
    return ids


def carry_over(
    session: Session,
    from_round: Round | int | str,
    to_round: Round | int | str,
    issue_ids: Sequence[int],
    user: User,
    now: datetime,
) -> list[Issue]:
    """Carry selected items of an earlier round into a later one (接力式巡察); safe to repeat.

    Each item becomes a new issue of the same definition in ``to_round`` whose
    ``linked_issue_id`` points at the old item; its unit is the old one when it lies in
    the new round's organiser subtree, otherwise the organiser itself (a provincial common
    problem becomes the county's focus item).  Both issues get a ``carry_over`` event.
    Problem leads cannot be carried (they are restricted).
    """
    src, dst = resolve_round(session, from_round), resolve_round(session, to_round)
    if src.id == dst.id:
        raise Refused("a round cannot carry items over into itself")
    out = []
    for issue_id in issue_ids:
        old = session.get(Issue, issue_id)
        if old is None or old.round_id != src.id:
            raise Refused(f"issue {issue_id} is not an item of round {src.code}")
        if old.restricted:
            raise Refused(f"{old.number} is a problem lead; leads are not carried over")
        done = session.scalar(
            select(Issue).where(Issue.round_id == dst.id, Issue.linked_issue_id == old.id)
        )
        if done is not None:
            out.append(done)
            continue
        org = dst.organiser
        code = old.unit.code if old.unit_path.startswith(org.path) else org.code
        fields = {
            **_copy_fields(old, code),
            "round": dst.code,
            "due_on": None,
            "source": "巡视" if dst.kind == "xunshi" else "巡察",
            "supervising_leader": old.supervising_leader,
        }
        new = service.open_issue(session, old.definition.name, fields, user, now)
        new.linked_issue_id = old.id
        new.data = {**(new.data or {}), "carried_over_from": old.id}
        data = {"from_round": src.code, "to_round": dst.code, "old": old.number, "new": new.number}
        _system_event(session, user, new, "carry_over", now, data)
        _system_event(session, user, old, "carry_over", now, data)
        out.append(new)
    return out


@dataclass
class RelayItem:
    """An earlier round's item a relay team must look at, and the checks linked to it."""

    target: Unit
    issue: Issue
    reason: str  # open | ongoing | relapsed
    checks: list[int] = field(default_factory=list)  # ids of newer issues linked to it


def relay_view(
    session: Session, team_id: int, settings: LinkageSettings = DEFAULT_SETTINGS
) -> list[RelayItem]:
    """What a relay round's team inherits: every target's open, ongoing and relapsed items.

    Items of earlier rounds (the ``previous_round_id`` chain, and rounds that started
    earlier) about a target unit or any unit inside it, whose state kind is in
    ``settings.relay_states`` or which relapsed at least once (反弹回潮, see
    :func:`~workflow.network_stats.relapsed_clause`).  Closed items that
    held are left out; problem leads never appear.
    """
    team = session.get(Team, team_id)
    if team is None:
        raise LookupError(f"no team {team_id}")
    earlier = _earlier_round_ids(session, team.round)
    out: list[RelayItem] = []
    for _, target in _targets(session, Team.id == team.id):
        rows = session.execute(
            select(Issue, relapsed_clause())
            .where(
                Issue.round_id.in_(earlier),
                _in_subtree(target),
                Issue.restricted.is_(False),
                or_(Issue.state_kind.in_(settings.relay_states), relapsed_clause()),
            )
            .order_by(Issue.round_id, Issue.id)
        ).all()
        links: dict[int, list[int]] = {}
        for new_id, old_id in session.execute(
            select(Issue.id, Issue.linked_issue_id).where(
                Issue.linked_issue_id.in_([i.id for i, _ in rows])
            )
        ):
            if old_id is not None:
                links.setdefault(old_id, []).append(new_id)
        out += [
            RelayItem(target, i, "relapsed" if relapsed else i.state_kind, links.get(i.id, []))
            for i, relapsed in rows
        ]
    return out


def link_check(
    session: Session, new_issue: Issue, old_issue: Issue, user: User, now: datetime
) -> Issue:
    """Link a new check to the earlier item it re-examines (``linked_issue_id``), audited.

    The old item must be older, about the same unit or a unit on the same branch, and not
    a problem lead; only an office over the new issue's unit may link.  The new issue's
    version moves on, so an open form sees the change.
    """
    if new_issue.id == old_issue.id:
        raise Refused("an issue cannot be linked to itself")
    if new_issue.restricted or old_issue.restricted:
        raise Refused("problem leads are not linked between rounds")
    if old_issue.opened_at > new_issue.opened_at:
        raise Refused(f"{old_issue.number} is newer than {new_issue.number}")
    if not (
        new_issue.unit_path.startswith(old_issue.unit_path)
        or old_issue.unit_path.startswith(new_issue.unit_path)
    ):
        raise Refused(f"{old_issue.number} concerns another unit than {new_issue.number}")
    if not any(
        m.role == "office" and new_issue.unit_path.startswith(m.unit.path) for m in user.memberships
    ):
        raise Refused("only the inspection office over the unit may link checks")
    if new_issue.linked_issue_id == old_issue.id:
        return new_issue
    before = new_issue.linked_issue_id
    new_issue.linked_issue_id = old_issue.id
    new_issue.version += 1
    new_issue.updated_at = now
    _system_event(
        session,
        user,
        new_issue,
        "link_check",
        now,
        {
            "linked_issue_id": old_issue.id,
            "old": old_issue.number,
            "replaced": before,
            "v": new_issue.version,
        },
    )
    return new_issue
