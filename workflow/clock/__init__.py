"""The clock: working days, deadlines, the escalation sweep, letters and what runs them.

- :mod:`~workflow.clock.calendar` (working-day arithmetic) and
  :mod:`~workflow.clock.calendar_load` (seeding and loading each year);
- :mod:`~workflow.clock.deadlines`: the clock instances (deadlines) of an issue;
- :mod:`~workflow.clock.escalation`: the sweep that fires every due rung exactly once;
- :mod:`~workflow.clock.letters`: the numbered documents rungs issue;
- :mod:`~workflow.clock.scheduler` (APScheduler, embedded) and
  :mod:`~workflow.clock.flows` (Prefect, scale-out; imported only where Prefect is).

Submodules are imported where they are used: this package re-exports nothing, so that
importing the calendar never pulls in the sweep or APScheduler.  Must not import flask
or ``notifications``.
"""
