"""API versions pinned per client, with a per-request override and a deprecation cycle: the worked example is
1.1's canonical member intake; a key pinned to 1.0 keeps 1.0's behaviour, told of the sunset on every answer."""

from __future__ import annotations

from datetime import UTC, datetime

from devfakes.launcher import Fakes
from integrations.auth.principal import Scope
from integrations.wiring import Hub
from tests.helpers import ApiClient
from tests.setups import FIELD_MAP, active_espo


def member(**fields: object) -> dict[str, object]:
    return {"members": [{"key": "M-1", "updated_at": datetime.now(UTC).isoformat(), "fields": fields}]}


def test_a_pinned_client_keeps_its_version_until_it_moves(admin: ApiClient, hub: Hub, fakes: Fakes) -> None:
    _, path = active_espo(admin, member_field_map={**FIELD_MAP, "shoe_size": "cShoeSize"})
    issued = hub.api_keys.issue(tenant_id=admin.tenant, scopes=[Scope.integrations_admin], name="v1.0", api_version="1.0")
    old = ApiClient(admin.base_url, issued.secret, admin.tenant)

    # 1.0: any mapped name goes; every answer says the version, its deprecation and its sunset
    r = old.post(f"{path}/outbox/members", json=member(first_name="Anna", shoe_size=42))
    assert r.status_code == 202, r.text
    assert r.headers["Hub-Api-Version"] == "1.0"
    assert r.headers["Deprecation"].startswith("@") and r.headers["Sunset"] == "Wed, 30 Jun 2027 00:00:00 GMT"
    assert r.headers["Link"] == '</api/v1/versions>; rel="deprecation"'

    # the same client tries 1.1 on one request before moving
    r = old.post(f"{path}/outbox/members", json=member(shoe_size=42), headers={"Hub-Api-Version": "1.1"})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/members/0/fields/shoe_size"
    assert r.headers["Hub-Api-Version"] == "1.1" and "Deprecation" not in r.headers

    # a key issued today is pinned to the latest
    r = admin.post(f"{path}/outbox/members", json=member(shoe_size=42))
    assert r.status_code == 422 and r.headers["Hub-Api-Version"] == "1.1"
    assert admin.get(path, headers={"Hub-Api-Version": "0.9"}).status_code == 400

    # the owner moves the key; from then on it is answered as 1.1
    keys = f"/api/v1/tenants/{admin.tenant}/api-keys"
    listed = {k["key_id"]: k for k in admin.get(keys).json()}
    assert listed[issued.key_id]["api_version"] == "1.0"
    moved = admin.request("PUT", f"{keys}/{issued.key_id}/api-version", json={"api_version": "1.1"})
    assert moved.status_code == 204, moved.text
    r = old.post(f"{path}/outbox/members", json=member(shoe_size=42))
    assert r.status_code == 422 and r.headers["Hub-Api-Version"] == "1.1"
    bad = admin.request("PUT", f"{keys}/{issued.key_id}/api-version", json={"api_version": "9.9"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/api_version"

    me = admin.get("/api/v1/me").json()
    assert me["tenant_id"] == admin.tenant and me["api_version"] == "1.1" and "integrations:admin" in me["scopes"]
    assert old.get("/api/v1/me").json()["api_version"] == "1.1"  # moved above

    versions = admin.get("/api/v1/versions").json()
    assert versions["latest"] == "1.1" and versions["header"] == "Hub-Api-Version"
    assert [(v["name"], v["deprecated"]) for v in versions["items"]] == [("1.0", True), ("1.1", False)]

    # a rotation changes the secret, never the version
    pinned = hub.api_keys.issue(tenant_id=admin.tenant, scopes=[Scope.integrations_read], name="r", api_version="1.0")
    successor = hub.api_keys.rotate(pinned.key_id, tenant_id=admin.tenant, overlap_s=60)
    assert hub.api_keys.authenticate(successor.secret).api_version == "1.0"
