"""巡视巡察上下联动 pages: rounds and teams (交叉巡察 / 回避, relay, shared information
space), push-down and roll-up (三级联动), special checks of lower levels' inspection work,
and the network statistics with their written definitions.

The office manages; supervisors and leaders read within their subtree; anyone else gets
404.  Every rule is the engine's (``workflow.linkage``): views parse the form, call it,
commit, and render.  A refusal of a team member or target (回避) is committed too, so its
denied event stays on record; any other failure is rolled back and shown inline (422).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from flask import Blueprint, Flask, abort, make_response, redirect, request, url_for
from sqlalchemy import ColumnElement, false, or_, select
from werkzeug.wrappers import Response

from web.auth import me, role_required, roles
from web.database import get_session, now
from web.htmx import fragment, is_htmx, render
from web.i18n import t
from web.pages.common import int_arg, page_arg
from workflow import linkage
from workflow.fields import ValidationFailed
from workflow.models import (
    Event,
    Issue,
    Round,
    SpecialCheck,
    Team,
    TeamMember,
    TeamTarget,
    Unit,
    User,
)
from workflow.network_stats import ENTERED
from workflow.queries import get_visible, paginate
from workflow.scope import visible_clause
from workflow.service import ServiceError

bp = Blueprint("linkage", __name__, url_prefix="/linkage")

READERS = ("office", "supervisor", "leader")
ENGINE_ERRORS = (linkage.Refused, ValueError, LookupError, ServiceError, ValidationFailed)
PUSH_LEVELS = ("city", "county")


def register(app: Flask) -> None:
    """Register the linkage pages on ``app``."""
    app.register_blueprint(bp)


# ------------------------------------------------------------------------------ scope


def _tops() -> list[Unit]:
    """The top units of the user's office, supervisor and leader posts."""
    units = sorted(
        {m.unit.id: m.unit for m in me().memberships if m.role in READERS}.values(),
        key=lambda u: u.path,
    )
    out: list[Unit] = []
    for unit in units:
        if not any(unit.path.startswith(top.path) for top in out):
            out.append(unit)
    return out


def _under(path_column: Any) -> ColumnElement[bool]:
    """Rows whose unit path lies in the user's reach."""
    parts = [path_column.startswith(u.path, autoescape=True) for u in _tops()]
    return or_(*parts) if parts else false()


def _in_reach(unit: Unit) -> bool:
    return any(unit.path.startswith(top.path) for top in _tops())


def _manages(unit: Unit) -> bool:
    """Whether the user holds an office post at or above ``unit``."""
    return any(m.role == "office" and unit.path.startswith(m.unit.path) for m in me().memberships)


def _office_only() -> None:
    if "office" not in roles():
        abort(403)


def _round_clause() -> ColumnElement[bool]:
    """Rounds organised in the user's reach or with a target there."""
    inside = select(Unit.id).where(_under(Unit.path))
    targeted = (
        select(Team.round_id)
        .join(TeamTarget, TeamTarget.team_id == Team.id)
        .where(TeamTarget.unit_id.in_(inside))
    )
    return or_(Round.organiser_unit_id.in_(inside), Round.id.in_(targeted))


def _round(round_id: int | None) -> Round | None:
    if round_id is None:
        return None
    return get_session().scalar(select(Round).where(Round.id == round_id, _round_clause()))


def _round_or_404(round_id: int) -> Round:
    return _round(round_id) or abort(404)


def _team_or_404(team_id: int) -> Team:
    team = get_session().get(Team, team_id)
    if team is None or _round(team.round_id) is None:
        abort(404)
    return team


def _round_choices() -> list[Round]:
    return list(
        get_session().scalars(select(Round).where(_round_clause()).order_by(Round.id.desc()))
    )


def _form_round(value: str | None) -> Round | None:
    """An optional round chosen in a form (an id within reach)."""
    text = (value or "").strip()
    if not text:
        return None
    found = _round(int(text)) if text.isdigit() else None
    if found is None:
        raise LookupError(f"no round {value!r}")
    return found


def _user_named(name: str) -> User:
    user = get_session().scalar(select(User).where(User.username == name.strip()))
    if user is None:
        raise LookupError(t("no_such_user", name=name))
    return user


