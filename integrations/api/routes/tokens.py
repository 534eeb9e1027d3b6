"""The hub as an OAuth2 authorization server for its own API: client credentials → short-lived JWT, and the
JWKS that verifies them. The client id is an API key id and the client secret the API key itself, so one
credential serves scripts that prefer either form; the token's scopes are at most the key's."""

from __future__ import annotations

import base64
from typing import Any

import anyio
from fastapi import Request
from fastapi.responses import JSONResponse

from integrations.api.deps import IssuerDep, SigningDep, TokenIssuer
from integrations.api.problems import problems
from integrations.api.routing import api_router
from integrations.auth.assertions import ASSERTION_TYPE, verify_assertion
from integrations.auth.jwt_tokens import SigningKeys, issue
from integrations.auth.principal import Principal, Scope
from shared.errors import Unauthorized

router = api_router(tags=["oauth"])


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    # RFC 6749 §5.2 error shape (not problem+json): OAuth client libraries parse this one.
    headers = {"WWW-Authenticate": 'Basic realm="integration-hub"'} if status == 401 else {}
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


@router.post(
    "/api/v1/oauth/token",
    responses=problems(
        own={
            200: {"description": "access_token, token_type, expires_in, scope"},
            400: {"description": "RFC 6749 error (invalid_request, unsupported_grant_type, invalid_scope)"},
            401: {"description": "invalid_client"},
            415: "Not form-encoded.",
            429: "Rate limited.",
        }
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["grant_type"],
                        "properties": {
                            "grant_type": {"type": "string", "enum": ["client_credentials"]},
                            "client_id": {"type": "string"},
                            "client_secret": {"type": "string"},
                            "scope": {"type": "string"},
                        },
                    }
                }
            },
        }
    },
)
async def issue_token(request: Request, issuer: IssuerDep) -> Any:
    """OAuth2 client credentials: a short-lived JWT for this API (RFC 6749 §4.4)"""
    from urllib.parse import parse_qs

    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    authorization = request.headers.get("authorization", "")
    # Key verification and the assertion's jti claim read and write storage: off the event loop.
    return await anyio.to_thread.run_sync(_token, issuer, form, authorization)


def _token(issuer: TokenIssuer, form: dict[str, str], auth: str) -> JSONResponse:
    if form.get("grant_type") != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "only client_credentials is supported")
    if form.get("client_assertion_type") == ASSERTION_TYPE:
        try:
            principal = verify_assertion(
                form.get("client_assertion", ""), keys=issuer.keys, seen=issuer.seen, audience=issuer.audience
            )
        except Unauthorized:
            return _oauth_error(401, "invalid_client", "client authentication failed")
        return _grant(issuer.signing, principal, form)
    client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    if auth.startswith("Basic "):
        try:
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        except ValueError:
            return _oauth_error(401, "invalid_client", "client authentication failed")
    try:
        principal = issuer.keys.authenticate(secret)
    except Unauthorized:
        return _oauth_error(401, "invalid_client", "client authentication failed")
    if principal.client_id != client_id:
        return _oauth_error(401, "invalid_client", "client authentication failed")
    return _grant(issuer.signing, principal, form)


def _grant(signing: SigningKeys, principal: Principal, form: dict[str, str]) -> JSONResponse:
    wanted = form.get("scope", "").split()
    try:
        scopes = [Scope(s) for s in wanted] if wanted else sorted(principal.scopes, key=lambda s: s.value)
    except ValueError:
        return _oauth_error(400, "invalid_scope", "unknown scope")
    if not set(scopes) <= principal.scopes:
        return _oauth_error(400, "invalid_scope", "scope exceeds the client's scopes")
    access, ttl = issue(signing, principal, scopes)
    return JSONResponse(
        {"access_token": access, "token_type": "Bearer", "expires_in": ttl, "scope": " ".join(s.value for s in scopes)},
        headers={"Cache-Control": "no-store"},
    )


@router.get("/.well-known/jwks.json", responses=problems(own={429: "Rate limited."}))
def jwks(signing: SigningDep) -> Any:
    """Keys verifying the hub's access tokens"""
    signing.current()  # make sure a key exists
    return JSONResponse(signing.jwks(), headers={"Cache-Control": "public, max-age=300"})
