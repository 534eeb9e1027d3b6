"""API keys through the API: scopes never beyond the issuer's, rotation with overlap, revocation, audit,
and the access matrix for every route class."""

from __future__ import annotations

from datetime import timedelta

import pytest

from integrations.auth.principal import Scope
from integrations.wiring import Hub
from tests.helpers import ApiClient, fortnox


def keys(client: ApiClient) -> str:
    return f"/api/v1/tenants/{client.tenant}/api-keys"


def test_issue_list_rotate_revoke_with_audit(admin: ApiClient, api: str, hub: Hub) -> None:
    r = admin.post(keys(admin), json={"name": "nightly sync", "scopes": ["integrations:read", "syncs:run"]})
    assert r.status_code == 201
    issued = r.json()
    reader = ApiClient(api, issued["api_key"], admin.tenant)
    assert reader.get(reader.integrations).status_code == 200
    listed = admin.get(keys(admin)).json()
    assert issued["key_id"] in {k["key_id"] for k in listed}
    assert issued["api_key"] not in str(listed)

    rotated = admin.post(f"{keys(admin)}/{issued['key_id']}:rotate", json={"overlap_seconds": 3600}).json()
    successor = ApiClient(api, rotated["api_key"], admin.tenant)
    assert successor.get(successor.integrations).status_code == 200
    assert reader.get(reader.integrations).status_code == 200  # old key inside the overlap
    hub.api_keys._cache.clear()
    real = hub.now
    hub.now = lambda: real() + timedelta(hours=2)  # after the overlap
    try:
        assert reader.get(reader.integrations).status_code == 401
        assert successor.get(successor.integrations).status_code == 200
    finally:
        hub.now = real

    assert admin.delete(f"{keys(admin)}/{rotated['key_id']}").status_code == 204
    assert successor.get(successor.integrations).status_code == 401
    actions = [
        e["action"] for e in admin.get(f"/api/v1/tenants/{admin.tenant}/audit", params={"limit": 100}).json()["items"]
    ]
    assert {"api_key.create", "api_key.rotate", "api_key.revoke", "request.denied"} <= set(actions)


def test_no_escalation_and_no_cross_tenant_keys(admin: ApiClient, api: str, hub: Hub) -> None:
    limited = hub.api_keys.issue(tenant_id=admin.tenant, scopes=[Scope.clients_admin, Scope.integrations_read], name="l")
    client = ApiClient(api, limited.secret, admin.tenant)
    r = client.post(keys(client), json={"name": "x", "scopes": ["integrations:admin"]})
    assert r.status_code == 403 and "integrations:admin" in r.json()["beyond_scopes"]
    assert client.post(keys(client), json={"name": "x", "scopes": ["integrations:read"]}).status_code == 201
    other = hub.api_keys.issue(tenant_id="other-fed", scopes=[Scope.integrations_read], name="o")
    assert admin.delete(f"{keys(admin)}/{other.key_id}").status_code == 404
    assert admin.post(f"{keys(admin)}/{other.key_id}:rotate", json={}).status_code == 404


ROUTES = [  # (method, path template, scope needed)
    ("GET", "/integrations", Scope.integrations_read),
    ("POST", "/integrations", Scope.integrations_write),
    ("GET", "/integrations/{id}", Scope.integrations_read),
    ("PATCH", "/integrations/{id}", Scope.integrations_write),
    ("POST", "/integrations/{id}:validate", Scope.integrations_write),
    ("POST", "/integrations/{id}:activate", Scope.integrations_admin),
    ("DELETE", "/integrations/{id}", Scope.integrations_admin),
    ("PUT", "/integrations/{id}/credentials/api_key_ref", Scope.integrations_admin),
    ("POST", "/integrations/{id}/syncs", Scope.syncs_run),
    ("GET", "/integrations/{id}/syncs", Scope.integrations_read),
    ("GET", "/integrations/{id}/usage", Scope.usage_read),
    ("GET", "/integrations/{id}/status", Scope.integrations_read),
    ("GET", "/audit", Scope.audit_read),
    ("GET", "/api-keys", Scope.clients_admin),
]
CASES = ["none", "wrong_tenant", "missing_scope", "expired", "revoked", "rotated_within", "rotated_after"]
EXPECTED = {
    "none": 401,
    "wrong_tenant": 404,
    "missing_scope": 403,
    "expired": 401,
    "revoked": 401,
    "rotated_within": None,
    "rotated_after": 401,
}