def _date(value: str | None) -> date | None:
    text = (value or "").strip()
    return date.fromisoformat(text) if text else None


# ------------------------------------------------------------------------------ answers


@dataclass
class Attempt:
    """The outcome of an engine call made under :func:`attempt`."""

    error: str | None = None


@contextmanager
def attempt(keep_denied: bool = False) -> Iterator[Attempt]:
    """Run engine calls: commit on success; on an engine error roll back and note it.

    ``keep_denied``: a refusal (回避) is committed, so its denied event stays on record.
    """
    db, outcome = get_session(), Attempt()
    try:
        yield outcome
    except linkage.Refused as exc:
        db.commit() if keep_denied else db.rollback()
        outcome.error = exc.reason
    except ENGINE_ERRORS as exc:
        db.rollback()
        outcome.error = str(exc)
    else:
        db.commit()


def _done(url: str) -> Response:
    """Go to ``url`` after a successful form (htmx: a client-side redirect)."""
    if is_htmx():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)


def _status(error: str | None) -> int:
    return 422 if error else 200


# ------------------------------------------------------------------------------ rounds


@bp.get("/")
@role_required(*READERS)
def index() -> Response:
    """Send the reader to the rounds."""
    return redirect(url_for("linkage.rounds"))


@bp.route("/rounds", methods=("GET", "POST"))
@role_required(*READERS)
def rounds() -> Response:
    """Rounds in reach (level, organiser, dates, relay predecessor); the office registers one."""
    db, error, values = get_session(), None, request.form.to_dict()
    if request.method == "POST":
        _office_only()
        with attempt() as a:
            rnd = linkage.create_round(
                db, values.get("code", "").strip(), values.get("name", ""), values.get("kind", ""),
                values.get("level", ""), values.get("organiser", "").strip(), me(), now(),
                starts_on=_date(values.get("starts_on")), ends_on=_date(values.get("ends_on")),
                previous_round=_form_round(values.get("previous_round")),
            )  # fmt: skip
        if a.error is None:
            return _done(url_for("linkage.round_page", round_id=rnd.id))
        error = a.error
    page = paginate(db, select(Round).where(_round_clause()).order_by(Round.id.desc()), page_arg())
    offices = [m.unit for m in me().memberships if m.role == "office"]
    choices = _round_choices()
    wanted = {r.previous_round_id for r in page.items} - {None}
    previous = {r.id: r for r in db.scalars(select(Round).where(Round.id.in_(wanted)))}
    ctx = dict(page=page, error=error, values=values, choices=choices, offices=offices,
               previous=previous, linkable={r.id for r in choices})  # fmt: skip
    if request.method == "POST" and is_htmx():
        return fragment("linkage/_round_form.html", 422, **ctx)
    return render("linkage/rounds.html", "linkage/_rounds.html", _status(error), **ctx)


@dataclass
class TeamCard:
    """One team as the round page shows it."""

    team: Team
    leader: User | None = None
    members: list[User] = field(default_factory=list)
    targets: list[tuple[Unit, TeamTarget]] = field(default_factory=list)
    refused: list[Event] = field(default_factory=list)
    error: str | None = None
    ok: str | None = None
    values: Mapping[str, str] = field(default_factory=dict)


def _cards(teams: list[Team]) -> dict[int, TeamCard]:
    """Members, targets and recorded refusals of ``teams`` (a few queries for all of them)."""
    db = get_session()
    cards = {tm.id: TeamCard(tm) for tm in teams}
    if not cards:
        return cards
    rows = db.execute(
        select(TeamMember.team_id, User)
        .join(User, User.id == TeamMember.user_id)
        .where(TeamMember.team_id.in_(cards))
        .order_by(TeamMember.id)
    )
    for team_id, user in rows:
        cards[team_id].members.append(user)
        if user.id == cards[team_id].team.leader_id:
            cards[team_id].leader = user
    for target, unit in db.execute(
        select(TeamTarget, Unit)
        .join(Unit, Unit.id == TeamTarget.unit_id)
        .where(TeamTarget.team_id.in_(cards))
        .order_by(Unit.path)
    ):
        cards[target.team_id].targets.append((unit, target))
    denied = db.scalars(
        select(Event)
        .where(Event.action.in_(("team_member_add", "team_target_add")), Event.outcome == "denied")
        .order_by(Event.id.desc())
        .limit(500)
    )
    for event in denied:
        card = cards.get((event.data or {}).get("team_id", 0))
        if card is not None:
            card.refused.append(event)
    return cards


