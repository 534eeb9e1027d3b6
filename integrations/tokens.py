"""OAuth2 access tokens for provider calls: cached, refreshed once across all workers, rotation-safe.

Order of a refresh (under the lease `token:<integration>`, so N workers on any number of instances make
exactly one call to the provider's token endpoint):
  1. exchange the current refresh token at the provider;
  2. persist the rotated refresh token (new SecretStore version) **before** anything uses the new access token;
  3. publish the access token in the shared cache (a secret of its own) and the process cache;
  4. release the lease; waiting workers re-read the shared cache and find it fresh.
A crash between 1 and 2 loses the rotated token; for single-use providers (Fortnox, Visma) the old one is
already spent, so the next refresh gets `invalid_grant` and the integration is marked `needs_reauth`
(never retried in a loop). Xero keeps the previous refresh token valid for 30 minutes, which covers it.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.spec import AuthSpec, ProviderSpec
from integrations.audit import AuditLog
from integrations.credentials import Credentials, secret_name
from integrations.documents.document import Condition, IntegrationDocument
from shared import telemetry
from shared.errors import ProviderError
from shared.http import Call, OutboundClient
from shared.leases import Leases
from shared.redaction import REDACTOR
from shared.secrets.store import SecretNotFound

EARLY_S = 60.0  # refresh at most this long before expiry...
EARLY_SHARE = 0.25  # ...and at most this share of the token's lifetime (a 30 s token is refreshed 7.5 s early)


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_at: float  # epoch seconds
    scopes: tuple[str, ...]
    issued_at: float | None = None  # epoch seconds; None for tokens stored before it was kept

    def fresh(self, now: float | None = None) -> bool:
        """Still usable for a call starting now. The refresh margin is proportional to the lifetime: a
        fixed 60 s would refresh a token that lives under 60 s on every call."""
        now = time.time() if now is None else now
        lifetime = self.expires_at - (self.issued_at if self.issued_at is not None else now)
        return self.expires_at - min(EARLY_S, EARLY_SHARE * max(lifetime, 0.0)) > now


@dataclass(frozen=True)
class RefreshPolicy:
    """What the catalog's auth facts mean for a refresh (adapters/catalog/<provider>.json, `auth`)."""

    default_ttl_s: float  # a token answer without expires_in lives this long
    rotates: bool  # a refresh answers a new refresh token, which must be stored before the access token is used
    read_fresh: bool  # a cached copy of the refresh token may be dead: read it from the store under the lease
    long_lived: bool = False  # Meta: the grant is a long-lived access token; expired, it cannot be refreshed

    @classmethod
    def of(cls, auth: AuthSpec, *, cache_ttl_s: float) -> RefreshPolicy:
        return cls(
            default_ttl_s=float(auth.access_token_ttl_s or 3600),
            rotates=auth.refresh_rotates,
            # Another instance may have rotated it since this one cached it: a single-use token (Fortnox, Visma)
            # is dead at once, one with a grace period (Xero: 30 min) once the grace is shorter than the cache.
            read_fresh=auth.refresh_rotates and (auth.refresh_single_use or auth.refresh_grace_s < cache_ttl_s),
            long_lived=auth.long_lived_exchange,
        )


@dataclass(frozen=True)
class ProviderApp:
    """Where and as whom the hub talks OAuth to a provider (catalog + settings overrides + document)."""

    token_url: str
    authorize_url: str | None
    client_id: str
    token_auth: str


class NeedsReauth(ProviderError):
    pass