@pytest.mark.parametrize("case", CASES)
def test_access_matrix(case: str, admin: ApiClient, api: str, hub: Hub) -> None:
    doc = admin.create(fortnox(admin.tenant))
    base = f"/api/v1/tenants/{admin.tenant}"
    for method, template, scope in ROUTES:
        if case == "none":
            key = None
        elif case == "wrong_tenant":
            key = hub.api_keys.issue(tenant_id="elsewhere", scopes=[scope], name="w").secret
        elif case == "missing_scope":
            other = Scope.audit_read if scope != Scope.audit_read else Scope.integrations_read
            key = hub.api_keys.issue(tenant_id=admin.tenant, scopes=[other], name="m").secret
        elif case == "expired":
            key = hub.api_keys.issue(
                tenant_id=admin.tenant, scopes=[scope], name="e", expires_at=hub.now() - timedelta(seconds=1)
            ).secret
        elif case == "revoked":
            issued = hub.api_keys.issue(tenant_id=admin.tenant, scopes=[scope], name="r")
            hub.api_keys.revoke(issued.key_id)
            key = issued.secret
        else:
            issued = hub.api_keys.issue(tenant_id=admin.tenant, scopes=[scope], name="o")
            hub.api_keys.rotate(issued.key_id, tenant_id=admin.tenant, overlap_s=0 if case == "rotated_after" else 3600)
            key = issued.secret
        client = ApiClient(api, key, admin.tenant)
        path = base + template.replace("{id}", doc["id"])
        body = {"value": "x" * 10} if "credentials" in path else {"operation": "push_invoices"} if "syncs" in path else {}
        r = (
            client.patch(path, {})
            if method == "PATCH"
            else client.request(method, path, json=body if method in ("POST", "PUT") else None)
        )
        expected = EXPECTED[case]
        if expected is None:  # the old key still works during the overlap: never an auth error
            assert r.status_code not in (401, 403, 404), (method, path, r.status_code, r.text)
        else:
            assert r.status_code == expected, (case, method, path, r.status_code, r.text)
        assert "X-RateLimit-Remaining" in r.headers


def test_a_key_with_a_rotation_period_is_rotated_by_the_timer_and_its_holder_picks_up_the_successor(
    admin: ApiClient, api: str, hub: Hub
) -> None:
    """Scheduled rotation: at the key's age the timer issues a successor (the old key works through the overlap),
    the tenant's feed says so without the secret, and only the key itself picks the successor up, once."""
    import function_app
    from tests.helpers import take_events, together
    from tools.runner import LocalRunner

    made = admin.post(
        f"/api/v1/tenants/{admin.tenant}/api-keys",
        json={
            "name": "nightly sync",
            "scopes": ["integrations:read"],
            "rotation_days": 30,
            "rotation_overlap_seconds": 7200,
        },
    )
    assert made.status_code == 201, made.text
    old = made.json()
    holder = ApiClient(api, old["api_key"], admin.tenant)
    pickup = f"/api/v1/tenants/{admin.tenant}/api-keys/{old['key_id']}:successor"
    timer = LocalRunner(function_app.app).timers["timer_key_rotation"]

    timer.fire()
    assert holder.post(pickup).status_code == 404  # not due yet: nothing waits

    real_now = hub.now
    hub.now = lambda: real_now() + timedelta(days=30, minutes=1)
    take_events(hub)
    together(timer.fire, timer.fire)  # two instances' timers: one successor
    hub.now = real_now
    listed = {k["key_id"]: k for k in admin.get(f"/api/v1/tenants/{admin.tenant}/api-keys").json()}
    successor_id = listed[old["key_id"]]["rotated_to"]
    assert successor_id and listed[successor_id]["rotation_days"] == 30 and len(listed) == 3  # + the admin's key
    (event,) = take_events(hub, "api_key.rotated")
    assert event["data"]["successor_key_id"] == successor_id and "hubk_" not in str(event)
    assert event["source"] == f"/tenants/{admin.tenant}"  # a tenant-wide fact: no integration in its source

    assert admin.post(pickup).status_code == 403  # another key (even an admin one) cannot take it
    got = holder.post(pickup)
    assert got.status_code == 200, got.text
    new = got.json()
    assert new["key_id"] == successor_id and new["api_key"].startswith(f"hubk_{successor_id}_")
    assert new["scopes"] == ["integrations:read"]
    assert holder.post(pickup).status_code == 404  # once
    fresh = ApiClient(api, new["api_key"], admin.tenant)
    assert fresh.get(fresh.integrations).status_code == 200
    assert holder.get(holder.integrations).status_code == 200  # the old key works through its overlap
