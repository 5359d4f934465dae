"""A bounded schemathesis run on /api/v1/openapi.json for each role's token (issue 17): every operation,
cases generated from its description (positive mode: what the description says is valid), sent to the app
in-process; every answer checked against the description (status documented, content type, body schema,
headers) and never a server error. Failures of every operation are collected before the test fails.

Bounded: SCHEMATHESIS_EXAMPLES cases per operation and role (default 3), about a minute on 2 cores."""

from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.security.world import ROLES, build_world

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "3"))
# What the description promises of an answer. Not positive_data_acceptance: a request valid for the
# description may still break a rule no JSON schema states (a SIRET's Luhn key, R1–R16) and be a 422.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


@pytest.fixture(scope="module")
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def _run(operation, headers: dict, failures: list, statuses: Counter) -> int:
    cases = 0

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(), data=st.data())
    def check(case, data):
        nonlocal cases
        cases += 1
        try:
            response = case.call(headers=headers)
            statuses[response.status_code] += 1
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 (collected, then reported together)
            failures.append(f"{operation.method.upper()} {operation.path}: {str(error).strip()[:1500]}")

    check()
    return cases


@pytest.mark.parametrize("role", [*ROLES, None])
def test_every_operation_answers_as_described(app, app_ctx, api_schema, role):
    world = build_world()
    headers = {"Authorization": f"Bearer {world.tokens[role]}"} if role else {}
    failures: list[str] = []
    statuses: Counter = Counter()
    operations = cases = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1
        cases += _run(operation, headers, failures, statuses)
    print(f"\nschemathesis, rôle {role or 'anonyme'} : {operations} opérations, {cases} cas générés, "
          f"statuts {dict(sorted(statuses.items()))}, {len(failures)} échecs")
    assert statuses[500] == 0
    assert not failures, "\n\n".join(failures[:15])