class TokenBroker:
    def __init__(
        self,
        *,
        credentials: Credentials,
        leases: Leases,
        outbound: OutboundClient,
        audit: AuditLog,
        app_for: Callable[[Any], ProviderApp],
        spec_for: Callable[[str], ProviderSpec],
        mark_needs_reauth: Callable[[Any, Condition], None],
        now: Callable[[], datetime],
    ) -> None:
        self._credentials = credentials
        self._leases = leases
        self._outbound = outbound
        self._audit = audit
        self._app_for = app_for
        self._spec_for = spec_for
        self._mark = mark_needs_reauth
        self._now = now
        self._memory: dict[str, AccessToken] = {}
        self._lock = threading.Lock()

    def access_token(self, document: IntegrationDocument, *, operation: str) -> AccessToken:
        key = document.id
        with self._lock:
            cached = self._memory.get(key)
        if cached and cached.fresh():
            return cached
        with self._leases.held(f"token-{document.tenant_id}-{key}", ttl_s=30, wait_s=60):
            # Under the lease the shared copy is read from the store: another instance may have refreshed since
            # this one cached it (a stale copy would refresh once per instance per lifetime, not once).
            shared = self._read_shared(document, operation)
            if shared and shared.fresh():
                token = shared
            else:
                token = self._refresh(document, operation)
        with self._lock:
            self._memory[key] = token
        return token

    def invalidate(self, document: IntegrationDocument) -> None:
        """The provider rejected the token (401): drop both caches so the next call refreshes."""
        with self._lock:
            self._memory.pop(document.id, None)
        name = self._shared_name(document)
        try:
            self._credentials.store.set(name, json.dumps({"expires_at": 0}))
        except Exception:  # noqa: BLE001 - best effort; expiry handles it otherwise
            pass
        self._credentials.forget(name)

    def _shared_name(self, document: IntegrationDocument) -> str:
        return secret_name(document.ref, "oauth_access_token")

    def _read_shared(self, document: IntegrationDocument, operation: str) -> AccessToken | None:
        try:
            raw = self._credentials.resolve_ref(
                document.tenant_id,
                document.id,
                f"kv:{self._shared_name(document)}",
                slot="oauth_access_token",
                operation=operation,
                fresh=True,
            )
        except SecretNotFound:
            return None
        data = json.loads(raw)
        if not data.get("access_token"):
            return None
        issued = data.get("issued_at")
        return AccessToken(
            data["access_token"],
            float(data["expires_at"]),
            tuple(data.get("scopes", ())),
            float(issued) if issued is not None else None,
        )

    def policy(self, provider: str) -> RefreshPolicy:
        return RefreshPolicy.of(self._spec_for(provider).auth, cache_ttl_s=self._credentials.cache_ttl_s)

    def _refresh(self, document: IntegrationDocument, operation: str) -> AccessToken:
        app = self._app_for(document)
        policy = self.policy(document.provider)
        if policy.long_lived:
            # Nothing to refresh with: the long-lived token was the grant, and it has expired (or was revoked).
            reason = "The provider's long-lived token has expired (about 60 days): reconnect through the OAuth flow."
            self._mark(document, Condition(type="needs_reauth", reason=reason, since=self._now()))
            raise NeedsReauth(detail=f"{document.provider}: {reason}", provider=document.provider, retriable=False)
        client_secret = self._credentials.resolve(document, "oauth_client_secret_ref", operation="token.refresh")
        refresh_token = self._credentials.resolve(
            document, "oauth_refresh_token_ref", operation="token.refresh", fresh=policy.read_fresh
        )
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        data = self.exchange(app, client_secret, form, provider=document.provider)
        telemetry.token_refreshes.add(1, {"provider": document.provider, "outcome": data.get("error", "ok")})
        if data.get("error") == "invalid_grant":
            self._audit.record(
                document.tenant_id,
                actor="hub:tokens",
                action="oauth.refresh",
                integration_id=document.id,
                outcome="invalid_grant",
                reason=REDACTOR.excerpt(str(data.get("error_description", "")), 200),
            )
            self._mark(
                document,
                Condition(
                    type="needs_reauth",
                    reason="The provider revoked the grant (invalid_grant): reconnect through the OAuth flow.",
                    since=self._now(),
                ),
            )
            raise NeedsReauth(
                detail=f"{document.provider}: grant revoked; reconnect required",
                provider=document.provider,
                status_code=400,
                retriable=False,
            )
        token = self.publish(document, data, rotates=policy.rotates, reason="refresh")
        self._audit.record(
            document.tenant_id,
            actor="hub:tokens",
            action="oauth.refresh",
            integration_id=document.id,
            target={"operation": operation, "expires_at": int(token.expires_at)},
        )
        return token

    def publish(self, document: IntegrationDocument, data: dict[str, Any], *, rotates: bool, reason: str) -> AccessToken:
        """Steps 2 and 3 of the refresh order (also used by the OAuth callback)."""
        new_refresh = data.get("refresh_token")
        if new_refresh and (rotates or reason == "grant"):
            self._credentials.put(
                document.ref,
                "oauth_refresh_token_ref",
                new_refresh,
                actor="hub:tokens",
                overlap_s=0,
                reason=f"oauth {reason}",
            )
        scopes = tuple(str(data.get("scope", "")).split())
        issued = time.time()
        lifetime = float(data.get("expires_in") or self.policy(document.provider).default_ttl_s)
        token = AccessToken(data["access_token"], issued + lifetime, scopes, issued)
        self._credentials.put(
            document.ref,
            "oauth_access_token",
            json.dumps(
                {
                    "access_token": token.token,
                    "expires_at": token.expires_at,
                    "issued_at": token.issued_at,
                    "scopes": list(scopes),
                }
            ),
            actor="hub:tokens",
            overlap_s=0,
            reason=reason,
        )
        self._credentials.forget(self._shared_name(document))
        return token

    def exchange(self, app: ProviderApp, client_secret: str, form: dict[str, str], *, provider: str) -> dict[str, Any]:
        """POST to the token endpoint. Returns the JSON (an `error` key for OAuth errors)."""
        headers = {"Accept": "application/json"}
        form = dict(form)
        if app.token_auth == "basic":
            basic = base64.b64encode(f"{app.client_id}:{client_secret}".encode()).decode()
            headers["Authorization"] = f"Basic {basic}"
        else:
            form.update(client_id=app.client_id, client_secret=client_secret)
        response = self._outbound.send(
            Call("POST", app.token_url, headers=headers, data=form, expect=frozenset({400})),
            self._spec_for(provider).policy(max_attempts=3),
        )
        try:
            data: dict[str, Any] = response.json()
        except ValueError:
            raise ProviderError(
                detail=f"{provider}: token endpoint answered {response.status_code} without JSON",
                provider=provider,
                status_code=response.status_code,
            ) from None
        if response.status_code == 400 and "error" not in data:
            data["error"] = "invalid_request"
        for key in ("access_token", "refresh_token"):
            if data.get(key):
                REDACTOR.register(data[key])
        return data
