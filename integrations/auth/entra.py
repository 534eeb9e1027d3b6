"""Tenant-portal users: Entra ID bearer tokens verified against the issuer's JWKS; app roles map to hub
scopes, and the Entra directory (`tid`) maps to the hub tenant the user administers."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jwt

from integrations.auth.principal import Principal, Scope, expand
from shared.errors import Unauthorized

ROLE_SCOPES: dict[str, frozenset[Scope]] = {
    "Hub.Viewer": frozenset({Scope.integrations_read, Scope.usage_read}),
    "Hub.Editor": frozenset({Scope.integrations_write, Scope.usage_read, Scope.syncs_run}),
    "Hub.Admin": frozenset({Scope.integrations_admin}),
    "Hub.Auditor": frozenset({Scope.audit_read, Scope.integrations_read}),
}


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=3600)


def verify_user(token: str, *, issuer: str, audience: str, jwks_url: str, tenants: dict[str, str]) -> Principal:
    try:
        key = _jwks_client(jwks_url).get_signing_key_from_jwt(token)
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "iss", "aud", "tid", "oid"]},
        )
    except (jwt.PyJWTError, jwt.PyJWKClientError):
        raise Unauthorized("Invalid credentials.", reason="invalid_user_token") from None
    tenant = tenants.get(claims["tid"])
    if tenant is None:
        raise Unauthorized("Invalid credentials.", reason="unmapped_directory")
    scopes: frozenset[Scope] = frozenset()
    for role in claims.get("roles", []):
        scopes |= ROLE_SCOPES.get(role, frozenset())
    return Principal(tenant_id=tenant, client_id=claims["oid"], kind="user", scopes=expand(scopes))
