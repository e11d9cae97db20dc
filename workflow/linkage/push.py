"""Task linkage (任务部署联动, 三级联动): push a provincial finding down the unit tree as a
tree of common problems, one per tier (province → city → county), whose leaves are the
matching units' rectification issues.  Every child is opened through ``workflow.service``.
Must not import flask.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from workflow import service
from workflow.linkage.common import (
    Refused,
    copy_fields,
    require_office,
    resolve_unit,
    system_event,
)
from workflow.linkage.settings import DEFAULT_SETTINGS, LinkageSettings
from workflow.messages import N_, Message, Text
from workflow.models import Issue, Unit, User
from workflow.org.scope import can_see

UNKNOWN_KEYS = Text("linkage_push_unknown_keys", N_("unknown rule keys: %(keys)s"))
EMPTY_RULE = Text(
    "linkage_push_empty_rule",
    N_("a push-down rule needs codes, levels, name_contains or code_suffix"),
)
OUTSIDE_ROOT = Text("linkage_push_outside_root", N_("%(under)s lies outside %(root)s"))
NO_SUCH_CODE = Text(
    "linkage_push_no_such_unit", N_("%(code)s: no such unit under %(scope)s, skipped")
)
NOTHING_MATCHES = Text("linkage_push_no_match", N_("no unit under %(scope)s matches the rule"))
CLOSED_ROOT = Text("linkage_push_closed", N_("common problem %(number)s is closed; open a new one"))
SOURCE_OUTSIDE = Text(
    "linkage_push_source_outside", N_("finding %(number)s lies outside your scope")
)
ONLY_PUSH = Text(
    "linkage_office_only_push",
    N_("only the inspection office of %(unit)s or above may push its findings down"),
)
NOT_ADDED = Text("linkage_push_not_added", N_("%(number)s is %(state)s; %(codes)s not added"))


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
                raise ValueError(UNKNOWN_KEYS(keys=sorted(unknown)))
            return cls(
                codes=tuple(value.get("codes") or ()),
                levels=tuple(value.get("levels") or ()),
                name_contains=value.get("name_contains"),
                code_suffix=value.get("code_suffix"),
                under=value.get("under"),
            )
        return cls(codes=tuple(value))


def matching_units(
    session: Session, rule: PushRule, root: Unit
) -> tuple[list[Unit], list[Message]]:
    """The units ``rule`` selects strictly inside ``root``'s subtree, and notes on misses."""
    notes: list[Message] = []
    scope = root
    if rule.under:
        scope = resolve_unit(session, rule.under)
        if not scope.path.startswith(root.path):
            return [], [OUTSIDE_ROOT(under=rule.under, root=root.code)]
    q = select(Unit).where(Unit.path.startswith(scope.path, autoescape=True), Unit.id != root.id)
    if rule.codes:
        found = list(session.scalars(q.where(Unit.code.in_(rule.codes)).order_by(Unit.path)))
        missing = set(rule.codes) - {u.code for u in found}
        notes += [NO_SUCH_CODE(code=code, scope=scope.code) for code in sorted(missing)]
        return found, notes
    if not (rule.levels or rule.name_contains or rule.code_suffix):
        raise ValueError(EMPTY_RULE())
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
        notes.append(NOTHING_MATCHES(scope=scope.code))
    return found, notes


@dataclass
class PushResult:
    """What :func:`push_down` did."""

    root: Issue
    common_problems: list[Issue] = field(default_factory=list)  # the tier parents it opened
    children: list[Issue] = field(default_factory=list)  # the units' rectification issues
    matched: list[str] = field(default_factory=list)
    notes: list[Message] = field(default_factory=list)


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
    if isinstance(source, Issue) and not can_see(user, source):
        raise Refused(SOURCE_OUTSIDE(number=source.number))
    root = _root_problem(session, source, user, now)
    # every target lies under the root, so an office over the root reaches them all
    require_office(user, root.unit, ONLY_PUSH)
    if root.state_kind == "closed":
        raise Refused(CLOSED_ROOT(number=root.number))
    units, notes = matching_units(session, rule_, root.unit)
    result = PushResult(root, matched=[u.code for u in units], notes=notes)
    tiers = _tier_units(session, units, root, settings)
    node, wanted = _open_tiers(session, root, units, tiers, user, now, result)
    _fan_out(session, node, wanted, user, now, result)
    system_event(
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


def _root_problem(
    session: Session, source: Issue | Mapping[str, Any], user: User, now: datetime
) -> Issue:
    """The root common problem: ``source`` itself, one opened from it, or one from fields."""
    if isinstance(source, Issue) and source.kind == "common_problem":
        return source
    if not isinstance(source, Issue):
        return service.open_issue(session, "common_problem", source, user, now)
    unit = (
        source.round.organiser
        if source.round
        else resolve_unit(session, int(source.unit_path.strip("/").split("/")[0]))
    )
    root = service.open_issue(session, "common_problem", copy_fields(source, unit.code), user, now)
    root.data = {**(root.data or {}), "pushed_down_from": source.id}
    system_event(
        session,
        user,
        source,
        "push_down",
        now,
        {"common_problem": root.id, "number": root.number},
    )
    return root


def _tier_units(
    session: Session, units: list[Unit], root: Issue, settings: LinkageSettings
) -> dict[int, Unit]:
    """The ancestors of ``units`` below the root's unit that get their own common problem."""
    ancestor_ids = {int(p) for u in units for p in u.path.strip("/").split("/")}
    return {
        u.id: u
        for u in session.scalars(select(Unit).where(Unit.id.in_(ancestor_ids)))
        if u.level in settings.push_tiers and u.depth > root.unit.depth
    }


def _open_tiers(
    session: Session,
    root: Issue,
    units: list[Unit],
    tiers: dict[int, Unit],
    user: User,
    now: datetime,
    result: PushResult,
) -> tuple[dict[int, Issue], dict[int, list[str]]]:
    """Find or open each tier's common problem; what each must fan out to that it lacks.

    Returns unit id → its common problem, and common problem id → unit codes to add.
    """
    node: dict[int, Issue] = {root.unit_id: root}
    wanted: dict[int, list[str]] = {}
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
                        copy_fields(root, tier.code),
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
    return node, wanted


def _fan_out(
    session: Session,
    node: dict[int, Issue],
    wanted: dict[int, list[str]],
    user: User,
    now: datetime,
    result: PushResult,
) -> None:
    """Spawn the wanted children through each common problem's fan_out / add_units action."""
    by_id = {i.id: i for i in node.values()}
    for cp_id, codes in wanted.items():
        cp = by_id[cp_id]
        action = {"draft": "fan_out", "fanned_out": "add_units"}.get(cp.state)
        if action is None:
            result.notes.append(NOT_ADDED(number=cp.number, state=cp.state, codes=codes))
            continue
        res = service.act(session, cp, action, user, {"units": sorted(set(codes))}, cp.version, now)
        result.children += [c for c in res.children if c.kind != "common_problem"]


def _descendants(session: Session, issue_id: int) -> list[Issue]:
    """Every issue below ``issue_id`` in its tree (children, grandchildren, ...)."""
    tree = select(Issue.id.label("id")).where(Issue.id == issue_id).cte("tree", recursive=True)
    tree = tree.union_all(select(Issue.id).where(Issue.parent_id == tree.c.id))
    return list(
        session.scalars(select(Issue).where(Issue.id.in_(select(tree.c.id)), Issue.id != issue_id))
    )
