"""The old Prefect entrypoint of the sweep, kept so that an old deployment says what to do.

Deployments made before the engine's packages moved point at
``workflow/flows.py:sweep_flow``; the flow now lives in ``workflow/clock/flows.py``.  A run of
such a deployment fails at once with the command that fixes it instead of a missing file.
"""

from __future__ import annotations

from prefect import flow

REDEPLOY = (
    "this Prefect deployment points at workflow/flows.py:sweep_flow, which moved to "
    "workflow/clock/flows.py:sweep_flow; run `rectiflow prefect-deploy` again to update it"
)


@flow(name="rectiflow-sweep")
def sweep_flow(database_url: str | None = None, window_minutes: int = 10) -> None:
    """Refuse to run (the old deployment's parameters are taken and ignored), naming the fix."""
    raise RuntimeError(REDEPLOY)
