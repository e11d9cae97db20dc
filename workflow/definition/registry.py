"""Definition versions kept in the database, and the parsed definitions behind them.

Owns syncing ``definitions/*.yaml`` into ``definition_version`` rows (a changed file is a
new version; the old one stays so pinned issues keep running), looking a version up, and
moving issues to a newer version after a dry run.  A file that fails validation is
reported and skipped: it never replaces the version issues already run on.
Must not import flask.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from workflow.definition import (
    Definition,
    DefinitionError,
    Problem,
    load_definition,
    migration_report,
    parse_definition,
)
from workflow.models import DefinitionVersion, Issue

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "definitions"


@lru_cache(maxsize=256)
def _parse(version: str, source: str, filename: str) -> Definition:
    # keyed by the content hash: a version's text never changes
    return parse_definition(source, filename)


def definition_of(dv: DefinitionVersion) -> Definition:
    """The parsed definition of a stored version (cached by its hash)."""
    return _parse(dv.version, dv.source, dv.filename)


# definition_version id -> parsed definition, per database (keyed by the engine's pool):
# a version row never changes once written, so the hot path need not read its (large)
# source again; a restore swaps the engine, and with it the pool
_by_id: weakref.WeakKeyDictionary[Any, dict[int, Definition]] = weakref.WeakKeyDictionary()


def definition_for(session: Session, issue: Issue) -> Definition:
    """The parsed definition ``issue`` is pinned to, without loading its version row twice."""
    if "definition" not in inspect(issue).unloaded:
        return definition_of(issue.definition)
    owner = getattr(session.get_bind(mapper=DefinitionVersion.__mapper__), "engine", None)
    per_db = _by_id.setdefault(owner.pool, {}) if owner is not None else {}
    found = per_db.get(issue.definition_id)
    if found is None:
        found = per_db[issue.definition_id] = definition_of(issue.definition)
    return found


@dataclass
class SyncReport:
    """What a sync loaded and what it refused."""

    loaded: list[tuple[str, str, bool]] = field(default_factory=list)  # (name, version, new)
    problems: list[Problem] = field(default_factory=list)


def sync_definitions(session: Session, now: datetime, directory: Path | None = None) -> SyncReport:
    """Store every valid definition file of ``directory`` whose content is new."""
    directory = directory or DEFAULT_DIR
    report = SyncReport()
    for path in sorted(directory.glob("*.yaml")):
        try:
            d = load_definition(path)
        except DefinitionError as exc:
            report.problems.extend(exc.problems)
            continue
        exists = session.scalar(
            select(DefinitionVersion.id).where(DefinitionVersion.version == d.version)
        )
        if not exists:
            session.add(
                DefinitionVersion(
                    name=d.name,
                    version=d.version,
                    filename=path.name,
                    source=d.source,
                    loaded_at=now,
                )
            )
        report.loaded.append((d.name, d.version, not exists))
    session.flush()
    return report


def latest(session: Session, name: str) -> DefinitionVersion:
    """The newest stored version of definition ``name``."""
    dv = session.scalar(
        select(DefinitionVersion)
        .where(DefinitionVersion.name == name)
        .order_by(DefinitionVersion.id.desc())
        .limit(1)
    )
    if dv is None:
        raise LookupError(f"no definition named {name!r} is loaded (run `rectiflow db upgrade`)")
    return dv


@dataclass
class MigrationPlan:
    """A dry run of moving issues from older versions of a definition to the newest."""

    name: str
    target: DefinitionVersion
    per_version: list[
        tuple[DefinitionVersion, int, list[str], list[str]]
    ]  # (dv, n, changes, blockers)

    @property
    def blocked(self) -> bool:
        """Whether any source version cannot be moved safely."""
        return any(blockers for _, _, _, blockers in self.per_version)


def plan_migration(
    session: Session,
    name: str,
    state_map: Mapping[str, str] | None = None,
    allow_clock_changes: bool = False,
) -> MigrationPlan:
    """List what moving ``name``'s issues to its newest version would change, and blockers."""
    target = latest(session, name)
    new = definition_of(target)
    rows = session.execute(
        select(DefinitionVersion, Issue.state, func.count())
        .join(Issue, Issue.definition_id == DefinitionVersion.id)
        .where(DefinitionVersion.name == name, DefinitionVersion.id != target.id)
        .group_by(DefinitionVersion.id, Issue.state)
    ).all()
    states: dict[int, dict[str, int]] = {}
    versions: dict[int, DefinitionVersion] = {}
    for dv, state, n in rows:
        versions[dv.id] = dv
        states.setdefault(dv.id, {})[state] = n
    plan = MigrationPlan(name, target, [])
    for dv_id, in_use in states.items():
        rep = migration_report(
            definition_of(versions[dv_id]),
            new,
            in_use,
            state_map,
            allow_clock_changes=allow_clock_changes,
        )
        plan.per_version.append((versions[dv_id], sum(in_use.values()), rep.changes, rep.blockers))
    return plan
