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
