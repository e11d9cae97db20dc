"""The read side: lists, queues, per-unit progress and statistics, as SQL aggregates.

Owns every query the web pages, exports and reports read from, so that each figure has one
definition ("one definition of every statistic", BRIEF §6): the board's roll-ups and the
statistics page call the same :func:`unit_progress`.  Every query is filtered by
:func:`workflow.org.scope.visible_clause`; nothing here loops in Python over all rows.
Must not import flask.

Definitions:
- an *issue* counted on boards and statistics is a ``rectification`` issue (common-problem
  parents are counted through their children; problem leads have their own figures);
- *done* (已销号) is a state of kind ``closed``; ``ongoing`` (长期坚持) never counts as done;
- the *completion rate* is done / all;
- *overdue* is an open issue whose earliest running deadline (``due_at``) has passed.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.visitors import replacement_traverse

from workflow.definition import Definition
from workflow.definition.registry import definition_of
from workflow.models import (
    DefinitionVersion,
    Escalation,
    Evidence,
    InboxMessage,
    Issue,
    Letter,
    Measure,
    Membership,
    Round,
    Unit,
    User,
)
from workflow.org.scope import UNIT_ROLES, is_recused, membership_clause, path_range, visible_clause

STAGES = ("transfer", "handling", "correction", "verification", "closed", "followup", "archived")
COUNTED_KIND = "rectification"
LEDGER_KINDS = ("rectification", "common_problem")
PAGE_SIZE = 25
SORTS = {
    "due": (Issue.due_at.is_(None), Issue.due_at, Issue.id),
    "-due": (Issue.due_at.is_(None), Issue.due_at.desc(), Issue.id),
    "number": (Issue.number,),
    "-number": (Issue.number.desc(),),
    "updated": (Issue.updated_at.desc(), Issue.id.desc()),
    "opened": (Issue.opened_at.desc(), Issue.id.desc()),
    "progress": (Issue.progress, Issue.id),
    "-progress": (Issue.progress.desc(), Issue.id),
}


def done_clause() -> ColumnElement[bool]:
    """An issue counts as done (已销号): its state is of kind closed."""
    return Issue.state_kind == "closed"


def overdue_clause(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """An issue is overdue: open, with its earliest running deadline in the past."""
    return and_(Issue.state_kind == "open", Issue.due_at.is_not(None), Issue.due_at < now)


# ---------------------------------------------------------------------------------- filters


@dataclass(frozen=True)
class Filters:
    """Ledger, board and statistics filters (all optional)."""

    round_id: int | None = None
    unit_id: int | None = None  # the unit's whole subtree
    category: str | None = None
    stage: str | None = None
    deadline_type: str | None = None
    warning: str | None = None  # green | yellow | red
    overdue: bool = False
    level: str | None = None  # the round's level: province | city | county
    q: str | None = None


def filter_clauses(session: Session, f: Filters, now: datetime) -> list[ColumnElement[bool]]:
    """SQL conditions for the filters ``f`` (the ledger, board, statistics and API share them)."""
    out: list[ColumnElement[bool]] = []
    if f.round_id:
        out.append(Issue.round_id == f.round_id)
    if f.level:
        out.append(Issue.round_id.in_(select(Round.id).where(Round.level == f.level)))
    if f.unit_id:
        path = session.scalar(select(Unit.path).where(Unit.id == f.unit_id))
        out.append(path_range(Issue.unit_path, path) if path else false())
    if f.category:
        out.append(Issue.category == f.category)
    if f.stage:
        out.append(Issue.stage == f.stage)
    if f.deadline_type:
        out.append(Issue.deadline_type == f.deadline_type)
    if f.warning:
        out.append(Issue.warning_level == f.warning)
    if f.overdue:
        out.append(overdue_clause(now))
    if f.q:
        like = f"%{f.q.strip()}%"
        out.append(
            or_(
                Issue.number.ilike(like, escape="\\"),
                Issue.title.ilike(like, escape="\\"),
                Issue.description.ilike(like, escape="\\"),
                Issue.category.ilike(like, escape="\\"),
            )
        )
    return out


def escape_like(text: str) -> str:
    """``text`` with LIKE wildcards escaped (use with ``escape='\\\\'``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# ---------------------------------------------------------------------------------- pages


@dataclass
class Page:
    """One page of a list, with what is needed to draw the pager."""

    items: Sequence[Any]
    total: int
    page: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        """The number of pages (at least 1)."""
        return max(1, -(-self.total // self.size))

    @property
    def has_prev(self) -> bool:
        """Whether there is a page before this one."""
        return self.page > 1

    @property
    def has_next(self) -> bool:
        """Whether there is a page after this one."""
        return self.page < self.pages


def paginate(session: Session, stmt: Select[Any], page: int, size: int = PAGE_SIZE) -> Page:
    """Run ``stmt`` for one page and count all its rows."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = max(1, min(page, max(1, -(-total // size))))
    items = session.scalars(stmt.limit(size).offset((page - 1) * size)).unique().all()
    return Page(items, total, page, size)


def ledger(
    session: Session, user: User, f: Filters, now: datetime, sort: str = "due", page: int = 1
) -> Page:
    """The 整改台账: issues in ``user``'s scope matching ``f``, sorted, one page."""
    f = replace(f, q=escape_like(f.q) if f.q else None)
    stmt = (
        select(Issue)
        .where(visible_clause(user), Issue.kind.in_(LEDGER_KINDS), *filter_clauses(session, f, now))
        .order_by(*SORTS.get(sort, SORTS["due"]))
    )
    return paginate(session, stmt, page)


def leads(session: Session, user: User, page: int = 1, q: str | None = None) -> Page:
    """Problem leads in ``user``'s scope (only discipline and the office have any)."""
    stmt = select(Issue).where(visible_clause(user), Issue.kind == "problem_lead")
    if q:
        like = f"%{escape_like(q.strip())}%"
        stmt = stmt.where(
            or_(Issue.number.ilike(like, escape="\\"), Issue.title.ilike(like, escape="\\"))
        )
    return paginate(session, stmt.order_by(Issue.opened_at.desc(), Issue.id.desc()), page)


def get_visible(session: Session, user: User, issue_id: int) -> Issue | None:
    """The issue if ``user`` may see it, else None (callers answer 404)."""
    return session.scalar(select(Issue).where(Issue.id == issue_id, visible_clause(user)))


def categories(session: Session, user: User) -> list[str]:
    """The categories in use among the issues ``user`` sees."""
    return list(
        session.scalars(
            select(Issue.category)
            .where(visible_clause(user), Issue.category.is_not(None))
            .distinct()
            .order_by(Issue.category)
        )
    )


def rounds(session: Session) -> list[Round]:
    """Every inspection round, newest first."""
    return list(session.scalars(select(Round).order_by(Round.id.desc())))


# ---------------------------------------------------------------------------------- my work


@lru_cache(maxsize=128)
def _role_states(version: str, source: str, filename: str) -> dict[str, frozenset[str]]:
    d: Definition = definition_of(
        DefinitionVersion(version=version, source=source, filename=filename)
    )
    out: dict[str, set[str]] = {}
    for action in d.actions.values():
        for role in action.roles:
            out.setdefault(role, set()).update(action.sources)
    return {role: frozenset(states) for role, states in out.items()}


def _definition_roles(session: Session) -> list[tuple[int, dict[str, frozenset[str]]]]:
    rows = session.execute(
        select(DefinitionVersion.id, DefinitionVersion.version, DefinitionVersion.source,
               DefinitionVersion.filename)
    ).all()  # fmt: skip
    return [(r.id, _role_states(r.version, r.source, r.filename)) for r in rows]


def waiting_clause(
    session: Session, user: User, roles: Iterable[str] | None = None
) -> ColumnElement[bool]:
    """Issues on which one of ``user``'s memberships has an action in the current state.

    For each definition version: which states each role can act from; then each membership's
    scope (a unit user acts only for the lead unit).  The data-dependent guards (evidence,
    separation of duties) are checked when the action is submitted.
    """
    wanted = set(roles) if roles is not None else None
    per_version = _definition_roles(session)
    parts = []
    for m in user.memberships:
        if wanted is not None and m.role not in wanted:
            continue
        states = [
            and_(Issue.definition_id == dv_id, Issue.state.in_(sorted(by_role[m.role])))
            for dv_id, by_role in per_version
            if m.role in by_role
        ]
        if not states:
            continue
        scope = membership_clause(m, user.id)
        if m.role in UNIT_ROLES:
            scope = and_(scope, Issue.unit_id == m.unit_id)
        if m.role == "spot_check":
            scope = and_(scope, not_(_own_unit(m.unit)))
        parts.append(and_(scope, or_(*states)))
    return or_(*parts) if parts else false()


def _own_unit(unit: Unit) -> ColumnElement[bool]:
    """回避 in SQL: the reviewer's unit lies in the issue's lead unit's subtree."""
    return literal(unit.path).startswith(Issue.unit_path)


def my_work(
    session: Session, user: User, page: int = 1, roles: Iterable[str] | None = None
) -> Page:
    """Everything waiting for ``user`` (or for some of their roles), earliest deadline first."""
    stmt = (
        select(Issue)
        .where(visible_clause(user), waiting_clause(session, user, roles))
        .order_by(Issue.due_at.is_(None), Issue.due_at, Issue.id)
    )
    return paginate(session, stmt, page)


def supervisor_queue(session: Session, user: User, page: int = 1) -> Page:
    """Plans, extensions and close-outs waiting for ``user`` as a supervisor."""
    return my_work(session, user, page, roles=("supervisor",))


def checker_queue(session: Session, user: User, page: int = 1) -> Page:
    """Follow-up visits assigned to ``user`` as a spot-check team member."""
    return my_work(session, user, page, roles=("spot_check",))


def reverse_check_sample(
    session: Session, user: User, n: int = 10, seed: int | None = None
) -> list[Issue]:
    """A random sample of closed items for reverse checks, never of the reviewer's own unit.

    Drawn among closed (已销号) rectification issues outside every spot-check post's unit and
    the units above it; the ids are sampled in SQL, then checked with :func:`is_recused`.
    """
    posts = [m for m in user.memberships if m.role == "spot_check"]
    if not posts:
        return []
    conds = [Issue.kind == COUNTED_KIND, Issue.restricted.is_(False), Issue.stage == "closed"]
    for m in posts:
        conds += [
            not_(path_range(Issue.unit_path, m.unit.path)),
            not_(_own_unit(m.unit)),
        ]
    ids = list(session.scalars(select(Issue.id).where(*conds).order_by(Issue.id).limit(5000)))
    rng = random.Random(seed)
    chosen = rng.sample(ids, min(n, len(ids)))
    issues = session.scalars(select(Issue).where(Issue.id.in_(chosen)).order_by(Issue.id)).all()
    return [i for i in issues if not any(is_recused(m.unit, i) for m in posts)]


# ---------------------------------------------------------------------------------- progress


@dataclass
class Progress:
    """Counts of one unit's subtree (or the whole scope)."""

    unit_id: int | None
    name: str
    code: str
    level: str
    has_children: bool
    total: int = 0
    done: int = 0
    ongoing: int = 0
    overdue: int = 0
    yellow: int = 0
    red: int = 0
    completed: int = 0  # 已完成
    substantially: int = 0  # 基本完成
    by_stage: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """The completion rate (完成率): done / all, 0 when there is nothing."""
        return self.done / self.total if self.total else 0.0

    @property
    def not_completed(self) -> int:
        """Issues not done (未完成)."""
        return self.total - self.done


def _aggregates(
    now: datetime | ColumnElement[datetime], joined: bool = True, stages: bool = True
) -> list[Any]:
    """The counts of a progress line, as aggregate columns over matching issues.

    ``count(…) FILTER (WHERE …)``: cheaper per row than summing a CASE (~10 % of the board
    query on PostgreSQL), and 0 rather than NULL.  Issues joined to units are counted by id
    (an empty outer join gives one row of NULLs); a plain scan counts rows, a little cheaper.
    Without ``stages`` the count per stage is left to a GROUP BY stage.
    """
    total = func.count(Issue.id) if joined else func.count()

    def n(cond: ColumnElement[bool]) -> Any:
        return total.filter(cond)

    return [
        total.label("total"),
        n(done_clause()).label("done"),
        n(Issue.state_kind == "ongoing").label("ongoing"),
        n(overdue_clause(now)).label("overdue"),
        n(Issue.warning_level == "yellow").label("yellow"),
        n(Issue.warning_level == "red").label("red"),
        n(Issue.completion == "已完成").label("completed"),
        n(Issue.completion == "基本完成").label("substantially"),
        *[n(Issue.stage == s).label(f"s_{s}") for s in (STAGES if stages else ())],
    ]


# the aggregates of the board's scan, built once (``now`` is bound at execution)
_PROGRESS = _aggregates(
    bindparam("progress_now", type_=Issue.due_at.type), joined=False, stages=False
)


def _issue_conditions(session: Session, user: User, f: Filters, now: datetime) -> list[Any]:
    return [visible_clause(user), Issue.kind == COUNTED_KIND, *filter_clauses(session, f, now)]


def unit_progress(
    session: Session, user: User, unit_ids: Sequence[int], now: datetime, f: Filters = Filters()
) -> list[Progress]:
    """Counts per unit of ``unit_ids``, each rolled up over its whole subtree (path prefix).

    One unit, or siblings (the children of one unit), take one scan of a subtree; any other
    mix of units takes the general join.
    """
    if not unit_ids:
        return []
    units = _unit_lines(session, _UNITS_BY_ID, ids=list(unit_ids))
    if len(units) == 1:
        u = units[0]
        counts = _subtree_counts(session, user, u.path, now, f, by_child=False)
        return [_line(u, counts.get(u.path))]
    if len({u.parent_id for u in units}) == 1 and units[0].parent_id is not None:
        counts = _subtree_counts(session, user, _parent_path(units[0].path), now, f)
        return [_line(u, counts.get(u.path)) for u in units]
    return joined_progress(session, user, unit_ids, now, f)


def unit_board(
    session: Session, user: User, unit: Unit, now: datetime, f: Filters = Filters()
) -> tuple[Progress, list[Progress]]:
    """The board of ``unit``: its own line and one line per child, from one scan.

    The same figures as :func:`unit_progress` for ``[unit]`` and for its children: the
    unit's line adds up every group of the scan (its own issues included).
    """
    counts = _subtree_counts(session, user, unit.path, now, f)
    children = _unit_lines(session, _CHILDREN, parent=unit.id)
    own = _UnitLine(unit.id, unit.name, unit.code, unit.level, unit.path, unit.parent_id,
                    bool(children))  # fmt: skip
    rows = [_line(c, counts.get(c.path)) for c in children]
    return _line(own, _sum_counts(counts.values())), rows


@dataclass(frozen=True)
class _UnitLine:
    """What a progress line shows of its unit."""

    id: int
    name: str
    code: str
    level: str
    path: str
    parent_id: int | None
    kids: bool


def _unit_lines(session: Session, stmt: Executable, **params: Any) -> list[_UnitLine]:
    """The units ``stmt`` selects, with whether each has children."""
    return [_UnitLine(*r) for r in session.execute(stmt, params)]


def _unit_lines_stmt(where: ColumnElement[bool]) -> Executable:
    """Units matching ``where`` and whether each has children, by code."""
    child = aliased(Unit)
    kids = select(child.id).where(child.parent_id == Unit.id).exists()
    return (
        select(Unit.id, Unit.name, Unit.code, Unit.level, Unit.path, Unit.parent_id,
               kids.label("kids"))
        .where(where)
        .order_by(Unit.code)
    )  # fmt: skip


# built once: the board runs them on every refresh
_UNITS_BY_ID = _unit_lines_stmt(Unit.id.in_(bindparam("ids", expanding=True)))
_CHILDREN = _unit_lines_stmt(Unit.parent_id == bindparam("parent"))


def _parent_path(path: str) -> str:
    """``/1/5/23/`` → ``/1/5/``."""
    return path[: path.rstrip("/").rindex("/") + 1]


COUNTS = ("total", "done", "ongoing", "overdue", "yellow", "red", "completed", "substantially",
          *[f"s_{s}" for s in STAGES])  # fmt: skip
Counts = dict[str, int]
_SCAN_COUNTS = COUNTS[: -len(STAGES)]  # the stages come from GROUP BY stage


def _subtree_counts(
    session: Session, user: User, path: str, now: datetime, f: Filters, by_child: bool = True
) -> dict[str, Counts]:
    """One scan of the subtree at ``path``: the aggregates per child's path.

    The unit's own issues are keyed by ``path`` itself; with ``by_child`` false everything is.
    """
    sqlite = session.get_bind().dialect.name == "sqlite"
    key = _child_key(path, sqlite) if by_child else literal(path)
    # grouped by stage too: 8 aggregates a row instead of 15 (~15 % of the query on PostgreSQL)
    rows = session.execute(
        select(key.label("k"), Issue.stage.label("stage"), *_PROGRESS)
        .where(_scan_clause(path, user, sqlite), *filter_clauses(session, f, now))
        .group_by(literal_column("k"), Issue.stage),
        {"progress_now": now},
    ).all()
    out: dict[str, Counts] = {}
    for r in rows:
        counts = out.setdefault(r.k, dict.fromkeys(COUNTS, 0))
        for name in _SCAN_COUNTS:
            counts[name] += r._mapping[name]
        if r.stage in STAGES:
            counts[f"s_{r.stage}"] += r.total
    return out


def _child_key(path: str, sqlite: bool) -> ColumnElement[str]:
    """SQL: the path of the child of ``path`` whose subtree holds the issue (else ``path``).

    Under ``/1/5/``, an issue of ``/1/5/23/40/`` gives ``/1/5/23/``; one of ``/1/5/`` itself
    gives ``/1/5/`` (no '/' after the prefix).
    """
    n = len(path)
    rest = func.substr(Issue.unit_path, n + 1)
    slash = func.instr(rest, "/") if sqlite else func.strpos(rest, "/")
    return func.substr(Issue.unit_path, 1, n + slash)


def _likely(clause: ColumnElement[bool]) -> ColumnElement[bool]:
    """SQLite's planner hint: ``clause`` holds for most rows (so scan rather than seek)."""
    return func.likelihood(clause, literal_column("0.95"), type_=Boolean)


def _scan_clause(path: str, user: User, sqlite: bool) -> ColumnElement[bool]:
    """Counted issues in the subtree at ``path`` that ``user`` sees, worded for the planner.

    The values are inlined so that the plan sees how much of the table the ranges cover, even
    a prepared statement's generic plan on PostgreSQL (which guesses 0.5 % for a range of
    unknown bounds, then walks the index and sorts a whole province).
    """
    subtree, visible = path_range(Issue.unit_path, path), visible_clause(user)
    if sqlite:
        # SQLite has no statistics on ranges: it would walk the unit_path index over a root's
        # subtree (every row fetched by rowid, ~1.5× slower than reading the table through).
        # The scope is never narrower than the subtree (the unit is in the user's reach).
        visible = _likely(visible)
        if path.count("/") == 2:
            subtree = _likely(subtree)
    return _inlined(and_(subtree, visible, Issue.kind == COUNTED_KIND))


def _inlined(clause: ColumnElement[bool]) -> ColumnElement[bool]:
    """``clause`` with its bound values rendered into the SQL text (ids and paths only)."""

    def inline(element: Any, **_kw: Any) -> Any:
        if isinstance(element, BindParameter):
            return literal(element.value, element.type, literal_execute=True)
        return None

    return replacement_traverse(clause, {}, inline)


def _sum_counts(groups: Iterable[Counts]) -> Counts:
    """The aggregates of several groups added up."""
    out = dict.fromkeys(COUNTS, 0)
    for g in groups:
        for name in COUNTS:
            out[name] += g[name]
    return out


def _line(u: _UnitLine, c: Counts | None) -> Progress:
    """A unit's progress line from its aggregates (zeros when no issue matched)."""
    c = c or dict.fromkeys(COUNTS, 0)
    return Progress(
        u.id, u.name, u.code, u.level, bool(u.kids),
        total=c["total"], done=c["done"], ongoing=c["ongoing"], overdue=c["overdue"],
        yellow=c["yellow"], red=c["red"], completed=c["completed"],
        substantially=c["substantially"], by_stage={s: c[f"s_{s}"] for s in STAGES},
    )  # fmt: skip


def joined_progress(
    session: Session, user: User, unit_ids: Sequence[int], now: datetime, f: Filters
) -> list[Progress]:
    """The general case: each unit joined with the issues of its subtree."""
    u = aliased(Unit)
    child = aliased(Unit)
    has_children = select(func.count(child.id)).where(child.parent_id == u.id).scalar_subquery()
    joined = and_(path_range(Issue.unit_path, u.path), *_issue_conditions(session, user, f, now))
    rows = session.execute(
        select(u.id, u.name, u.code, u.level, has_children.label("kids"), *_aggregates(now))
        .select_from(u)
        .outerjoin(Issue, joined)
        .where(u.id.in_(list(unit_ids)))
        .group_by(u.id, u.name, u.code, u.level)
        .order_by(u.code)
    ).all()
    return [_progress(r, r.id, r.name, r.code, r.level, bool(r.kids)) for r in rows]


def scope_progress(
    session: Session, user: User, now: datetime, f: Filters = Filters(), name: str = ""
) -> Progress:
    """Counts over everything ``user`` sees (matching ``f``)."""
    row = session.execute(
        select(*_aggregates(now)).where(*_issue_conditions(session, user, f, now))
    ).one()
    return _progress(row, None, name, "", "", False)


def _progress(
    row: Any, unit_id: int | None, name: str, code: str, level: str, kids: bool
) -> Progress:
    return Progress(
        unit_id, name, code, level, kids,
        total=row.total, done=row.done, ongoing=row.ongoing, overdue=row.overdue,
        yellow=row.yellow, red=row.red, completed=row.completed, substantially=row.substantially,
        by_stage={s: getattr(row, f"s_{s}") for s in STAGES},
    )  # fmt: skip


def child_units(session: Session, unit_id: int) -> list[int]:
    """Ids of the direct children of a unit."""
    return list(
        session.scalars(select(Unit.id).where(Unit.parent_id == unit_id).order_by(Unit.code))
    )


def root_units(user: User) -> list[Unit]:
    """The top units of ``user``'s memberships (a unit inside another one is left out)."""
    units = sorted({m.unit.id: m.unit for m in user.memberships}.values(), key=lambda u: u.path)
    out: list[Unit] = []
    for unit in units:
        if not any(unit.path.startswith(top.path) for top in out):
            out.append(unit)
    return out


def unit_in_reach(session: Session, user: User, unit_id: int) -> Unit | None:
    """The unit if it lies inside one of ``user``'s membership units, else None."""
    unit = session.get(Unit, unit_id)
    if unit is None or not any(unit.path.startswith(r.path) for r in root_units(user)):
        return None
    return unit


def ancestors(session: Session, unit: Unit) -> list[Unit]:
    """The unit's ancestors, root first (for breadcrumbs)."""
    ids = [int(p) for p in unit.path.strip("/").split("/")[:-1] if p]
    found = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


# ---------------------------------------------------------------------------------- statistics


@dataclass
class Statistics:
    """The BRIEF §5 figures for one scope (round, level, unit subtree)."""

    progress: Progress
    by_category: list[tuple[str, int, int]]  # (category, all, done)
    by_round: list[tuple[str, int, int]]
    measures: int
    rules_written: int
    money_recovered: Any
    people_handled: int
    relapses: int
    leads: int
    leads_by_cadre: list[tuple[str, int]]
    leads_disposed: int
    cases_opened: int
    sanctions: int
    org_measures: int
    letters: dict[str, int]
    escalations: dict[str, int]
    monthly: list[tuple[str, int, int]]  # (YYYY-MM, opened that month, closed that month)


def statistics(session: Session, user: User, now: datetime, f: Filters = Filters()) -> Statistics:
    """Every BRIEF §5 figure for the issues ``user`` sees matching ``f``."""
    conds = _issue_conditions(session, user, f, now)
    progress = (
        unit_progress(session, user, [f.unit_id], now, replace(f, unit_id=None))[0]
        if f.unit_id
        else scope_progress(session, user, now, f)
    )
    done = func.coalesce(func.sum(case((done_clause(), 1), else_=0)), 0)
    cat = func.coalesce(Issue.category, "—")
    by_category = [
        (r[0], r[1], r[2])
        for r in session.execute(
            select(cat, func.count(), done)
            .where(*conds)
            .group_by(cat)
            .order_by(func.count().desc())
        )
    ]
    by_round = [
        (r[0] or "—", r[1], r[2])
        for r in session.execute(
            select(Round.name, func.count(), done)
            .select_from(Issue)
            .outerjoin(Round, Round.id == Issue.round_id)
            .where(*conds)
            .group_by(Round.name)
            .order_by(Round.name)
        )
    ]
    sums = session.execute(
        select(
            func.coalesce(func.sum(Issue.rules_written), 0),
            func.coalesce(func.sum(Issue.money_recovered), 0),
            func.coalesce(func.sum(Issue.people_handled), 0),
            func.coalesce(func.sum(Issue.relapse_count), 0),
        ).where(*conds)
    ).one()
    ids = select(Issue.id).where(*conds)
    measures = session.scalar(select(func.count()).where(Measure.issue_id.in_(ids))) or 0
    lead_conds = [visible_clause(user), Issue.kind == "problem_lead",
                  *filter_clauses(session, f, now)]  # fmt: skip
    lead_row = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((Issue.disposition.is_not(None), 1), else_=0)), 0),
            func.coalesce(func.sum(Issue.cases_opened), 0),
            func.coalesce(func.sum(Issue.sanctions), 0),
            func.coalesce(func.sum(Issue.org_measures), 0),
        ).where(*lead_conds)
    ).one()
    cadre = func.coalesce(Issue.cadre_level, "—")
    by_cadre = [
        (r[0], r[1])
        for r in session.execute(select(cadre, func.count()).where(*lead_conds).group_by(cadre))
    ]
    all_ids = select(Issue.id).where(visible_clause(user), *filter_clauses(session, f, now))
    letters = dict(
        session.execute(  # type: ignore[arg-type]
            select(Letter.kind, func.count())
            .where(Letter.issue_id.in_(all_ids))
            .group_by(Letter.kind)
        ).all()
    )
    escalations = dict(
        session.execute(  # type: ignore[arg-type]
            select(Escalation.level, func.count())
            .where(Escalation.issue_id.in_(all_ids))
            .group_by(Escalation.level)
        ).all()
    )
    return Statistics(
        progress, by_category, by_round, measures, int(sums[0]), sums[1], int(sums[2]),
        int(sums[3]), lead_row[0], by_cadre, int(lead_row[1]), int(lead_row[2]),
        int(lead_row[3]), int(lead_row[4]), letters, escalations,
        _monthly(session, conds),
    )  # fmt: skip


