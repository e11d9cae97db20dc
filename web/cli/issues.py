"""`rectiflow units|users|issues …`: drive the engine without the web app."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy import select

from web.database import get_database, parse_now
from web.locale import say


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def _field_errors(errors: dict[str, list[str]]) -> str:
    """One line per field, each message in the shell's language."""
    return "\n".join(f"{k}: {'; '.join(say(m) for m in v)}" for k, v in errors.items())


@click.group("units", cls=AppGroup)
def units_group() -> None:
    """The unit tree."""


@units_group.command("add")
@click.argument("code")
@click.argument("name")
@click.option(
    "--level",
    required=True,
    type=click.Choice(["province", "city", "county", "township", "department", "village"]),
)
@click.option("--parent", "parent_code", help="Code of the parent unit.")
def units_add(code: str, name: str, level: str, parent_code: str | None) -> None:
    """Add a unit under PARENT (or a root unit)."""
    from workflow.org.units import UnitError, add_unit

    try:
        with get_database().writing() as session:
            unit = add_unit(session, code, name, level, parent_code)
            path = unit.path
    except UnitError as exc:
        _fail(say(exc))
    click.echo(f"unit {code} added at {path}")


@units_group.command("list")
@click.option("--under", "under", help="Only this unit's subtree.")
def units_list(under: str | None) -> None:
    """Print the unit tree."""
    from workflow.models import Unit

    with get_database().reading() as session:
        q = select(Unit).order_by(Unit.path)
        if under:
            root = session.scalar(select(Unit).where(Unit.code == under))
            if root is None:
                _fail(f"no unit with code {under!r}")
            assert root is not None
            q = q.where(Unit.path.startswith(root.path))
        for u in session.scalars(q):
            click.echo(f"{'  ' * u.depth}{u.code}  {u.name}  ({u.level})")


@click.group("users", cls=AppGroup)
def users_group() -> None:
    """Users and their roles per unit."""


@users_group.command("add")
@click.argument("username")
@click.option("--name", "display_name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--email")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    metavar="ROLE@UNIT",
    help="e.g. unit_user@CITY-01 (repeatable)",
)
def users_add(
    username: str, display_name: str, password: str, email: str | None, roles: tuple[str, ...]
) -> None:
    """Add a user holding ROLE@UNIT memberships."""
    from workflow.org.units import UnitError, add_user

    try:
        with get_database().writing() as session:
            add_user(session, username, display_name, password, list(roles), parse_now(None), email)
    except UnitError as exc:
        _fail(say(exc))
    click.echo(f"user {username} added")


@users_group.command("list")
@click.option("--role", help="Only users holding this role.")
def users_list(role: str | None) -> None:
    """List users with their unit and roles."""
    from workflow.models import Membership, User

    with get_database().reading() as session:
        q = select(User).order_by(User.username)
        if role:
            q = q.where(User.id.in_(select(Membership.user_id).where(Membership.role == role)))
        for user in session.scalars(q):
            held = ", ".join(f"{m.role}@{m.unit.code} {m.unit.name}" for m in user.memberships)
            click.echo(f"{user.username:14} {user.display_name:10} {held}")


@click.group("issues", cls=AppGroup)
def issues_group() -> None:
    """Open issues, take actions, list and show them."""


def _user(session: Any, username: str) -> Any:
    from workflow.models import User

    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        _fail(f"no user {username!r}")
    return user


def _issue(session: Any, number: str) -> Any:
    from workflow.models import Issue

    issue = session.scalar(select(Issue).where(Issue.number == number))
    if issue is None and number.isdigit():
        issue = session.get(Issue, int(number))
    if issue is None:
        _fail(f"no issue {number!r}")
    return issue


