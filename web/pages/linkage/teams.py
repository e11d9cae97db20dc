"""A team's page: items it inherits (接力式巡察, carried over on request) and its shared
information space with simultaneous rounds and lower levels' earlier findings."""

from __future__ import annotations

from typing import Any, cast

from flask import abort, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from web.auth import me, role_required
from web.database import get_session, now
from web.htmx import is_htmx, render
from web.pages.common import page_arg
from web.pages.linkage.common import attempt, bp, status
from web.pages.linkage.rounds import cards
from web.pages.linkage.scope import READERS, manages, team_or_404, visible_ids
from workflow import linkage
from workflow.limits import INT_MAX
from workflow.models import Issue, Team


def _team_ctx(team: Team, **extra: Any) -> dict[str, Any]:
    """The relay view and the shared information space of a team, as the user may see them.

    The shared space (the team's round and simultaneous rounds) is paged in SQL; lower
    levels' earlier findings are listed after it, on its first page.
    """
    db = get_session()
    relay = linkage.relay_view(db, team.id)
    shared = linkage.shared_findings_page(db, me(), team.id, page_arg())
    earlier = [
        i for items in linkage.earlier_findings_for_team(db, team.id).values() for i in items
    ]
    checks = {c for r in relay for c in r.checks}
    seen = visible_ids({r.issue.id for r in relay} | {i.id for i in earlier} | checks)
    earlier = [i for i in earlier if i.id in seen] if shared.page == 1 else []
    round_ids = {i.round_id for i in [*shared.items, *earlier, *(r.issue for r in relay)]}
    rounds = linkage.rounds_by_id(db, round_ids)
    numbers = linkage.issue_numbers(db, checks)
    ctx = dict(team=team, card=cards([team])[team.id], manage=manages(team.round.organiser),
               relay=[r for r in relay if r.issue.id in seen], rounds=rounds, numbers=numbers,
               shared=shared, earlier=earlier, seen=seen, error=None, ok=None)  # fmt: skip
    ctx.update(extra)
    return ctx


@bp.get("/teams/<int:team_id>")
@role_required(*READERS)
def team_page(team_id: int) -> Response:
    """A team: items carried from earlier rounds (relay) and its shared information space."""
    team = team_or_404(team_id)
    return render("linkage/team.html", "linkage/_shared.html", **_team_ctx(team))


@bp.post("/teams/<int:team_id>/carry")
@role_required(*READERS)
def carry(team_id: int) -> Response:
    """Carry selected earlier items into the team's round (接力式巡察)."""
    team = team_or_404(team_id)
    if not manages(team.round.organiser):
        abort(403)
    ids = [i for i in request.form.getlist("ids", type=int) if 0 < i <= INT_MAX]
    db = get_session()
    carried: list[Issue] = []
    with attempt() as a:
        if not ids:
            raise ValueError(_("Select items first"))
        items = {r.issue.id: r.issue for r in linkage.relay_view(db, team.id)}
        by_round: dict[int, list[int]] = {}
        for issue_id in ids:
            if issue_id not in items:
                raise LookupError(_("Issue %(id)s is not a relay item of this team", id=issue_id))
            # relay items always belong to an earlier round
            by_round.setdefault(cast(int, items[issue_id].round_id), []).append(issue_id)
        for from_round, group in by_round.items():
            carried += linkage.carry_over(db, from_round, team.round_id, group, me(), now())
    if a.error is None and not is_htmx():
        return redirect(url_for("linkage.team_page", team_id=team.id), 303)
    ok = (
        _("Carried over: %(numbers)s", numbers=", ".join(i.number for i in carried))
        if a.error is None
        else None
    )
    ctx = _team_ctx(team, error=a.error, ok=ok)
    return render("linkage/team.html", "linkage/_relay.html", status(a.error), **ctx)