def _monthly(session: Session, conds: list[Any]) -> list[tuple[str, int, int]]:
    """Issues opened and closed per month (YYYY-MM), oldest first."""
    opened = _month_counts(session, Issue.opened_at, conds)
    closed = _month_counts(session, Issue.closed_at, [*conds, done_clause()])
    months = sorted(set(opened) | set(closed))
    return [(m, opened.get(m, 0), closed.get(m, 0)) for m in months]


def _month_counts(session: Session, col: Any, conds: list[Any]) -> dict[str, int]:
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        month = func.strftime("%Y-%m", col)
    else:
        month = func.to_char(col, "YYYY-MM")
    rows = session.execute(
        select(month, func.count()).where(*conds, col.is_not(None)).group_by(month)
    ).all()
    return {r[0]: r[1] for r in rows if r[0]}


# ---------------------------------------------------------------------------------- issue page


def evidence_of(session: Session, issue_id: int) -> list[Evidence]:
    """The issue's evidence files, oldest first."""
    return list(
        session.scalars(select(Evidence).where(Evidence.issue_id == issue_id).order_by(Evidence.id))
    )


def escalations_of(session: Session, issue_id: int) -> list[Escalation]:
    """The rungs that fired for the issue, oldest first."""
    return list(
        session.scalars(
            select(Escalation).where(Escalation.issue_id == issue_id).order_by(Escalation.id)
        )
    )