def _teams_of(rnd: Round) -> list[Team]:
    """The round's teams; a reader outside the organiser sees the teams inspecting their reach."""
    q = select(Team).where(Team.round_id == rnd.id).order_by(Team.id)
    if not _in_reach(rnd.organiser):
        inside = select(Unit.id).where(_under(Unit.path))
        q = q.where(Team.id.in_(select(TeamTarget.team_id).where(TeamTarget.unit_id.in_(inside))))
    return list(get_session().scalars(q))


def _round_ctx(rnd: Round, **extra: Any) -> dict[str, Any]:
    db = get_session()
    relays = db.scalars(
        select(Round).where(Round.previous_round_id == rnd.id, _round_clause())
    ).all()
    ctx = dict(rnd=rnd, cards=list(_cards(_teams_of(rnd)).values()), manage=_manages(rnd.organiser),
               previous=db.get(Round, rnd.previous_round_id) if rnd.previous_round_id else None,
               linkable={r.id for r in _round_choices()}, relays=relays, team_error=None,
               team_values={})  # fmt: skip
    ctx.update(extra)
    return ctx


@bp.get("/rounds/<int:round_id>")
@role_required(*READERS)
def round_page(round_id: int) -> Response:
    """A round: its teams, members and targets; the office forms and staffs teams."""
    rnd = _round_or_404(round_id)
    return render("linkage/round.html", "linkage/_teams.html", **_round_ctx(rnd))


@bp.post("/rounds/<int:round_id>/teams")
@role_required(*READERS)
def form_team(round_id: int) -> Response:
    """Form a team of the round (an optional leader becomes its first member)."""
    rnd = _round_or_404(round_id)
    _office_only()
    values = request.form.to_dict()
    with attempt(keep_denied=True) as a:
        name = values.get("leader", "").strip()
        team = linkage.form_team(get_session(), rnd, values.get("name", ""), me(), now(),
                                 leader=_user_named(name) if name else None)  # fmt: skip
    if a.error is None and not is_htmx():
        return redirect(url_for("linkage.round_page", round_id=rnd.id) + f"#team-{team.id}", 303)
    ctx = _round_ctx(rnd, team_error=a.error, team_values=values if a.error else {})
    return render("linkage/round.html", "linkage/_teams.html", _status(a.error), **ctx)


def _team_answer(team: Team, error: str | None, values: dict[str, str], ok: str) -> Response:
    """The team's card (htmx), or the round page (422 with the error, else a redirect)."""
    if error is None and not is_htmx():
        url = url_for("linkage.round_page", round_id=team.round_id)
        return redirect(f"{url}#team-{team.id}", 303)
    card = _cards([team])[team.id]
    card.error, card.values, card.ok = error, values if error else {}, None if error else ok
    if is_htmx():
        manage = _manages(team.round.organiser)
        return fragment("linkage/_team.html", _status(error), card=card, manage=manage)
    ctx = _round_ctx(team.round)
    ctx["cards"] = [card if c.team.id == team.id else c for c in ctx["cards"]]
    return render("linkage/round.html", "linkage/_teams.html", 422, **ctx)


@bp.post("/teams/<int:team_id>/members")
@role_required(*READERS)
def add_member(team_id: int) -> Response:
    """Add a member by username; refused (回避, recorded) when they come from a target."""
    team = _team_or_404(team_id)
    _office_only()
    name = request.form.get("username", "").strip()
    with attempt(keep_denied=True) as a:
        linkage.add_member(get_session(), team, _user_named(name), me(), now())
    return _team_answer(team, a.error, {"username": name}, t("added"))


@bp.post("/teams/<int:team_id>/targets")
@role_required(*READERS)
def add_target(team_id: int) -> Response:
    """Add a target unit by code; refused (回避, recorded) when a member comes from it."""
    team = _team_or_404(team_id)
    _office_only()
    code = request.form.get("unit", "").strip()
    with attempt(keep_denied=True) as a:
        if not code:
            raise ValueError(t("unit_code_required"))
        linkage.add_target(get_session(), team, code, me(), now())
    return _team_answer(team, a.error, {"unit": code}, t("added"))


