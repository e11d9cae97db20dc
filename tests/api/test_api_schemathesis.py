"""Schemathesis over the OpenAPI document: every operation, as every role, no 5xx and no
answer that breaks the document.  Bounded (few examples, derandomized) so it stays fast; the
bigger run is marked ``slow``."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import WORLD_USERS

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]
ROLES = [u for u, _, _ in WORLD_USERS]


def _run(app, api, users, examples, modes):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 15
    failures = []
    for username in users:
        headers = {"Authorization": f"Bearer {api.tokens[username]}"}
        for op in operations:
            for mode in modes:

                @given(case=op.as_strategy(generation_mode=mode))
                @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
                          suppress_health_check=list(HealthCheck))  # fmt: skip
                def check(case):
                    case.call_and_validate(headers=headers, checks=CHECKS)  # noqa: B023 (run at once)

                try:
                    check()
                except Exception as exc:  # collect every failure, report them together
                    failures.append(f"{username} {op.label} [{mode.value}]: {exc}"[:2000])
    assert not failures, "\n\n".join(failures)


def test_every_operation_as_every_role_quick(app, api, issues):
    _run(app, api, ROLES, 2, [schemathesis.GenerationMode.POSITIVE])


@pytest.mark.slow
def test_every_operation_as_every_role_thorough(app, api, issues):
    _run(app, api, ROLES, 12, list(schemathesis.GenerationMode))
