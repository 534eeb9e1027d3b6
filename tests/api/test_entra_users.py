"""Portal users with Entra ID tokens: verified against the issuer's JWKS (a loopback fake), roles → scopes,
directory → tenant; tokens from another issuer, audience or directory are refused."""

from __future__ import annotations

import json
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from integrations.wiring import Hub
from tests.helpers import ApiClient, fortnox, serve

DIRECTORY = "72f988bf-86f1-41af-91ab-2d7cd011db47"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
JWK = {**json.loads(RSAAlgorithm.to_jwk(KEY.public_key())), "kid": "entra-test-key", "use": "sig", "alg": "RS256"}


def user_token(issuer: str, *, roles: list[str], tid: str = DIRECTORY, aud: str = "api://integration-hub") -> str:
    now = int(time.time())
    return jwt.encode(
        {"iss": issuer, "aud": aud, "tid": tid, "oid": "user-oid-1", "roles": roles, "iat": now, "exp": now + 600},
        KEY,
        algorithm="RS256",
        headers={"kid": "entra-test-key"},
    )


def test_portal_users_by_role(api: str, hub: Hub, tenant: str) -> None:
    jwks_app = Starlette(routes=[Route("/keys", lambda _: JSONResponse({"keys": [JWK]}))])
    with serve(jwks_app) as jwks_base:
        issuer = f"https://login.microsoftonline.com/{DIRECTORY}/v2.0"
        hub.settings.entra_issuer = issuer
        hub.settings.entra_jwks_url = f"{jwks_base}/keys"
        hub.settings.entra_tenants = {DIRECTORY: tenant}
        viewer = ApiClient(api, user_token(issuer, roles=["Hub.Viewer"]), tenant)
        assert viewer.get(viewer.integrations).status_code == 200
        assert viewer.post(viewer.integrations, json=fortnox(tenant)).status_code == 403
        editor = ApiClient(api, user_token(issuer, roles=["Hub.Editor"]), tenant)
        assert editor.post(editor.integrations, json=fortnox(tenant)).status_code == 201
        auditor = ApiClient(api, user_token(issuer, roles=["Hub.Auditor"]), tenant)
        assert auditor.get(f"/api/v1/tenants/{tenant}/audit").status_code == 200
        assert (
            ApiClient(api, user_token(issuer, roles=["Hub.Admin"], aud="api://other"), tenant)
            .get(viewer.integrations)
            .status_code
            == 401
        )
        assert (
            ApiClient(api, user_token(issuer, roles=["Hub.Admin"], tid="00000000-0000-0000-0000-000000000000"), tenant)
            .get(viewer.integrations)
            .status_code
            == 401
        )
        assert (
            ApiClient(api, user_token(issuer, roles=["Hub.Admin"]), "another-fed")
            .get("/api/v1/tenants/another-fed/integrations")
            .status_code
            == 404
        )
