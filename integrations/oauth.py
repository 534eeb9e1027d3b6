"""The provider OAuth2 authorization-code flow (with PKCE where the provider supports it).

`start` returns the provider's authorize URL with a `state` that is signed (HMAC), expiring and
single-use: its nonce is a row in `oauthstates`, deleted (ETag-conditional) when the callback consumes it,
so a replayed state finds nothing. The PKCE verifier never leaves the hub.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from pydantic import Field

from integrations.audit import AuditLog
from integrations.documents.document import IntegrationDocument
from integrations.tokens import ProviderApp, TokenBroker
from shared.errors import BadRequest, NotFound, PreconditionFailed, ProviderError
from shared.rows import Row, Rows
from shared.tables import Table

STATE_TTL_S = 600


def binding_cookie(nonce: str) -> str:
    return "hub_oauth_" + hashlib.sha256(nonce.encode()).hexdigest()[:16]


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class StartedFlow:
    authorize_url: str
    state: str
    expires_at: int
    binding: str  # held by the starter (cookie `binding_cookie`); only its digest is stored
    binding_cookie: str


@dataclass(frozen=True)
class CompletedFlow:
    tenant_id: str
    integration_id: str
    scopes: list[str]
    refresh_token_ref: str


class StateRow(Row):
    """A flow in progress (`PartitionKey = "state"`, `RowKey = <nonce>`), consumed by its callback."""

    tenant: str = Field(alias="Tenant")
    integration_id: str = Field(alias="IntegrationId")
    verifier: str = Field(alias="Verifier")  # the PKCE verifier ("" without PKCE)
    actor: str = Field(alias="Actor")
    binding: str = Field(alias="Binding")  # a digest of the starter's cookie value, never the value
    expires_at: int = Field(alias="ExpiresAt")  # unix seconds


class OAuthFlows:
    def __init__(
        self,
        *,
        states: Table,
        signing_key: str,
        broker: TokenBroker,
        audit: AuditLog,
        redirect_uri: str,
        now: Callable[[], datetime],
    ) -> None:
        self._states = Rows(states, StateRow)
        self._key = signing_key.encode()
        self._broker = broker
        self._audit = audit
        self._redirect_uri = redirect_uri
        self._now = now

    def _sign(self, payload: bytes) -> str:
        return _b64(hmac.new(self._key, payload, hashlib.sha256).digest())

    def start(
        self, document: IntegrationDocument, app: ProviderApp, *, scopes: list[str], pkce: bool, actor: str
    ) -> StartedFlow:
        """`binding` in the result is held by whoever started the flow (a cookie in their browser): the callback
        must present it, so a code cannot be injected into a flow someone else started (RFC 9700 §4.7)."""
        if not app.authorize_url:
            raise BadRequest(f"{document.provider} has no authorization-code flow.")
        nonce = secrets.token_urlsafe(16)
        binding = secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48) if pkce else ""
        expires = int(time.time()) + STATE_TTL_S
        self._states.insert(
            StateRow(
                partition="state",
                row=nonce,
                tenant=document.tenant_id,
                integration_id=document.id,
                verifier=verifier,
                actor=actor,
                binding=_digest(binding),
                expires_at=expires,
            )
        )
        payload = json.dumps(
            {"n": nonce, "t": document.tenant_id, "i": document.id, "exp": expires}, separators=(",", ":")
        ).encode()
        state = f"{_b64(payload)}.{self._sign(payload)}"
        params = {
            "client_id": app.client_id,
            "redirect_uri": self._redirect_uri,
            "response_type": "code",
            "scope": " ".join(scopes),
            "state": state,
            "access_type": "offline",
        }
        if pkce:
            params.update(code_challenge=_b64(hashlib.sha256(verifier.encode()).digest()), code_challenge_method="S256")
        self._audit.record(
            document.tenant_id,
            actor=actor,
            action="oauth.start",
            integration_id=document.id,
            target={"provider": document.provider, "scopes": scopes},
        )
        return StartedFlow(f"{app.authorize_url}?{urlencode(params)}", state, expires, binding, binding_cookie(nonce))

    def binding_cookie_of(self, state: str) -> str | None:
        """The cookie name the callback must carry for this state (None when the state is malformed)."""
        try:
            claims = json.loads(_unb64(state.split(".", 1)[0]))
            return binding_cookie(str(claims["n"]))
        except (ValueError, TypeError, KeyError):
            return None

    def verify_state(self, state: str, *, binding: str | None) -> dict[str, Any]:
        """Signature, expiry, the starter's binding and single use; consumes the state. Every failure looks the
        same outside."""
        try:
            encoded, signature = state.split(".", 1)
            payload = _unb64(encoded)
        except (ValueError, TypeError):
            raise BadRequest("The OAuth state is invalid.", reason="malformed") from None
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise BadRequest("The OAuth state is invalid.", reason="tampered")
        claims = json.loads(payload)
        if claims["exp"] < time.time():
            raise BadRequest("The OAuth state is invalid or expired; start again.", reason="expired")
        try:
            row, etag = self._states.get("state", claims["n"])
        except NotFound:
            raise BadRequest("The OAuth state is invalid or was already used; start again.", reason="replayed") from None
        if not binding or not hmac.compare_digest(row.binding, _digest(binding)):
            raise BadRequest("The OAuth state is invalid for this browser; start again.", reason="unbound")
        try:
            self._states.table.delete("state", claims["n"], etag=etag)  # a claim: of two concurrent callbacks one wins
        except (NotFound, PreconditionFailed):
            raise BadRequest("The OAuth state is invalid or was already used; start again.", reason="replayed") from None
        return {**claims, "verifier": row.verifier, "actor": row.actor}

    def _long_lived(
        self, document: IntegrationDocument, app: ProviderApp, client_secret: str, short: dict[str, Any]
    ) -> dict[str, Any]:
        """Meta: the code's user token lives an hour; exchanged once for a long-lived one (about 60 days), which
        is kept as the grant (in the refresh token's slot) and used as the access token until it expires."""
        form = {
            "grant_type": "fb_exchange_token",
            "client_id": app.client_id,
            "client_secret": client_secret,
            "fb_exchange_token": str(short["access_token"]),
        }
        data = self._broker.exchange(app, client_secret, form, provider=document.provider)
        if "error" in data or not data.get("access_token"):
            raise ProviderError(
                detail=f"{document.provider} refused the long-lived token exchange ({data.get('error')}).",
                provider=document.provider,
                status_code=400,
            )
        return {**data, "refresh_token": data["access_token"], "scope": short.get("scope", data.get("scope", ""))}

    def complete(
        self, document: IntegrationDocument, app: ProviderApp, claims: dict[str, Any], code: str, *, client_secret: str
    ) -> CompletedFlow:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self._redirect_uri}
        if claims.get("verifier"):
            form["code_verifier"] = claims["verifier"]
        data = self._broker.exchange(app, client_secret, form, provider=document.provider)
        if "error" in data or not data.get("access_token"):
            self._audit.record(
                document.tenant_id,
                actor=claims["actor"],
                action="oauth.grant",
                integration_id=document.id,
                outcome="failed",
                reason=str(data.get("error", "no access token")),
            )
            raise ProviderError(
                detail=f"{document.provider} refused the authorization code ({data.get('error')}).",
                provider=document.provider,
                status_code=400,
            )
        if self._broker.policy(document.provider).long_lived:
            data = self._long_lived(document, app, client_secret, data)
        if not data.get("refresh_token"):
            raise ProviderError(
                detail=f"{document.provider} granted no refresh token (offline access missing).",
                provider=document.provider,
                status_code=400,
            )
        token = self._broker.publish(document, data, rotates=True, reason="grant")
        self._audit.record(
            document.tenant_id,
            actor=claims["actor"],
            action="oauth.grant",
            integration_id=document.id,
            target={"provider": document.provider, "scopes": list(token.scopes)},
        )
        from integrations.credentials import secret_name

        return CompletedFlow(
            document.tenant_id,
            document.id,
            list(token.scopes),
            f"kv:{secret_name(document.ref, 'oauth_refresh_token_ref')}",
        )