def _pairs(items: tuple[str, ...]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--set")
        data[key] = value.replace("\\n", "\n")
    return data


@issues_group.command("open")
@click.option("--definition", default="rectification", show_default=True)
@click.option("--as", "username", required=True, help="Office user registering it.")
@click.option(
    "--set",
    "items",
    multiple=True,
    metavar="KEY=VALUE",
    help="title, unit, category, description, deadline_type, due_on, round, …",
)
@click.option("--now", "now_text")
def issues_open(
    definition: str, username: str, items: tuple[str, ...], now_text: str | None
) -> None:
    """Register a new issue and print its number."""
    from workflow.service import Denied, open_issue
    from workflow.service.fields import ValidationFailed

    fields = _pairs(items)
    if "supporting_units" in fields:
        fields["supporting_units"] = [c for c in fields["supporting_units"].split(",") if c]
    try:
        with get_database().writing() as session:
            issue = open_issue(
                session, definition, fields, _user(session, username), parse_now(now_text)
            )
            click.echo(f"{issue.number} opened in state {issue.state}")
    except ValidationFailed as exc:
        _fail(_field_errors(exc.errors))
    except Denied as exc:
        _fail(f"denied: {say(exc)}")


@issues_group.command("act")
@click.argument("number")
@click.argument("action")
@click.option("--as", "username", required=True)
@click.option("--set", "items", multiple=True, metavar="KEY=VALUE")
@click.option("--version", "expected", type=int, help="The version you saw (stale → conflict).")
@click.option("--now", "now_text")
def issues_act(
    number: str,
    action: str,
    username: str,
    items: tuple[str, ...],
    expected: int | None,
    now_text: str | None,
) -> None:
    """Take ACTION on issue NUMBER as a user."""
    from workflow.service import Conflict, Denied, act
    from workflow.service.fields import ValidationFailed

    db = get_database()
    now = parse_now(now_text)
    data = _pairs(items)
    with db.write_session() as session:
        try:
            issue = _issue(session, number)
            result = act(session, issue, action, _user(session, username), data, expected, now)
            session.commit()
        except Denied as exc:
            session.commit()  # keep the denied attempt in the audit trail
            _fail(f"denied: {say(exc)}")
        except Conflict as exc:
            session.rollback()
            _fail(f"conflict: {say(exc)}\n" + json.dumps(exc.changes, ensure_ascii=False, indent=1))
        except ValidationFailed as exc:
            session.rollback()
            _fail(_field_errors(exc.errors))
        click.echo(
            f"{result.issue.number}: {result.from_state} → {result.to_state} "
            f"(version {result.issue.version}, {result.notified} notification(s))"
        )


@issues_group.command("attach")
@click.argument("number")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "username", required=True, help="A user of the lead unit, or the office.")
@click.option("--now", "now_text")
def issues_attach(number: str, path: Path, username: str, now_text: str | None) -> None:
    """Upload evidence (佐证材料) to issue NUMBER, checked as on the web (type, size)."""
    from web.evidence_files import storage
    from workflow.org.scope import acting_memberships
    from workflow.service import UPLOAD_ROLES, BadFile, FileTooLarge, save_evidence

    with get_database().write_session() as session:
        issue, user = _issue(session, number), _user(session, username)
        if not acting_memberships(user, issue, UPLOAD_ROLES):
            _fail(f"denied: {username} may not add evidence to {issue.number}")
        try:
            with path.open("rb") as fh:  # the app's folder and size limit, as on the web
                ev = save_evidence(session, issue, user, path.name, fh, parse_now(now_text),
                                   **storage())  # fmt: skip
            session.commit()
        except BadFile as exc:
            session.rollback()
            _fail(f"{path.name}: not accepted as evidence ({say(exc)})")
        except FileTooLarge as exc:
            session.rollback()
            _fail(f"{path.name}: {say(exc)}")
        click.echo(
            f"{issue.number}: evidence {ev.filename} ({ev.size} bytes, sha256 {ev.sha256[:12]}…)"
        )


@issues_group.command("list")
@click.option("--as", "username", help="Only what this user may see.")
@click.option("--state")
@click.option("--unit", "unit_code", help="Only this unit's subtree.")
@click.option("--limit", default=50, show_default=True)
def issues_list(username: str | None, state: str | None, unit_code: str | None, limit: int) -> None:
    """List issues, newest first."""
    from workflow.models import Issue, Unit
    from workflow.org.scope import visible_clause

    with get_database().reading() as session:
        q = select(Issue).order_by(Issue.id.desc()).limit(limit)
        if username:
            q = q.where(visible_clause(_user(session, username)))
        if state:
            q = q.where(Issue.state == state)
        if unit_code:
            unit = session.scalar(select(Unit).where(Unit.code == unit_code))
            if unit is None:
                _fail(f"no unit with code {unit_code!r}")
            assert unit is not None
            q = q.where(Issue.unit_path.startswith(unit.path))
        for i in session.scalars(q):
            due = i.due_at.strftime("%Y-%m-%d") if i.due_at else "-"
            click.echo(
                f"{i.number:16} {i.state:18} {i.warning_level:6} due {due}  "
                f"{i.unit.code:12} {i.title[:40]}"
            )


@issues_group.command("show")
@click.argument("number")
@click.option("--as", "username", help="Also list the actions this user may take now.")
def issues_show(number: str, username: str | None) -> None:
    """Show one issue with its deadlines and history."""
    from workflow.models import Event
    from workflow.service import allowed_actions, get_definition, running_clocks

    with get_database().reading() as session:
        issue = _issue(session, number)
        d = get_definition(issue)
        st = d.states[issue.state]
        click.echo(f"{issue.number}  {issue.title}")
        click.echo(
            f"  state: {st.label.zh} / {st.label.en} ({issue.state}), version {issue.version}"
        )
        click.echo(f"  unit: {issue.unit.code} {issue.unit.name}; warning: {issue.warning_level}")
        for c in running_clocks(session, issue):
            mark = " (provisional)" if c.provisional else ""
            click.echo(f"  deadline {c.clock}: {c.due_at:%Y-%m-%d %H:%M} UTC [{c.status}]{mark}")
        for m in issue.measures:
            click.echo(f"  measure {m.seq}: {m.text} (due {m.due_on or '-'})")
        for ev in session.scalars(
            select(Event).where(Event.issue_id == issue.id).order_by(Event.id)
        ):
            click.echo(
                f"  {ev.at:%Y-%m-%d %H:%M} {ev.action:20} {ev.outcome:6} "
                f"{ev.from_state or ''} → {ev.to_state or ''}"
            )
        if username:
            names = [a.name for a in allowed_actions(issue, _user(session, username))]
            click.echo(f"  {username} may: {', '.join(names) or 'nothing now'}")


COMMANDS = [units_group, users_group, issues_group]
