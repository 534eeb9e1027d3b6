"""Write-only intake and rotation: the previous version keeps working for the overlap, then is disabled by
the minute timer; values never come back out of the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import function_app
from integrations.wiring import Hub
from shared.secrets.store import SecretNotFound
from tests.helpers import ApiClient, fortnox
from tools.runner import LocalRunner


def test_rotation_overlap_then_disable(admin: ApiClient, hub: Hub) -> None:
    doc = admin.create(fortnox(admin.tenant, credentials={}))
    path = f"{admin.integrations}/{doc['id']}/credentials/api_key_ref"
    first = admin.request("PUT", path, json={"value": "first-secret-value"}).json()
    second = admin.request("PUT", path, json={"value": "second-secret-value", "overlap_seconds": 600}).json()
    assert first["ref"] == second["ref"] and second["previous_version"] == first["version"]
    assert "secret-value" not in str(first) + str(second)
    assert admin.get(f"{admin.integrations}/{doc['id']}").json()["credentials"]["api_key_ref"] == second["ref"]
    name = second["ref"][3:]
    store = hub.credentials.store
    assert store.get(name) == "second-secret-value"
    assert store.get(name, first["version"]) == "first-secret-value"  # still inside the overlap

    runner = LocalRunner(function_app.app)
    runner.timers["timer_due_syncs"].fire()
    assert store.get(name, first["version"]) == "first-secret-value"  # the timer leaves it before the end
    hub.now = lambda: datetime.now(UTC) + timedelta(minutes=11)
    runner.timers["timer_due_syncs"].fire()
    with pytest.raises(SecretNotFound):
        store.get(name, first["version"])
    assert store.get(name) == "second-secret-value"
    actions = [e["action"] for e in admin.get(f"/api/v1/tenants/{admin.tenant}/audit").json()["items"]]
    assert {"secret.write", "secret.rotate", "secret.disable"} <= set(actions)


def test_intake_rejects_bad_input(admin: ApiClient) -> None:
    doc = admin.create(fortnox(admin.tenant, credentials={}))
    base = f"{admin.integrations}/{doc['id']}/credentials"
    assert admin.request("PUT", f"{base}/no_such_slot", json={"value": "x" * 10}).status_code == 422
    assert admin.request("PUT", f"{base}/api_key_ref", json={"value": ""}).status_code == 422
    r = admin.request("PUT", f"{base}/api_key_ref", json={"value": "abcdefgh", "note": "x"})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/note"
    assert (
        admin.request(
            "PUT", f"{admin.integrations}/int_{'0' * 24}/credentials/api_key_ref", json={"value": "abcdefgh"}
        ).status_code
        == 404
    )
