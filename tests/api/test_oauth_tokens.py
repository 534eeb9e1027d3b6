"""The hub's own OAuth2 client-credentials tokens: issue, use, scope limits, JWKS rotation with overlap."""

from __future__ import annotations

import base64
import time

import jwt
import requests

from integrations.auth.jwt_tokens import TOKEN_TTL_S, issue
from integrations.auth.principal import Principal, Scope
from integrations.wiring import Hub
from tests.helpers import ApiClient


def _token(api: str, key_id: str, secret: str, scope: str | None = None) -> requests.Response:
    form = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    basic = base64.b64encode(f"{key_id}:{secret}".encode()).decode()
    return requests.post(f"{api}/api/v1/oauth/token", data=form, headers={"Authorization": f"Basic {basic}"}, timeout=10)


def test_client_credentials_token_works_and_is_scoped(api: str, hub: Hub, tenant: str) -> None:
    key = hub.api_keys.issue(tenant_id=tenant, scopes=[Scope.integrations_write], name="m2m")
    r = _token(api, key.key_id, key.secret, scope="integrations:read")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == TOKEN_TTL_S and body["scope"] == "integrations:read"
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "ES256" and header["kid"] in {
        k["kid"] for k in requests.get(f"{api}/.well-known/jwks.json").json()["keys"]
    }
    client = ApiClient(api, body["access_token"], tenant)
    assert client.get(client.integrations).status_code == 200
    assert client.post(client.integrations, json={"family": "mapping"}).status_code == 403  # read-only token
    assert _token(api, key.key_id, key.secret, scope="integrations:admin").json()["error"] == "invalid_scope"
    assert _token(api, key.key_id, "hubk_x_wrong").status_code == 401
    assert _token(api, "0000000000000000", key.secret).status_code == 401


def test_jwks_rotation_keeps_old_tokens_valid_until_expiry(api: str, hub: Hub, tenant: str) -> None:
    principal = Principal(tenant_id=tenant, client_id="c1", kind="oauth_client", scopes=frozenset({Scope.integrations_read}))
    old_token, _ = issue(hub.signing_keys, principal, [Scope.integrations_read])
    hub.signing_keys.rotate()
    new_token, _ = issue(hub.signing_keys, principal, [Scope.integrations_read])
    assert jwt.get_unverified_header(old_token)["kid"] != jwt.get_unverified_header(new_token)["kid"]
    for token in (old_token, new_token):
        assert ApiClient(api, token, tenant).get(f"/api/v1/tenants/{tenant}/integrations").status_code == 200
    assert len(requests.get(f"{api}/.well-known/jwks.json").json()["keys"]) == 2
    # a token with an unknown kid, and an expired one, fail
    forged = jwt.encode(
        {
            "iss": "integration-hub",
            "sub": "c1",
            "tid": tenant,
            "iat": int(time.time()),
            "exp": int(time.time()) + 60,
            "scope": "integrations:read",
        },
        __import__("cryptography.hazmat.primitives.asymmetric.ec", fromlist=["ec"]).generate_private_key(
            __import__("cryptography.hazmat.primitives.asymmetric.ec", fromlist=["ec"]).SECP256R1()
        ),
        algorithm="ES256",
        headers={"kid": "feedfacefeedface"},
    )
    assert ApiClient(api, forged, tenant).get(f"/api/v1/tenants/{tenant}/integrations").status_code == 401
    expired, _ = issue(hub.signing_keys, principal, [Scope.integrations_read], now=time.time() - TOKEN_TTL_S - 5)
    assert ApiClient(api, expired, tenant).get(f"/api/v1/tenants/{tenant}/integrations").status_code == 401