# ------------------------------------------------------------------------------ team: relay, shared space


def _visible_ids(ids: set[int]) -> set[int]:
    if not ids:
        return set()
    return set(
        get_session().scalars(select(Issue.id).where(Issue.id.in_(ids), visible_clause(me())))
    )


def _team_ctx(team: Team, **extra: Any) -> dict[str, Any]:
    """The relay view and the shared information space of a team, as the user may see them.

    The shared space (the team's round and simultaneous rounds) is paged in SQL; lower
    levels' earlier findings are listed after it, on its first page.
    """
    db = get_session()
    relay = linkage.relay_view(db, team.id)
    shared = paginate(
        db,
        select(Issue)
        .where(linkage.visible_findings_clause(db, team.id), visible_clause(me()))
        .order_by(Issue.round_id, Issue.id),
        page_arg(),
    )
    earlier = [
        i for items in linkage.earlier_findings_for_team(db, team.id).values() for i in items
    ]
    checks = {c for r in relay for c in r.checks}
    seen = _visible_ids({r.issue.id for r in relay} | {i.id for i in earlier} | checks)
    earlier = [i for i in earlier if i.id in seen] if shared.page == 1 else []
    round_ids = {i.round_id for i in [*shared.items, *earlier, *(r.issue for r in relay)]}
    rounds = {r.id: r for r in db.scalars(select(Round).where(Round.id.in_(round_ids)))}
    numbers = {
        i: n for i, n in db.execute(select(Issue.id, Issue.number).where(Issue.id.in_(checks)))
    }
    ctx = dict(team=team, card=_cards([team])[team.id], manage=_manages(team.round.organiser),
               relay=[r for r in relay if r.issue.id in seen], rounds=rounds, numbers=numbers,
               shared=shared, earlier=earlier, seen=seen, error=None, ok=None)  # fmt: skip
    ctx.update(extra)
    return ctx


@bp.get("/teams/<int:team_id>")
@role_required(*READERS)
def team_page(team_id: int) -> Response:
    """A team: items carried from earlier rounds (relay) and its shared information space."""
    team = _team_or_404(team_id)
    return render("linkage/team.html", "linkage/_shared.html", **_team_ctx(team))


@bp.post("/teams/<int:team_id>/carry")
@role_required(*READERS)
def carry(team_id: int) -> Response:
    """Carry selected earlier items into the team's round (接力式巡察)."""
    team = _team_or_404(team_id)
    if not _manages(team.round.organiser):
        abort(403)
    db, ids = get_session(), request.form.getlist("ids", type=int)
    carried: list[Issue] = []
    with attempt() as a:
        if not ids:
            raise ValueError(t("choose_items"))
        items = {r.issue.id: r.issue for r in linkage.relay_view(db, team.id)}
        by_round: dict[int, list[int]] = {}
        for issue_id in ids:
            if issue_id not in items:
                raise LookupError(t("not_relay_item", id=issue_id))
            # relay items always belong to an earlier round
            by_round.setdefault(cast(int, items[issue_id].round_id), []).append(issue_id)
        for from_round, group in by_round.items():
            carried += linkage.carry_over(db, from_round, team.round_id, group, me(), now())
    if a.error is None and not is_htmx():
        return redirect(url_for("linkage.team_page", team_id=team.id), 303)
    ok = t("carried", numbers=", ".join(i.number for i in carried)) if a.error is None else None
    ctx = _team_ctx(team, error=a.error, ok=ok)
    return render("linkage/team.html", "linkage/_relay.html", _status(a.error), **ctx)


# ------------------------------------------------------------------------------ push-down and roll-up


