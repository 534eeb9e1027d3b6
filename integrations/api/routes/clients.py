"""API keys of a tenant: issue, list, rotate with an overlap window, revoke. Every change is audited."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Path, Response
from pydantic import AfterValidator, BaseModel, Field, WithJsonSchema

from integrations.api.body import Body
from integrations.api.deps import ApiVersionDep, Authenticated, ClientsAdmin, KeyAdmin, KeyAdminDep, SecretStoreDep, TenantId
from integrations.api.problems import ANY_CREDENTIAL, COMMON, WRITE, problems
from integrations.api.routing import api_router
from integrations.api_versions import LATEST, VERSIONS
from integrations.auth import rotation
from integrations.auth.principal import Principal, Scope, expand
from shared.errors import FieldError, Forbidden, ValidationFailed

router = api_router(prefix="/api/v1/tenants/{tenant_id}/api-keys", tags=["api keys"])
KeyId = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$", description="API key id (the part after `hubk_`).")]


def _known_version(name: str) -> str:
    if name not in VERSIONS:
        raise ValueError(f"not one of {', '.join(VERSIONS)}")
    return name


VersionName = Annotated[str, AfterValidator(_known_version), WithJsonSchema({"type": "string", "enum": list(VERSIONS)})]


class KeyCreate(Body):
    name: str = Field(min_length=1, max_length=100, description="What the key is for.", examples=["nightly member sync"])
    scopes: list[Scope] = Field(min_length=1, description="At most the caller's own scopes.")
    expires_at: datetime | None = Field(None, description="Optional hard expiry.")
    rotation_days: int | None = Field(
        None,
        ge=1,
        le=365,
        description="Rotate on a schedule: at this age the key-rotation timer issues a successor (picked up with "
        "`POST …/{key_id}:successor` using this key; `api_key.rotated` announces it) and this key works for "
        "`rotation_overlap_seconds` more. Successors keep the period.",
    )
    rotation_overlap_seconds: int = Field(
        86_400, ge=3600, le=30 * 86_400, description="How long a scheduled rotation's old key keeps working."
    )
    api_version: VersionName = Field(
        LATEST,
        description="The API version the key is answered with (pinned; `Hub-Api-Version` overrides it per request).",
    )


class KeyRotate(Body):
    overlap_seconds: int = Field(86_400, ge=0, le=30 * 86_400, description="How long the old key keeps working.")


class IssuedKeyOut(BaseModel):
    key_id: str
    api_key: str = Field(description="Shown once; only a hash is stored.")
    scopes: list[str]


class KeyOut(BaseModel):
    key_id: str
    name: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    rotated_to: str | None
    rotation_days: int | None = Field(None, description="The key's rotation period, when it rotates on a schedule.")
    api_version: str = Field(description="The API version the key is pinned to.", examples=[LATEST])
    manageable: bool = Field(description="Whether this caller may rotate, re-key or revoke it (scopes ⊇ the key's).")


def _beyond(principal: Principal, scopes: Iterable[Scope | str]) -> list[str]:
    """Scopes of a key (expanded) that the caller lacks: a caller administers only keys at or below itself.
    Otherwise a `clients:admin` key could rotate an admin key (and receive its secret), register its own JWK on
    it, or revoke the administrators."""
    known = frozenset(Scope(s) for s in scopes if s in Scope._value2member_map_)
    return sorted(s.value for s in expand(known) - principal.scopes)


def _within(principal: Principal, scopes: Iterable[Scope | str], *, what: str) -> None:
    if beyond := _beyond(principal, scopes):
        raise Forbidden(f"{what} needs every scope the key has; this credential lacks some.", beyond_scopes=beyond)


def _manageable(principal: Principal, admin: KeyAdmin, tenant_id: str, key_id: str, *, what: str) -> None:
    _within(principal, admin.keys.scopes_of(key_id, tenant_id=tenant_id), what=what)


@router.post("", status_code=201, response_model=IssuedKeyOut, responses=WRITE)
def create_api_key(tenant_id: TenantId, principal: ClientsAdmin, admin: KeyAdminDep, body: KeyCreate) -> Any:
    """Issue an API key (shown once)"""
    _within(principal, body.scopes, what="Issuing a key")
    if body.expires_at and body.expires_at <= admin.now():
        raise ValidationFailed("The expiry is in the past.", [FieldError("/expires_at", "must be in the future")])
    issued = admin.keys.issue(
        tenant_id=tenant_id,
        scopes=body.scopes,
        name=body.name,
        expires_at=body.expires_at,
        rotation_days=body.rotation_days,
        rotation_overlap_s=body.rotation_overlap_seconds if body.rotation_days else None,
        api_version=body.api_version,
    )
    admin.audit.record(
        tenant_id,
        actor=principal.actor,
        action="api_key.create",
        target={"key_id": issued.key_id, "scopes": issued.scopes, "name": body.name},
    )
    return IssuedKeyOut(key_id=issued.key_id, api_key=issued.secret, scopes=issued.scopes)


@router.get("", response_model=list[KeyOut], responses=COMMON)
def list_api_keys(tenant_id: TenantId, principal: ClientsAdmin, admin: KeyAdminDep) -> Any:
    # Listing shows no secrets, so it shows every key; `manageable` says which this caller may administer.
    """The tenant's API keys (never their secrets)"""
    return [{**key, "manageable": not _beyond(principal, key["scopes"])} for key in admin.keys.list(tenant_id)]


