"""Who may administer which API key (review finding 2): a caller acts only on keys at or below itself —
on `main` a `clients:admin` key rotated the admin key (and got its secret), re-keyed it, or revoked it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from integrations.auth.principal import Scope
from integrations.wiring import Hub
from tests.helpers import ApiClient

CALLER = [Scope.clients_admin, Scope.integrations_read]
TARGETS = {
    "below": [Scope.integrations_read],
    "equal": CALLER,
    "above": [Scope.integrations_admin],
}
EC_JWK = {
    "kty": "EC",
    "crv": "P-256",
    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
    "kid": "k1",
}


@pytest.mark.parametrize("relation", list(TARGETS))
@pytest.mark.parametrize("operation", ["create", "list", "rotate", "jwks", "revoke"])
def test_matrix(api: str, hub: Hub, tenant: str, operation: str, relation: str) -> None:
    caller = ApiClient(api, hub.api_keys.issue(tenant_id=tenant, scopes=CALLER, name="caller").secret, tenant)
    keys = f"/api/v1/tenants/{tenant}/api-keys"
    target = hub.api_keys.issue(tenant_id=tenant, scopes=TARGETS[relation], name="target")
    allowed = relation != "above"
    if operation == "create":
        r = caller.post(keys, json={"name": "n", "scopes": [s.value for s in TARGETS[relation]]})
        assert r.status_code == (201 if allowed else 403), r.text
    elif operation == "list":
        r = caller.get(keys)
        assert r.status_code == 200
        row = next(k for k in r.json() if k["key_id"] == target.key_id)
        assert row["manageable"] is allowed and "api_key" not in row
    elif operation == "rotate":
        r = caller.post(f"{keys}/{target.key_id}:rotate", json={"overlap_seconds": 0})
        assert r.status_code == (201 if allowed else 403), r.text
        assert ("api_key" in r.json()) is allowed  # no successor secret for a key above the caller
    elif operation == "jwks":
        r = caller.request("PUT", f"{keys}/{target.key_id}/jwks", json={"keys": [EC_JWK]})
        assert r.status_code == (204 if allowed else 403), r.text
    else:
        r = caller.delete(f"{keys}/{target.key_id}")
        assert r.status_code == (204 if allowed else 403), r.text
        still = ApiClient(api, target.secret, tenant).get(f"/api/v1/tenants/{tenant}/integrations")
        assert (still.status_code == 401) is allowed


def test_rotating_a_key_whose_overlap_ended_is_a_conflict(api: str, hub: Hub, admin: ApiClient) -> None:
    keys = f"/api/v1/tenants/{admin.tenant}/api-keys"
    target = hub.api_keys.issue(tenant_id=admin.tenant, scopes=[Scope.integrations_read], name="t")
    first = admin.post(f"{keys}/{target.key_id}:rotate", json={"overlap_seconds": 1})
    assert first.status_code == 201
    later = hub.now() + timedelta(seconds=5)
    hub.now = lambda: later  # type: ignore[method-assign]
    r = admin.post(f"{keys}/{target.key_id}:rotate", json={"overlap_seconds": 60})
    assert r.status_code == 409 and r.headers["Content-Type"].startswith("application/problem+json"), r.text
    # The successor inherited the key's own expiry (none), not the rotation's sunset: it works.
    assert ApiClient(api, first.json()["api_key"], admin.tenant).get(admin.integrations).status_code == 200