def letters_of(session: Session, issue_id: int) -> list[Letter]:
    """The letters issued for the issue, oldest first."""
    return list(
        session.scalars(select(Letter).where(Letter.issue_id == issue_id).order_by(Letter.id))
    )


def user_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Display names of the given user ids."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict(
        session.execute(select(User.id, User.display_name).where(User.id.in_(wanted))).all()
    )  # type: ignore[arg-type]


def checkers(session: Session, issue: Issue) -> list[User]:
    """Users with a spot-check post that may review ``issue`` (not recused)."""
    users = session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.role == "spot_check", User.active)
        .distinct()
        .order_by(User.username)
        .limit(200)
    ).all()
    return [
        u for u in users
        if any(m.role == "spot_check" and not is_recused(m.unit, issue) for m in u.memberships)
    ]  # fmt: skip


# ---------------------------------------------------------------------------------- inbox


def unread_count(session: Session, user: User) -> int:
    """How many in-app messages ``user`` has not read."""
    return (
        session.scalar(
            select(func.count()).where(
                InboxMessage.user_id == user.id, InboxMessage.read_at.is_(None)
            )
        )
        or 0
    )


def bell(session: Session, user: User, size: int = 6) -> tuple[int, list[InboxMessage]]:
    """The unread count and the newest ``size`` messages of ``user``, in one query (the bell
    is on every page: the count rides along as a window over all of the user's messages)."""
    unread = func.count().filter(InboxMessage.read_at.is_(None)).over()
    rows = session.execute(
        select(InboxMessage, unread)
        .where(InboxMessage.user_id == user.id)
        .order_by(InboxMessage.read_at.is_not(None), InboxMessage.id.desc())
        .limit(size)
    ).all()
    return (int(rows[0][1]) if rows else 0), [r[0] for r in rows]