@router.post(
    "/{key_id}:rotate",
    status_code=201,
    response_model=IssuedKeyOut,
    responses=problems(WRITE, own={409: "The key no longer works (expired, or its overlap has ended)."}),
)
def rotate_api_key(tenant_id: TenantId, key_id: KeyId, principal: ClientsAdmin, admin: KeyAdminDep, body: KeyRotate) -> Any:
    """Issue a successor; the old key works until the overlap ends"""
    _manageable(principal, admin, tenant_id, key_id, what="Rotating a key")
    issued = admin.keys.rotate(key_id, tenant_id=tenant_id, overlap_s=body.overlap_seconds)
    admin.audit.record(
        tenant_id,
        actor=principal.actor,
        action="api_key.rotate",
        target={"key_id": key_id, "successor": issued.key_id, "overlap_s": body.overlap_seconds},
    )
    return IssuedKeyOut(key_id=issued.key_id, api_key=issued.secret, scopes=issued.scopes)


@router.post(
    "/{key_id}:successor",
    response_model=IssuedKeyOut,
    responses=problems(
        COMMON,
        own={
            403: "Only the key itself picks up its successor.",
            404: "No successor is waiting (none was made yet, or it was picked up).",
        },
    ),
)
def pick_up_api_key_successor(
    tenant_id: TenantId, key_id: KeyId, principal: Authenticated, admin: KeyAdminDep, store: SecretStoreDep
) -> Any:
    """The successor a scheduled rotation made for this key (once; authenticated with the key itself)"""
    if principal.kind != "api_key" or principal.client_id != key_id or principal.tenant_id != tenant_id:
        raise Forbidden("Only the key itself picks up its successor: call with that key.")
    secret = rotation.pick_up_successor(store, tenant_id, key_id)
    successor_id = secret.split("_")[1]
    admin.audit.record(
        tenant_id,
        actor=principal.actor,
        action="api_key.successor_picked_up",
        target={"key_id": key_id, "successor": successor_id},
    )
    scopes = sorted(s.value for s in admin.keys.scopes_of(successor_id, tenant_id=tenant_id))
    return IssuedKeyOut(key_id=successor_id, api_key=secret, scopes=scopes)


@router.delete("/{key_id}", status_code=204, responses=COMMON)
def revoke_api_key(tenant_id: TenantId, key_id: KeyId, principal: ClientsAdmin, admin: KeyAdminDep) -> Response:
    """Revoke an API key (effective on every instance within 30 s)"""
    _manageable(principal, admin, tenant_id, key_id, what="Revoking a key")
    admin.keys.revoke(key_id, tenant_id=tenant_id)
    admin.audit.record(tenant_id, actor=principal.actor, action="api_key.revoke", target={"key_id": key_id})
    return Response(status_code=204)


class KeyVersion(Body):
    api_version: VersionName = Field(description="The version to pin the key to.", examples=[LATEST])


@router.put("/{key_id}/api-version", status_code=204, responses=WRITE)
def pin_api_key_version(
    tenant_id: TenantId, key_id: KeyId, principal: ClientsAdmin, admin: KeyAdminDep, body: KeyVersion
) -> Response:
    """Pin an API key to an API version (try it first per request with the Hub-Api-Version header)"""
    _manageable(principal, admin, tenant_id, key_id, what="Moving a key's API version")
    admin.keys.pin(key_id, tenant_id=tenant_id, api_version=body.api_version)
    admin.audit.record(
        tenant_id,
        actor=principal.actor,
        action="api_key.pin_version",
        target={"key_id": key_id, "version": body.api_version},
    )
    return Response(status_code=204)


class PublicKeys(Body):
    keys: list[dict[str, Any]] = Field(
        min_length=1, max_length=5, description="Public JWKs (EC P-256 or RSA) the client signs assertions with."
    )


@router.put("/{key_id}/jwks", status_code=204, responses=WRITE)
def register_client_keys(
    tenant_id: TenantId, key_id: KeyId, principal: ClientsAdmin, admin: KeyAdminDep, body: PublicKeys
) -> Response:
    """Register the public keys of a client's signed M2M assertions (RFC 7523)"""
    from integrations.auth.assertions import public_key

    _manageable(principal, admin, tenant_id, key_id, what="Registering keys on a key")
    for i, jwk in enumerate(body.keys):
        try:
            public_key(jwk)
        except (ValueError, KeyError, TypeError) as exc:
            raise ValidationFailed("A key is not a usable public JWK.", [FieldError(f"/keys/{i}", str(exc))]) from None
    admin.keys.register_public_keys(key_id, tenant_id=tenant_id, keys=body.keys)
    admin.audit.record(
        tenant_id,
        actor=principal.actor,
        action="api_key.keys",
        target={"key_id": key_id, "kids": [k.get("kid") for k in body.keys]},
    )
    return Response(status_code=204)


class Me(BaseModel):
    tenant_id: str = Field(description="The tenant this credential belongs to.")
    actor: str = Field(description="How the audit trail names this caller.", examples=["api_key:3f2a9c0d1e4b5a6f"])
    kind: str = Field(description="api_key, oauth_client, user or operator.")
    scopes: list[str] = Field(description="What it may do (expanded: admin implies the rest).")
    api_version: str = Field(description="The API version this request is answered with.")


me_router = api_router(tags=["api-keys"])


@me_router.get("/api/v1/me", response_model=Me, responses=ANY_CREDENTIAL)
def who_am_i(principal: Authenticated, version: ApiVersionDep) -> Any:
    """Who this credential is: its tenant, scopes and API version (the console's first call after sign-in)"""
    return Me(
        tenant_id=principal.tenant_id,
        actor=principal.actor,
        kind=principal.kind,
        scopes=sorted(s.value for s in principal.scopes),
        api_version=version,
    )
