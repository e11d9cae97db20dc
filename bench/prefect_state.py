"""Prefect 3 used as the state store of the 5-step lifecycle (run by ``bench.lifecycle``).

Each issue is one flow run that pauses (``pause_flow_run``) before each of the five human
steps; the driver resumes it from the main thread as a person would, through the API of a
temporary Prefect server (``prefect_test_harness``, SQLite).  Prints one JSON line: issues,
seconds, issues/s and the growth of the server's database per issue.  Only a handful of
issues are run; the rate is extrapolated from them.
"""

from __future__ import annotations

import glob
import json
import os
import sys
import threading
import time


def main(issues: int) -> None:
    """Run ``issues`` flow runs to completion and print the JSON result."""
    from prefect import flow, get_client
    from prefect.flow_runs import pause_flow_run, resume_flow_run
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL
    from prefect.testing.utilities import prefect_test_harness

    steps = ["sign_for", "submit_plan", "request_closeout", "attest_closeout", "accept"]

    @flow(name="issue-lifecycle", persist_result=False)
    def issue_flow(number: int) -> str:
        for _step in steps:
            pause_flow_run(timeout=60, poll_interval=1)
        return "closed"

    with prefect_test_harness(server_startup_timeout=90):
        db_url = PREFECT_SERVER_DATABASE_CONNECTION_URL.value()
        db_path = db_url.split("///", 1)[1]

        def size() -> int:
            return sum(os.path.getsize(p) for p in glob.glob(db_path + "*"))

        size0 = size()
        t0 = time.perf_counter()
        for n in range(issues):
            box: dict[str, str] = {}
            runner = threading.Thread(target=lambda n=n, box=box: box.update(r=issue_flow(n)))
            runner.start()
            resumed = 0
            with get_client(sync_client=True) as client:
                while runner.is_alive() and resumed < len(steps):
                    runs = client.read_flow_runs(limit=50)
                    for fr in runs:
                        if fr.state is not None and fr.state.is_paused():
                            resume_flow_run(fr.id)
                            resumed += 1
                    time.sleep(0.05)
            runner.join(timeout=60)
            if box.get("r") != "closed":
                raise RuntimeError(f"issue {n} did not close: {box}")
        seconds = time.perf_counter() - t0
    # measured after the server stopped, so its WAL is checkpointed into the file
    grown = size() - size0
    print(json.dumps({"issues": issues, "seconds": seconds, "issues_per_s": issues / seconds,
                      "bytes_per_issue": grown / issues}))  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