def _push_source(args: Any) -> tuple[Issue, linkage.PushRule]:
    """The finding to push (by number, in scope) and the rule, from form or query arguments."""
    number = (args.get("number") or "").strip()
    issue = get_session().scalar(
        select(Issue).where(
            Issue.number == number,
            Issue.kind.in_(("common_problem", "rectification")),
            visible_clause(me()),
        )
    )
    if issue is None:
        raise LookupError(t("no_such_issue", number=number))
    if issue.kind != "common_problem":
        # pushed down before: push into the same tree (the engine adds only what is missing)
        # rather than open a second root for the same finding
        earlier = get_session().scalar(
            select(Issue)
            .where(
                Issue.kind == "common_problem",
                Issue.parent_id.is_(None),
                Issue.data["pushed_down_from"].as_integer() == issue.id,
            )
            .order_by(Issue.id)
            .limit(1)
        )
        issue = earlier or issue
    rule = linkage.PushRule(
        codes=tuple(c for c in re.split(r"[\s,，]+", args.get("codes") or "") if c),
        levels=tuple(lv for lv in args.getlist("levels") if lv in PUSH_LEVELS),
        name_contains=(args.get("name_contains") or "").strip() or None,
        code_suffix=(args.get("code_suffix") or "").strip() or None,
        under=(args.get("under") or "").strip() or None,
    )
    return issue, rule


def _push_root_unit(issue: Issue) -> Unit:
    """Where the root common problem sits (the engine's choice, see ``push_down``)."""
    if issue.kind == "common_problem":
        return issue.unit
    if issue.round is not None:
        return issue.round.organiser
    return linkage.resolve_unit(get_session(), int(issue.unit_path.strip("/").split("/")[0]))


def _push_ctx(**extra: Any) -> dict[str, Any]:
    recent = (
        get_session()
        .scalars(
            select(Issue)
            .where(
                Issue.kind == "common_problem",
                Issue.parent_id.is_(None),
                Issue.id.in_(select(Issue.parent_id).where(Issue.parent_id.is_not(None))),
                visible_clause(me()),
            )
            .order_by(Issue.id.desc())
            .limit(20)
        )
        .all()
    )
    ctx: dict[str, Any] = dict(recent=recent, args=request.values, preview=None, error=None,
                               units=[], notes=[], issue=None, levels=PUSH_LEVELS)  # fmt: skip
    ctx.update(extra)
    return ctx


@bp.get("/push")
@role_required(*READERS)
def push() -> Response:
    """Push a finding down (三级联动): the form, and the findings pushed down so far."""
    return render("linkage/push.html", "linkage/_push_recent.html", **_push_ctx())


@bp.get("/push/preview")
@role_required("office")
def push_preview() -> Response:
    """The units a push-down rule matches, before anything is opened."""
    try:
        issue, rule = _push_source(request.args)
        units, notes = linkage.matching_units(get_session(), rule, _push_root_unit(issue))
        ctx = _push_ctx(preview=True, issue=issue, units=units, notes=notes)
    except (LookupError, ValueError) as exc:
        ctx = _push_ctx(preview=True, error=str(exc))
    return render("linkage/push.html", "linkage/_push_preview.html", _status(ctx["error"]), **ctx)


@bp.post("/push")
@role_required("office")
def push_confirm() -> Response:
    """Push the finding down; then show its roll-up."""
    with attempt() as a:
        issue, rule = _push_source(request.form)
        result = linkage.push_down(get_session(), issue, rule, me(), now())
    if a.error is None:
        return _done(url_for("linkage.rollup_page", issue_id=result.root.id))
    ctx = _push_ctx(preview=True, error=a.error)
    return render("linkage/push.html", "linkage/_push_preview.html", 422, **ctx)


@bp.get("/rollup/<int:issue_id>")
@role_required(*READERS)
def rollup_page(issue_id: int) -> Response:
    """A common problem's roll-up: the chain above, counts per level below, its children."""
    db = get_session()
    issue = get_visible(db, me(), issue_id)
    if issue is None or issue.kind != "common_problem":
        abort(404)
    summary = linkage.rollup(db, issue.id)
    children = db.scalars(
        select(Issue)
        .where(Issue.parent_id == issue.id, visible_clause(me()))
        .order_by(Issue.unit_path)
    ).all()
    below = {c.id: linkage.rollup(db, c.id) for c in children if c.kind == "common_problem"}
    origin_id = (issue.data or {}).get("pushed_down_from")
    origin = get_visible(db, me(), origin_id) if isinstance(origin_id, int) else None
    seen = _visible_ids({a["id"] for a in summary.ancestors})
    return render("linkage/rollup.html", "linkage/_rollup.html", issue=issue, r=summary,
                  children=children, below=below, origin=origin, seen=seen)  # fmt: skip


# ------------------------------------------------------------------------------ special checks


