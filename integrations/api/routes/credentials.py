"""Write-only credential intake and the provider OAuth flow."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Path, Query, Request, Response
from pydantic import BaseModel, Field

from integrations.api.body import Body
from integrations.api.deps import (
    AdaptersDep,
    Admin,
    ApiKeysDep,
    CatalogDep,
    ClockDep,
    CredentialsDep,
    IntegrationsDep,
    OAuthDep,
    ProviderAppDep,
    Ref,
    SettingsDep,
)
from integrations.api.problems import COMMON, CONDITIONAL, WRITE, problems
from integrations.api.routing import api_router
from integrations.auth.api_keys import ApiKeys
from integrations.documents.common import CREDENTIAL_SLOTS
from integrations.documents.ref import IntegrationRef
from integrations.service import set_credential_ref
from shared.errors import BadRequest, FieldError, Unauthorized, ValidationFailed

router = api_router(tags=["credentials"])
Slot = Annotated[str, Path(description="Credential slot.", examples=["api_key_ref"])]


class SecretIntake(Body):
    value: str = Field(min_length=1, max_length=16_384, description="The secret. Stored in the SecretStore; never returned.")
    overlap_seconds: int = Field(
        86_400, ge=0, le=30 * 86_400, description="How long the previous version keeps working after this rotation."
    )


class StoredCredentialOut(BaseModel):
    slot: str
    ref: str = Field(description="The Key Vault reference now recorded on the integration.")
    version: str
    previous_version: str | None = None
    previous_disabled_after: datetime | None = None


@router.put(
    "/api/v1/tenants/{tenant_id}/integrations/{integration_id}/credentials/{slot}",
    response_model=StoredCredentialOut,
    responses={**WRITE, **CONDITIONAL},
)
def put_credential(
    ref: Ref,
    slot: Slot,
    principal: Admin,
    credentials: CredentialsDep,
    integrations: IntegrationsDep,
    clock: ClockDep,
    body: SecretIntake,
) -> Any:
    """Store a credential (write-only; a new version rotates it)"""
    if slot not in CREDENTIAL_SLOTS:
        raise ValidationFailed(
            "Unknown credential slot.", [FieldError("path:slot", f"must be one of {', '.join(CREDENTIAL_SLOTS)}")]
        )
    integrations.get(ref)  # 404 before anything is stored
    stored = credentials.put(ref, slot, body.value, actor=principal.actor, overlap_s=body.overlap_seconds)
    set_credential_ref(ref, slot, stored.ref, repo=integrations, actor=principal.actor, now=clock)
    return StoredCredentialOut(
        slot=slot,
        ref=stored.ref,
        version=stored.version,
        previous_version=stored.previous_version,
        previous_disabled_after=stored.previous_disabled_after,
    )


class OAuthStart(BaseModel):
    authorize_url: str = Field(description="Send the tenant admin's browser here.")
    expires_at: datetime
    binding_cookie: str = Field(
        description="Name of the cookie (also set by this response) the callback must carry: the flow completes only "
        "for whoever started it."
    )
    binding: str = Field(description="The cookie's value, for clients that follow the redirects themselves.")


@router.post(
    "/api/v1/tenants/{tenant_id}/integrations/{integration_id}/oauth:start",
    operation_id="startOAuth",
    response_model=OAuthStart,
    responses=problems(COMMON, own={400: "Provider has no authorization-code flow."}),
)
def start_oauth(
    ref: Ref,
    principal: Admin,
    adapter_for: AdaptersDep,
    catalog: CatalogDep,
    integrations: IntegrationsDep,
    oauth: OAuthDep,
    provider_app: ProviderAppDep,
    settings: SettingsDep,
    response: Response,
) -> Any:
    """Start the provider's OAuth2 authorization-code flow"""
    document = integrations.get(ref).document
    spec = catalog.get(document.provider)
    flow = oauth.start(
        document,
        provider_app(document),
        scopes=adapter_for(document).oauth_scopes(),
        pkce=spec.auth.pkce,
        actor=principal.actor,
    )
    # The binding goes to the starter's browser as a cookie scoped to the callback (and in the body, for a
    # script that follows the redirects itself): the callback refuses a state arriving without it.
    response.set_cookie(
        flow.binding_cookie,
        flow.binding,
        max_age=max(1, flow.expires_at - int(time.time())),
        path="/api/v1/oauth/callback",
        secure=settings.public_base_url.startswith("https://"),
        httponly=True,
        samesite="lax",  # the provider's redirect back is a top-level GET: Lax cookies travel with it
    )
    return OAuthStart(
        authorize_url=flow.authorize_url,
        expires_at=datetime.fromtimestamp(flow.expires_at, UTC),
        binding_cookie=flow.binding_cookie,
        binding=flow.binding,
    )


def _starter_still_allowed(api_keys: ApiKeys, actor: str) -> None:
    """The flow completes as the principal who started it: a key revoked meanwhile completes nothing."""
    kind, _, client_id = actor.partition(":")
    if kind in ("api_key", "oauth_client"):
        try:
            api_keys.client(client_id)
        except Unauthorized:
            raise BadRequest("The OAuth flow was started by a credential that no longer works; start again.") from None


class OAuthDone(BaseModel):
    tenant_id: str
    integration_id: str
    scopes: list[str]
    oauth_refresh_token_ref: str


@router.get(
    "/api/v1/oauth/callback",
    response_model=OAuthDone,
    responses=problems(
        own={
            400: "Invalid, expired or replayed state; or the provider refused.",
            422: "Missing parameters.",
            429: COMMON[429],
            502: "The provider's token endpoint failed.",
        }
    ),
)
def oauth_callback(
    request: Request,
    oauth: OAuthDep,
    api_keys: ApiKeysDep,
    integrations: IntegrationsDep,
    provider_app: ProviderAppDep,
    credentials: CredentialsDep,
    clock: ClockDep,
    code: Annotated[str, Query(min_length=1, max_length=2048)],
    state: Annotated[str, Query(min_length=1, max_length=4096)],
) -> Any:
    # No hub credential here: the signed single-use state, and the binding cookie of whoever started the flow,
    # authenticate this redirect.
    """OAuth2 redirect target: verifies state, exchanges the code, stores the refresh token"""
    cookie = oauth.binding_cookie_of(state)
    claims = oauth.verify_state(state, binding=request.cookies.get(cookie) if cookie else None)
    _starter_still_allowed(api_keys, claims["actor"])
    document = integrations.get(IntegrationRef(claims["t"], claims["i"])).document
    app = provider_app(document)
    client_secret = credentials.resolve(
        document, "oauth_client_secret_ref", operation="oauth.callback", actor=claims["actor"]
    )
    done = oauth.complete(document, app, claims, code, client_secret=client_secret)
    set_credential_ref(
        document.ref,
        "oauth_refresh_token_ref",
        done.refresh_token_ref,
        repo=integrations,
        actor=claims["actor"],
        now=clock,
        grant={"scopes": done.scopes, "granted_at": clock().isoformat()},
    )
    return OAuthDone(
        tenant_id=done.tenant_id,
        integration_id=done.integration_id,
        scopes=done.scopes,
        oauth_refresh_token_ref=done.refresh_token_ref,
    )
