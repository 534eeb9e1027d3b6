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
    # Tokens are issued to a live key (a token whose `sub` is no key at all is refused: tests/security).
    key = hub.api_keys.issue(tenant_id=tenant, scopes=[Scope.integrations_read], name="rotation")
    principal = Principal(
        tenant_id=tenant, client_id=key.key_id, kind="oauth_client", scopes=frozenset({Scope.integrations_read})
    )
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


def test_signed_m2m_assertion_single_use(api: str, hub: Hub, admin: ApiClient) -> None:
    import json
    import secrets

    from cryptography.hazmat.primitives.asymmetric import ec
    from jwt.algorithms import ECAlgorithm

    key = hub.api_keys.issue(tenant_id=admin.tenant, scopes=[Scope.integrations_read], name="batch")
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = {**json.loads(ECAlgorithm.to_jwk(private.public_key())), "kid": "batch-2026"}
    r = admin.request("PUT", f"/api/v1/tenants/{admin.tenant}/api-keys/{key.key_id}/jwks", json={"keys": [jwk]})
    assert r.status_code == 204, r.text
    leaked = {**jwk, "d": "secret-part"}
    r = admin.request("PUT", f"/api/v1/tenants/{admin.tenant}/api-keys/{key.key_id}/jwks", json={"keys": [leaked]})
    assert r.status_code == 422 and "private" in r.json()["errors"][0]["message"]

    def assertion(aud: str = f"{hub.settings.public_base_url}/api/v1/oauth/token", jti: str | None = None) -> str:
        now = int(time.time())
        return jwt.encode(
            {
                "iss": key.key_id,
                "sub": key.key_id,
                "aud": aud,
                "iat": now,
                "exp": now + 120,
                "jti": jti or secrets.token_hex(8),
            },
            private,
            algorithm="ES256",
            headers={"kid": "batch-2026"},
        )

    def exchange(signed: str) -> requests.Response:
        return requests.post(
            f"{api}/api/v1/oauth/token",
            timeout=10,
            data={
                "grant_type": "client_credentials",
                "client_assertion": signed,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            },
        )

    signed = assertion()
    first = exchange(signed)
    assert first.status_code == 200, first.text
    client = ApiClient(api, first.json()["access_token"], admin.tenant)
    assert client.get(client.integrations).status_code == 200
    assert exchange(signed).status_code == 401  # the same jti again: replay
    assert exchange(assertion(aud="https://elsewhere.example/token")).status_code == 401
    stranger = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode(
        {
            "iss": key.key_id,
            "sub": key.key_id,
            "aud": f"{hub.settings.public_base_url}/api/v1/oauth/token",
            "exp": int(time.time()) + 60,
            "jti": "x1",
        },
        stranger,
        algorithm="ES256",
        headers={"kid": "batch-2026"},
    )
    assert exchange(forged).status_code == 401


def test_the_timer_rotates_the_signing_key_once_it_is_due_and_only_once(api: str, hub: Hub, tenant: str) -> None:
    """Rotation that nothing calls is no rotation: the key-rotation timer replaces the key at its age (one
    instance rotating when two fire together), tokens signed before keep verifying, and the CLI rotates too."""
    import io
    from contextlib import redirect_stdout
    from datetime import timedelta

    import function_app
    from tests.helpers import together
    from tools import cli
    from tools.runner import LocalRunner

    key = hub.api_keys.issue(tenant_id=tenant, scopes=[Scope.integrations_read], name="rotation")
    principal = Principal(
        tenant_id=tenant, client_id=key.key_id, kind="oauth_client", scopes=frozenset({Scope.integrations_read})
    )
    before, _ = issue(hub.signing_keys, principal, [Scope.integrations_read])
    first = jwt.get_unverified_header(before)["kid"]
    timer = LocalRunner(function_app.app).timers["timer_key_rotation"]
    timer.fire()
    assert [k["kid"] for k in requests.get(f"{api}/.well-known/jwks.json").json()["keys"]] == [first]  # not due

    real_now = hub.now
    hub.now = lambda: real_now() + timedelta(days=hub.settings.signing_key_rotation_days, minutes=1)
    together(timer.fire, timer.fire)  # two instances' timers at once: one rotation
    kids = [k["kid"] for k in requests.get(f"{api}/.well-known/jwks.json").json()["keys"]]
    assert len(kids) == 2 and kids[0] == first, kids
    hub.now = real_now
    after, _ = issue(hub.signing_keys, principal, [Scope.integrations_read])
    assert jwt.get_unverified_header(after)["kid"] == kids[1]
    for token in (before, after):  # the previous key verifies until its tokens expire
        assert ApiClient(api, token, tenant).get(f"/api/v1/tenants/{tenant}/integrations").status_code == 200

    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["rotate-signing-key"]) == 0
    assert __import__("json").loads(out.getvalue())["current_kid"] not in (first, kids[1])
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["rotate-key", key.key_id, "--tenant", tenant, "--overlap-hours", "1"]) == 0
    successor = __import__("json").loads(out.getvalue())
    assert successor["rotated"] == key.key_id and successor["api_key"] != key.secret
    assert _token(api, successor["key_id"], successor["api_key"]).status_code == 200
    assert _token(api, key.key_id, key.secret).status_code == 200  # the old key works through the overlap
