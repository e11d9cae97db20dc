"""SQLAlchemy 2 typed models: the whole persistent state of Rectiflow, one module per area.

Owns the table layout only; behaviour lives in `workflow.service` (the only writer of
issue state), `workflow.audit` (the event chain) and `workflow.clock.escalation` (the sweep).
Every table is re-exported here (``from workflow.models import Issue``) and every module is
imported, so ``Base.metadata`` (Alembic's target) holds them all.  Must not import flask.

- :mod:`~workflow.models.base`: the declarative base, aware UTC datetimes, ``CHECK_NOW``;
- :mod:`~workflow.models.org`: units, users, memberships, API tokens, login attempts;
- :mod:`~workflow.models.rounds`: rounds, teams, network figures, special checks;
- :mod:`~workflow.models.issues`: definition versions, issues, supporting units, measures,
  evidence;
- :mod:`~workflow.models.audit`: events and audit checkpoints;
- :mod:`~workflow.models.clocks`: clock instances, escalations, letters, the work calendar,
  leases;
- :mod:`~workflow.models.outbox`: the outbox, the inbox and the units' group robots.

Units form a tree stored as a materialized path (``/1/5/23/``) so that a subtree is one
indexed ``LIKE '/1/5/%'`` range scan, never a recursive walk in Python.  Issues carry a
copy of their responsible unit's path (``unit_path``) for the same reason.
"""

from workflow.models.audit import AuditCheckpoint, Event
from workflow.models.base import CHECK_NOW, Base, UTCDateTime
from workflow.models.clocks import CalendarYear, ClockInstance, Escalation, Lease, Letter, WorkDay
from workflow.models.issues import DefinitionVersion, Evidence, Issue, Measure, SupportingUnit
from workflow.models.org import ApiToken, LoginAttempt, Membership, Unit, User
from workflow.models.outbox import InboxMessage, Outbox, UnitRobot
from workflow.models.rounds import NetworkFigure, Round, SpecialCheck, Team, TeamMember, TeamTarget

__all__ = [
    "CHECK_NOW", "ApiToken", "AuditCheckpoint", "Base", "CalendarYear", "ClockInstance",
    "DefinitionVersion", "Escalation", "Event", "Evidence", "InboxMessage", "Issue", "Lease",
    "Letter", "LoginAttempt", "Measure", "Membership", "NetworkFigure", "Outbox", "Round",
    "SpecialCheck", "SupportingUnit", "Team", "TeamMember", "TeamTarget", "UTCDateTime", "Unit",
    "UnitRobot", "User", "WorkDay",
]  # fmt: skip
