"""A loopback Entra ID (OpenID configuration + client-credentials token endpoint) and Dataverse `WhoAmI`.

Entra answers like the real one: a wrong client secret is `invalid_client` (AADSTS7000215) with 401; a token
is scoped to the requested resource; Dataverse checks Bearer validity and audience.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

AUTHORITY_HOST = "login.microsoftonline.com"


@dataclass
class EntraDataverseFake:
    directory_id: str = "11111111-2222-3333-4444-555555555555"
    client_id: str = "d365-app-client-id"
    client_secret: str = "d365-app-client-secret-value"
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # token → (audience, expires)
    token_calls: int = 0

    async def openid(self, request: Request) -> Response:
        tenant = request.path_params["tenant"]
        base = f"https://{AUTHORITY_HOST}/{tenant}"
        return JSONResponse(
            {
                "issuer": f"{base}/v2.0",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
            }
        )

    async def token(self, request: Request) -> Response:
        self.token_calls += 1
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        if request.path_params["tenant"] != self.directory_id:
            return JSONResponse(
                {"error": "invalid_request", "error_description": "AADSTS90002: Tenant not found."}, status_code=400
            )
        if form.get("client_id") != self.client_id or not secrets.compare_digest(
            form.get("client_secret", ""), self.client_secret
        ):
            return JSONResponse(
                {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."},
                status_code=401,
            )
        scope = form.get("scope", "")
        audience = next((s.removesuffix("/.default") for s in scope.split() if s.endswith("/.default")), "")
        token = "eyJ" + secrets.token_urlsafe(32)
        self.tokens[token] = (audience, time.time() + 3599)
        return JSONResponse({"token_type": "Bearer", "expires_in": 3599, "access_token": token})

    async def whoami(self, request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        entry = self.tokens.get(auth.removeprefix("Bearer "))
        if entry is None or entry[1] < time.time():
            return JSONResponse(
                {"error": {"code": "0x80072560", "message": "The user is not a member of the organization."}},
                status_code=401,
            )
        return JSONResponse({"BusinessUnitId": "bu-1", "UserId": "app-user-1", "OrganizationId": "org-1"})

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/{tenant}/v2.0/.well-known/openid-configuration", self.openid),
                Route("/{tenant}/oauth2/v2.0/token", self.token, methods=["POST"]),
                Route("/api/data/v9.2/WhoAmI", self.whoami),
            ]
        )
