"""The contract (committed OpenAPI = the code's), the diff classifier, and checkov over infra/."""

from __future__ import annotations

import copy
import json
import os
import subprocess
from pathlib import Path

import pytest

from tools.openapi import SNAPSHOT, current_spec, diff, dump

ROOT = Path(__file__).resolve().parent.parent


def test_committed_spec_matches_the_code() -> None:
    assert SNAPSHOT.exists(), "run `python -m tools.openapi snapshot`"
    assert SNAPSHOT.read_text() == dump(current_spec()), (
        "The API changed: review `python -m tools.openapi check`, then `python -m tools.openapi snapshot`."
    )


def _spec() -> dict:
    return json.loads(SNAPSHOT.read_text())


def _op(spec: dict, path: str = "/api/v1/tenants/{tenant_id}/integrations", method: str = "post") -> dict:
    return spec["paths"][path][method]


BREAKING = {
    "path removed": lambda s: s["paths"].pop("/api/v1/providers"),
    "operation removed": lambda s: s["paths"]["/api/v1/tenants/{tenant_id}/integrations"].pop("get"),
    "new required parameter": lambda s: _op(s, method="get")["parameters"].append(
        {"name": "region", "in": "query", "required": True, "schema": {"type": "string"}}
    ),
    "response field removed": lambda s: s["components"]["schemas"]["IntegrationPage"]["properties"].pop("next"),
    "request enum narrowed": lambda s: s["components"]["schemas"]["SyncDirection"]["enum"].remove("pull"),
    "required request field added": lambda s: (
        s["components"]["schemas"]["TriggerSync"]["properties"].update({"priority": {"type": "integer"}}),
        s["components"]["schemas"]["TriggerSync"]["required"].append("priority"),
    ),
    "type changed": lambda s: s["components"]["schemas"]["IntegrationPage"]["properties"].update(
        {"next": {"type": "integer"}}
    ),
    "operationId renamed": lambda s: _op(s).update(operationId="makeIntegration"),
}
NON_BREAKING = {
    "optional parameter added": lambda s: _op(s, method="get")["parameters"].append(
        {"name": "q", "in": "query", "required": False, "schema": {"type": "string"}}
    ),
    "response field added": lambda s: s["components"]["schemas"]["IntegrationPage"]["properties"].update(
        {"total": {"type": "integer"}}
    ),
    "operation added": lambda s: s["paths"].update({"/api/v1/extra": {"get": {"operationId": "extra", "responses": {}}}}),
    "description edited": lambda s: _op(s).update(summary="Create an integration"),
}


def test_sync_direction_is_a_named_enum() -> None:
    assert "SyncDirection" in _spec()["components"]["schemas"]


@pytest.mark.parametrize("name", sorted(BREAKING))
def test_breaking_changes_are_caught(name: str) -> None:
    old, new = _spec(), copy.deepcopy(_spec())
    BREAKING[name](new)
    changes, code = diff(old, new)
    assert code == 1 and any(c.breaking for c in changes), (name, [str(c) for c in changes])
    new["info"]["version"] = "2.0.0"  # a major version bump announces them
    assert diff(old, new)[1] == 0


@pytest.mark.parametrize("name", sorted(NON_BREAKING))
def test_non_breaking_changes_pass(name: str) -> None:
    old, new = _spec(), copy.deepcopy(_spec())
    NON_BREAKING[name](new)
    changes, code = diff(old, new)
    assert code == 0 and not any(c.breaking for c in changes), [str(c) for c in changes]


