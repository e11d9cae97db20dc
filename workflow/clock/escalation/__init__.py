"""The escalation sweep: every ladder rung and count rule now due fires exactly once.

Owns :func:`sweep` and its report.  It is the only writer of ``escalation`` rows and the
only code that raises ``issue.warning_level`` outside a user action.  It finds due rungs
without looping over open issues: one index probe, one read of what is due, then keyset
batches over the deadlines looked at, each batch one write transaction.  Must not import
flask or ``notifications`` (the outbox rows it writes are delivered by ``notifications``;
``web/cli/clock.py`` composes the two for the embedded clock, the Prefect flows for the
distributed one).

- :mod:`.report`: what a sweep did (:class:`SweepReport`);
- :mod:`.partitions`: the partitions two sweeps split the work into, and their locks;
- :mod:`.bounds`: rung instants and due-date bounds from the working calendar;
- :mod:`.plan`: every rung and count rule of the stored definition versions;
- :mod:`.probe`: whether, and what, anything is due (read only);
- :mod:`.due`: the rows a due rung fires on, in keyset batches;
- :mod:`.fire`: escalation rows, warning levels, letters, events and outbox rows;
- :mod:`.schedule`: each deadline's next ``check_at`` ("Idle sweeps");
- :mod:`.sweep`: :func:`sweep` and its run (:class:`_Run`).

The private names tests and ``bench/`` use are re-exported here (``_Run``, ``_Bounds``,
``_versions``): patching ``escalation._Run.drain`` patches the class the sweep runs.
"""

from workflow.clock.escalation.bounds import _Bounds
from workflow.clock.escalation.fire import CARD_LEVELS, LATE_AFTER, LEVEL_RANK
from workflow.clock.escalation.partitions import partitions
from workflow.clock.escalation.plan import _versions
from workflow.clock.escalation.report import RungOutcome, SweepFn, SweepReport, escalations_of
from workflow.clock.escalation.schedule import next_check
from workflow.clock.escalation.sweep import WritableDatabase, _Run, sweep

__all__ = [
    "CARD_LEVELS",
    "LATE_AFTER",
    "LEVEL_RANK",
    "RungOutcome",
    "SweepFn",
    "SweepReport",
    "WritableDatabase",
    "_Bounds",
    "_Run",
    "_versions",
    "escalations_of",
    "next_check",
    "partitions",
    "sweep",
]
