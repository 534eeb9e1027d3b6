"""Revocation reaches issued JWTs (review finding 3): on `main` a revoked key's JWT kept working for its 15
minutes, and a hub-signed JWT whose `sub` was no key at all was accepted."""

from __future__ import annotations

import time

import jwt
import requests

from integrations.auth.jwt_tokens import issue
from integrations.auth.principal import Principal, Scope
from integrations.wiring import Hub
from tests.helpers import ApiClient


def _token(api: str, secret: str, key_id: str, scope: str = "integrations:read") -> str:
    r = requests.post(
        f"{api}/api/v1/oauth/token",
        data={"grant_type": "client_credentials", "client_id": key_id, "client_secret": secret, "scope": scope},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def _get(api: str, token: str, tenant: str) -> int:
    return ApiClient(api, token, tenant).get(f"/api/v1/tenants/{tenant}/integrations").status_code


def test_revoking_a_key_ends_its_tokens(api: str, hub: Hub, admin: ApiClient) -> None:
    key = hub.api_keys.issue(tenant_id=admin.tenant, scopes=[Scope.integrations_read], name="m2m")
    token = _token(api, key.secret, key.key_id)
    assert _get(api, token, admin.tenant) == 200
    assert admin.delete(f"/api/v1/tenants/{admin.tenant}/api-keys/{key.key_id}").status_code == 204
    assert _get(api, token, admin.tenant) == 401


def test_rotation_with_no_overlap_ends_the_old_keys_tokens(api: str, hub: Hub, admin: ApiClient) -> None:
    key = hub.api_keys.issue(tenant_id=admin.tenant, scopes=[Scope.integrations_read], name="m2m")
    token = _token(api, key.secret, key.key_id)
    r = admin.post(f"/api/v1/tenants/{admin.tenant}/api-keys/{key.key_id}:rotate", json={"overlap_seconds": 0})
    assert r.status_code == 201
    assert _get(api, token, admin.tenant) == 401
    assert _get(api, _token(api, r.json()["api_key"], r.json()["key_id"]), admin.tenant) == 200


def test_a_token_for_no_key_or_another_tenant_is_refused(api: str, hub: Hub, admin: ApiClient) -> None:
    ghost = Principal(tenant_id=admin.tenant, client_id="0123456789abcdef", kind="oauth_client", scopes=frozenset())
    token, _ = issue(hub.signing_keys, ghost, [Scope.integrations_admin])
    assert _get(api, token, admin.tenant) == 401
    other = hub.api_keys.issue(tenant_id="other-" + admin.tenant[4:], scopes=[Scope.integrations_admin], name="o")
    forged_tid = Principal(tenant_id=admin.tenant, client_id=other.key_id, kind="oauth_client", scopes=frozenset())
    token, _ = issue(hub.signing_keys, forged_tid, [Scope.integrations_admin])
    assert _get(api, token, admin.tenant) == 401


def test_claims_are_typed_and_scopes_never_exceed_the_keys(api: str, hub: Hub, admin: ApiClient) -> None:
    key = hub.api_keys.issue(tenant_id=admin.tenant, scopes=[Scope.integrations_read], name="narrow")
    kid, private = hub.signing_keys.current()
    now = int(time.time())
    base = {"iss": "integration-hub", "sub": key.key_id, "tid": admin.tenant, "iat": now, "exp": now + 60}
    for claims in ({**base, "tid": ["x"]}, {**base, "sub": "../x"}, {**base, "scope": 7}):
        token = jwt.encode(claims, private, algorithm="ES256", headers={"kid": kid})
        assert _get(api, token, admin.tenant) == 401, claims
    # Signed by the hub with more scopes than the key has (e.g. a key narrowed since): only the key's count.
    wide = jwt.encode({**base, "scope": "integrations:admin"}, private, algorithm="ES256", headers={"kid": kid})
    assert ApiClient(api, wide, admin.tenant).post(admin.integrations, json={}).status_code == 403