def inbox(session: Session, user: User, page: int = 1, size: int = 10) -> Page:
    """``user``'s in-app messages, newest first."""
    stmt = (
        select(InboxMessage)
        .where(InboxMessage.user_id == user.id)
        .order_by(InboxMessage.read_at.is_not(None), InboxMessage.id.desc())
    )
    return paginate(session, stmt, page, size)


# ---------------------------------------------------------------------------------- admin


def units_page(session: Session, page: int = 1, q: str | None = None) -> Page:
    """Units in tree order, one page."""
    stmt = select(Unit)
    if q:
        like = f"%{escape_like(q.strip())}%"
        stmt = stmt.where(
            or_(Unit.code.ilike(like, escape="\\"), Unit.name.ilike(like, escape="\\"))
        )
    return paginate(session, stmt.order_by(Unit.path), page, 50)


def users_page(session: Session, page: int = 1, q: str | None = None) -> Page:
    """Users with their memberships, one page."""
    stmt = select(User)
    if q:
        like = f"%{escape_like(q.strip())}%"
        stmt = stmt.where(
            or_(User.username.ilike(like, escape="\\"), User.display_name.ilike(like, escape="\\"))
        )
    return paginate(session, stmt.order_by(User.username), page, 50)


@dataclass
class UnitChoice:
    """A unit offered in a filter, with its depth below the user's top unit."""

    id: int
    name: str
    rel: int


def unit_choices(
    session: Session, user: User, levels: int = 2, limit: int = 300
) -> list[UnitChoice]:
    """The user's top units and the units up to ``levels`` below them, in tree order."""
    out: list[UnitChoice] = []
    for root in root_units(user):
        rows = session.execute(
            select(Unit.id, Unit.name, Unit.depth)
            .where(
                Unit.path.startswith(root.path, autoescape=True), Unit.depth <= root.depth + levels
            )
            .order_by(Unit.path)
            .limit(limit)
        ).all()
        out += [UnitChoice(r.id, r.name, r.depth - root.depth) for r in rows]
    return out[:limit]
