"""Rounds and teams (交叉巡察 / 回避): list and register rounds, form and staff teams."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from web.auth import me, role_required
from web.database import get_session, now
from web.htmx import fragment, is_htmx, render
from web.pages.common import page_arg
from web.pages.linkage.common import attempt, bp, done, form_date, form_round, status, user_named
from web.pages.linkage.scope import (
    READERS,
    manages,
    office_only,
    round_choices,
    round_or_404,
    team_or_404,
    tops,
)
from workflow import linkage
from workflow.models import Event, Round, Team, TeamTarget, Unit, User


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
        office_only()
        with attempt() as a:
            rnd = linkage.create_round(
                db, values.get("code", "").strip(), values.get("name", ""), values.get("kind", ""),
                values.get("level", ""), values.get("organiser", "").strip(), me(), now(),
                starts_on=form_date(values.get("starts_on")), ends_on=form_date(values.get("ends_on")),
                previous_round=form_round(values.get("previous_round")),
            )  # fmt: skip
        if a.error is None:
            return done(url_for("linkage.round_page", round_id=rnd.id))
        error = a.error
    page = linkage.rounds_page(db, tops(), page_arg())
    offices = [m.unit for m in me().memberships if m.role == "office"]
    choices = round_choices()
    previous = linkage.rounds_by_id(db, {r.previous_round_id for r in page.items})
    ctx = dict(page=page, error=error, values=values, choices=choices, offices=offices,
               previous=previous, linkable={r.id for r in choices})  # fmt: skip
    if request.method == "POST" and is_htmx():
        return fragment("linkage/_round_form.html", 422, **ctx)
    return render("linkage/rounds.html", "linkage/_rounds.html", status(error), **ctx)


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


def cards(teams: list[Team]) -> dict[int, TeamCard]:
    """Members, targets and recorded refusals of ``teams`` (a few queries for all of them)."""
    db = get_session()
    found = {tm.id: TeamCard(tm) for tm in teams}
    if not found:
        return found
    for team_id, user in linkage.team_members(db, found):
        found[team_id].members.append(user)
        if user.id == found[team_id].team.leader_id:
            found[team_id].leader = user
    for target, unit in linkage.team_target_units(db, found):
        found[target.team_id].targets.append((unit, target))
    for event in linkage.team_refusals(db, 500):
        card = found.get((event.data or {}).get("team_id", 0))
        if card is not None:
            card.refused.append(event)
    return found


def _round_ctx(rnd: Round, **extra: Any) -> dict[str, Any]:
    """What the round page shows: its teams' cards, relay rounds and predecessor."""
    db = get_session()
    reach = tops()
    relays = linkage.relay_rounds(db, reach, rnd.id)
    teams = linkage.round_teams(db, reach, rnd.id)
    ctx = dict(rnd=rnd, cards=list(cards(teams).values()), manage=manages(rnd.organiser),
               previous=linkage.round_by_id(db, rnd.previous_round_id),
               linkable={r.id for r in round_choices()}, relays=relays, team_error=None,
               team_values={})  # fmt: skip
    ctx.update(extra)
    return ctx


@bp.get("/rounds/<int:round_id>")
@role_required(*READERS)
def round_page(round_id: int) -> Response:
    """A round: its teams, members and targets; the office forms and staffs teams."""
    rnd = round_or_404(round_id)
    return render("linkage/round.html", "linkage/_teams.html", **_round_ctx(rnd))


@bp.post("/rounds/<int:round_id>/teams")
@role_required(*READERS)
def form_team(round_id: int) -> Response:
    """Form a team of the round (an optional leader becomes its first member)."""
    rnd = round_or_404(round_id)
    office_only()
    values = request.form.to_dict()
    with attempt(keep_denied=True) as a:
        name = values.get("leader", "").strip()
        team = linkage.form_team(get_session(), rnd, values.get("name", ""), me(), now(),
                                 leader=user_named(name) if name else None)  # fmt: skip
    if a.error is None and not is_htmx():
        return redirect(url_for("linkage.round_page", round_id=rnd.id) + f"#team-{team.id}", 303)
    ctx = _round_ctx(rnd, team_error=a.error, team_values=values if a.error else {})
    return render("linkage/round.html", "linkage/_teams.html", status(a.error), **ctx)


def _team_answer(team: Team, error: str | None, values: dict[str, str], ok: str) -> Response:
    """The team's card (htmx), or the round page (422 with the error, else a redirect)."""
    if error is None and not is_htmx():
        url = url_for("linkage.round_page", round_id=team.round_id)
        return redirect(f"{url}#team-{team.id}", 303)
    card = cards([team])[team.id]
    card.error, card.values, card.ok = error, values if error else {}, None if error else ok
    if is_htmx():
        manage = manages(team.round.organiser)
        return fragment("linkage/_team.html", status(error), card=card, manage=manage)
    ctx = _round_ctx(team.round)
    ctx["cards"] = [card if c.team.id == team.id else c for c in ctx["cards"]]
    return render("linkage/round.html", "linkage/_teams.html", 422, **ctx)


@bp.post("/teams/<int:team_id>/members")
@role_required(*READERS)
def add_member(team_id: int) -> Response:
    """Add a member by username; refused (回避, recorded) when they come from a target."""
    team = team_or_404(team_id)
    office_only()
    name = request.form.get("username", "").strip()
    with attempt(keep_denied=True) as a:
        linkage.add_member(get_session(), team, user_named(name), me(), now())
    return _team_answer(team, a.error, {"username": name}, _("Added"))


@bp.post("/teams/<int:team_id>/targets")
@role_required(*READERS)
def add_target(team_id: int) -> Response:
    """Add a target unit by code; refused (回避, recorded) when a member comes from it."""
    team = team_or_404(team_id)
    office_only()
    code = request.form.get("unit", "").strip()
    with attempt(keep_denied=True) as a:
        if not code:
            raise ValueError(_("Enter a unit code"))
        linkage.add_target(get_session(), team, code, me(), now())
    return _team_answer(team, a.error, {"unit": code}, _("Added"))