@bp.route("/checks", methods=("GET", "POST"))
@role_required(*READERS)
def checks() -> Response:
    """Special checks of lower levels' inspection work: run one; past checks and their items."""
    db, error, ok, values = get_session(), None, None, request.form.to_dict()
    offices = [m.unit for m in me().memberships if m.role == "office"]
    if request.method == "POST":
        _office_only()
        with attempt() as a:
            checker = next((u for u in offices if u.code == values.get("checker")), None)
            if checker is None:
                raise LookupError(t("choose_checker"))
            result = linkage.run_special_check(db, values.get("target", "").strip(), checker,
                                               _form_round(values.get("round")), me(), now())  # fmt: skip
        error = a.error
        if error is None:
            if not is_htmx():
                return redirect(url_for("linkage.checks"), 303)
            ok, values = t("check_done", n=len(result.issues)), {}
    inside = select(Unit.id).where(_under(Unit.path))
    page = paginate(db, select(SpecialCheck).where(or_(
        SpecialCheck.target_unit_id.in_(inside), SpecialCheck.checker_unit_id.in_(inside)
    )).order_by(SpecialCheck.id.desc()), page_arg(), 10)  # fmt: skip
    unit_ids = {c.target_unit_id for c in page.items} | {c.checker_unit_id for c in page.items}
    issue_ids = {i.get("issue_id") for c in page.items for i in (c.results or {}).get("items", [])}
    units = {u.id: u for u in db.scalars(select(Unit).where(Unit.id.in_(unit_ids)))}
    opened = select(Issue.id, Issue.number).where(Issue.id.in_(issue_ids - {None}))
    numbers = {i: n for i, n in db.execute(opened)}
    return render("linkage/checks.html", "linkage/_checks.html", _status(error), page=page,
                  units=units, numbers=numbers, offices=offices, choices=_round_choices(),
                  error=error, ok=ok, values=values)  # fmt: skip


# ------------------------------------------------------------------------------ network statistics


def _whole_number(value: str | None) -> int:
    text = (value or "").strip()
    if not re.fullmatch(r"\d{1,12}", text):
        raise ValueError(t("whole_number"))
    return int(text)


@bp.route("/network", methods=("GET", "POST"))
@role_required(*READERS)
def network() -> Response:
    """The network statistics per level and round, each with its definition; enter a figure."""
    db, error, ok, values = get_session(), None, None, request.form.to_dict()
    tops = _tops()
    unit = db.get(Unit, int_arg("unit") or tops[0].id) if tops else None
    if unit is None or not _in_reach(unit):
        abort(404)
    rnd = _round(int_arg("round"))
    if int_arg("round") and rnd is None:
        abort(404)
    if request.method == "POST":
        _office_only()
        with attempt() as a:
            linkage.enter_figure(db, _form_round(values.get("round")), values.get("unit", "").strip(),
                                 values.get("metric", ""), _whole_number(values.get("value")),
                                 values.get("source", ""), me(), now())  # fmt: skip
        error = a.error
        if error is None:
            if not is_htmx():
                return redirect(
                    url_for("linkage.network", unit=unit.id, round=int_arg("round")), 303
                )
            ok, values = t("figure_saved"), {}
    report = linkage.network_statistics(db, unit.id, [rnd.id] if rnd else None)
    offices = [m.unit for m in me().memberships if m.role == "office"]
    return render("linkage/network.html", "linkage/_network.html", _status(error), report=report,
                  unit=unit, rnd=rnd, metrics=linkage.METRICS, entered=ENTERED, error=error, ok=ok,
                  values=values, offices=offices, choices=_round_choices(),
                  levels=[lv for lv in ("province", "city", "county") if lv in report.levels],
                  units=_unit_choices())  # fmt: skip


def _unit_choices() -> list[tuple[Unit, int]]:
    """The user's top units and two levels below them (for the network page's filter)."""
    out: list[tuple[Unit, int]] = []
    for top in _tops():
        rows = get_session().scalars(
            select(Unit)
            .where(Unit.path.startswith(top.path, autoescape=True), Unit.depth <= top.depth + 2)
            .order_by(Unit.path)
            .limit(300)
        )
        out += [(u, u.depth - top.depth) for u in rows]
    return out[:300]
