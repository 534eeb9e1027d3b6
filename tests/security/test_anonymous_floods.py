"""Unauthenticated floods cost nothing and write nothing; bad ids are 4xx, never 500s (review finding 6)."""

from __future__ import annotations

import secrets

import pytest
import requests

from integrations.api.app import create_api
from integrations.wiring import Hub
from tests.helpers import ApiClient, serve


def test_forged_key_ids_share_the_callers_bucket_and_write_nothing(api: str, hub: Hub, tenant: str) -> None:
    victim = f"/api/v1/tenants/{tenant}/integrations"
    statuses: list[int] = []
    session = requests.Session()
    while 429 not in statuses and len(statuses) < 1000:  # the read bucket holds 100 (20/s): forged ids once each
        forged = f"hubk_{secrets.token_hex(8)}_{secrets.token_urlsafe(16)}"  # got a fresh bucket of their own
        statuses.append(session.get(api + victim, headers={"Authorization": f"Bearer {forged}"}, timeout=10).status_code)
    assert 429 in statuses and set(statuses) <= {401, 429}
    buckets = [e["PartitionKey"] for e in hub.tables.table("ratebuckets").query("RowKey eq 'bucket'")]
    assert buckets  # the caller's own bucket is there: the query finds bucket rows
    assert not any(b.startswith("key:") for b in buckets), buckets  # no row per forged id
    assert list(hub.tables.table("audit").query("PartitionKey eq @t", parameters={"t": tenant})) == []
    assert hub.anonymous_denials.snapshot().get("unknown", 0) > 0  # counted, and logged once a minute


@pytest.mark.parametrize(
    "auth",
    [
        "Bearer hubk_abc/def\\ghi#jk?_secret",
        "Bearer hubk_0123456789abcde\x01_secret",
        "Bearer hubk_" + "?" * 16 + "_secret",
    ],
)
def test_ids_storage_refuses_never_reach_it(api: str, tenant: str, auth: str) -> None:
    r = requests.get(f"{api}/api/v1/tenants/{tenant}/integrations", headers={"Authorization": auth}, timeout=10)
    assert r.status_code == 401 and r.headers["Content-Type"].startswith("application/problem+json")
    assert "x-correlation-id" in r.headers and "ratelimit" in r.headers


@pytest.mark.parametrize(
    "claims",
    [{"iss": "abc/def#?", "sub": "abc/def#?"}, {"jti": "a/b\\c#d"}, {"exp": "9999999999"}, {"jti": "x" * 300}],
)
def test_assertion_ids_are_typed_before_storage(api: str, hub: Hub, admin: ApiClient, claims: dict) -> None:
    import time

    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec
    from jwt.algorithms import ECAlgorithm

    from integrations.auth.principal import Scope

    key = hub.api_keys.issue(tenant_id=admin.tenant, scopes=[Scope.integrations_read], name="m2m")
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = {**__import__("json").loads(ECAlgorithm.to_jwk(private.public_key())), "kid": "k"}
    assert admin.request("PUT", f"/api/v1/tenants/{admin.tenant}/api-keys/{key.key_id}/jwks", json={"keys": [jwk]}).ok
    base = {
        "iss": key.key_id,
        "sub": key.key_id,
        "aud": f"{hub.settings.public_base_url}/api/v1/oauth/token",
        "exp": int(time.time()) + 60,
        "jti": "j1",
    }
    assertion = jwt.encode({**base, **claims}, private, algorithm="ES256", headers={"kid": "k"})
    r = requests.post(
        f"{api}/api/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion": assertion,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        },
        timeout=10,
    )
    assert r.status_code == 401 and r.json()["error"] == "invalid_client", r.text


def test_a_limiter_outage_is_a_503_with_the_edge_headers(hub: Hub, tenant: str) -> None:
    class Down:
        def check(self, client: str, path: str, method: str) -> object:
            raise ConnectionError("storage unreachable")

    with serve(create_api(limiter=lambda: Down(), max_body=1024)) as base:  # type: ignore[arg-type,return-value]
        r = requests.get(f"{base}/api/v1/tenants/{tenant}/integrations", timeout=10)
    assert r.status_code == 503 and r.headers["Content-Type"].startswith("application/problem+json")
    assert r.headers["Retry-After"] and r.headers["x-correlation-id"]