def test_checkov_passes_over_infra() -> None:
    checkov = ROOT / ".venv-infra" / "bin" / "checkov"
    if not checkov.exists() and os.environ.get("HUB_SKIP_INFRA_CHECK") == "1":
        pytest.skip("HUB_SKIP_INFRA_CHECK=1 and no checkov installed")
    assert checkov.exists(), "./hub test installs checkov into .venv-infra"
    result = subprocess.run(
        [str(checkov), "-d", str(ROOT / "infra"), "--framework", "bicep", "--compact", "--skip-download", "--quiet"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )
    summary = [line for line in result.stdout.splitlines() if line.startswith("Passed checks")]
    assert summary, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Failed checks: 0," in summary[0], result.stdout[-3000:]
    assert "Parsing errors" not in summary[0] or "Parsing errors: 0" in summary[0], result.stdout[-3000:]


def test_every_operation_publishes_the_credentials_and_the_scope_its_route_enforces() -> None:
    """An integrator generating a client from the spec gets authentication: the schemes (API key, bearer JWT,
    OAuth2 client credentials with every scope described), and per operation the scope the route's own
    `require(...)` enforces — read here from the route's dependency tree, so spec and code cannot disagree."""
    from fastapi.routing import APIRoute

    from integrations.api.app import create_api
    from integrations.auth.principal import Scope

    app = create_api(max_body=1)
    spec = app.openapi()
    schemes = spec["components"]["securitySchemes"]
    assert set(schemes) == {"ApiKey", "Bearer", "OAuth2"}
    flow = schemes["OAuth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/api/v1/oauth/token" and set(flow["scopes"]) == {s.value for s in Scope}
    assert all(flow["scopes"].values())

    def enforced(dependant: object) -> set[str]:
        found: set[str] = set()
        for dep in getattr(dependant, "dependencies", []):
            name = getattr(dep.call, "__name__", "")
            if name.startswith("require_"):
                found |= {s.value for s in getattr(dep.call, "scopes", (Scope[name.removeprefix("require_")],))}
            found |= enforced(dep)
        return found

    def api_routes(routes: list[object], prefix: str = "") -> list[tuple[str, APIRoute]]:
        """(path, route) of every operation, through the routers FastAPI includes lazily."""
        out: list[tuple[str, APIRoute]] = []
        for route in routes:
            if isinstance(route, APIRoute):
                out.append((prefix + route.path_format, route))
            elif (included := getattr(route, "original_router", None)) is not None:
                out += api_routes(included.routes, prefix + route.include_context.prefix)  # type: ignore[attr-defined]
        return out

    checked = 0
    for path, route in api_routes(list(app.routes)):
        if not route.include_in_schema:
            continue
        for method in route.methods:
            operation = spec["paths"][path][method.lower()]
            assert "security" in operation, (method, path)
            published = {tuple(scopes) for requirement in operation["security"] for scopes in requirement.values()}
            scopes = enforced(route.dependant)
            if scopes:
                # one requirement per scope that opens the route (alternatives: `require(scope, *alternatives)`)
                assert published == {(s,) for s in scopes}, (method, path, published, scopes)
                checked += 1
            else:  # no scope: any credential (listed without scopes), or a public operation (`security: []`)
                assert published in ({()}, set()), (method, path, published)
    assert checked > 80


def test_every_operation_documents_its_limits_from_the_limiters_own_table() -> None:
    from integrations.api.ratelimit import RATE_HEADERS, endpoint_class, plan_policies

    spec = _spec()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            limit = operation["x-ratelimit"]
            assert limit["class"] == endpoint_class(path, method.upper()), (method, path)
            for plan, numbers in limit["plans"].items():
                policy = plan_policies(plan)[limit["class"]]
                assert numbers == {"rate_per_s": policy.rate_per_s, "burst": policy.burst}
            assert f"endpoint class `{limit['class']}`" in operation["description"]
            for status, response in operation["responses"].items():
                assert set(RATE_HEADERS) <= set(response["headers"]), (method, path, status)
                assert ("Retry-After" in response["headers"]) == (status == "429"), (method, path, status)
            assert "429" in operation["responses"] or path.startswith("/api/health") or "jwks" in path, (method, path)


def test_the_release_gate_holds_the_code_to_the_last_released_spec() -> None:
    """Releases are tagged specs (openapi/releases/<version>.json); the code may not break the latest without a
    major version: a removed operation fails the gate, the same removal under 2.0.0 passes."""
    from tools.openapi import gate, latest_release

    release = latest_release()
    assert release is not None
    changes, code = gate()
    assert code == 0, [str(c) for c in changes if c.breaking]

    broken = copy.deepcopy(release)
    del broken["paths"]["/api/v1/tenants/{tenant_id}/integrations"]["post"]
    assert diff(release, broken)[1] == 1
    broken["info"]["version"] = "2.0.0"
    assert diff(release, broken)[1] == 0
