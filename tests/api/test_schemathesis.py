"""Property-based API testing over the whole spec against the running hub (Azurite behind it): no 5xx, and
every response conforms to its documented status codes, content types and schemas.

Driven through schemathesis' Python API (its pytest plugin does not yet run under pytest 9), with a bounded
number of examples per operation."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from integrations.auth.principal import Scope
from integrations.service import create_integration
from integrations.wiring import Hub
from tests.helpers import fortnox

EXAMPLES = 15
# What the contract promises. Not `positive_data_acceptance`: domain rules (ISO codes, provider currencies,
# secret namespaces) go beyond JSON Schema, so a schema-valid body may rightly get a 422.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


def test_api_conforms_to_its_spec(api: str, hub: Hub, tenant: str) -> None:
    doc = create_integration(tenant, fortnox(tenant), repo=hub.integrations, actor="schemathesis", now=hub.now).document
    key = hub.api_keys.issue(tenant_id=tenant, scopes=[Scope.integrations_admin], name="schemathesis").secret
    schema = schemathesis.openapi.from_url(f"{api}/api/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        # Derandomized: CI must not fail on a new random draw; new cases come from raising EXAMPLES deliberately.
        @settings(
            max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True
        )
        def check(case) -> None:  # type: ignore[no-untyped-def]
            if case.path_parameters:
                if "tenant_id" in case.path_parameters:
                    case.path_parameters["tenant_id"] = tenant  # reach the handlers, not only the tenant guard
                if str(case.path_parameters.get("integration_id", "")).startswith("int_"):
                    case.path_parameters["integration_id"] = doc.id
            case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)

        try:
            check()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert operations >= 25
    assert not failures, "\n\n".join(failures)
