"""Access tokens for machine-to-machine providers (OAuth2 client credentials): Dynamics 365 through msal
against Entra ID, others (PayPal) by a plain token request. Cached until shortly before expiry; msal keeps
its own token cache per app, which we keep per integration.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import msal
import requests

from adapters.spec import ProviderSpec
from integrations.documents.document import IntegrationDocument
from integrations.tokens import AccessToken
from shared.errors import ProviderError
from shared.http import Call, OutboundClient
from shared.redaction import REDACTOR


class HostRewritingSession(requests.Session):
    """Sends requests for one host to another base URL: how a fake Entra ID is reached in tests and local runs.
    Without an override the hub uses a plain session, so production takes the ordinary path."""

    def __init__(self, host: str, base_url: str) -> None:
        super().__init__()
        self._host, self._base = host, base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        parts = urlsplit(url)
        if parts.netloc == self._host:
            url = f"{self._base}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        return super().request(method, url, *args, **kwargs)


class MachineTokens:
    def __init__(
        self,
        *,
        resolve_secret: Callable[[Any, str], str],
        spec_for: Callable[[str], ProviderSpec],
        overrides_for: Callable[[str], dict[str, str]],
        outbound: OutboundClient,
    ) -> None:
        self._outbound = outbound
        self._resolve = resolve_secret
        self._spec_for = spec_for
        self._overrides_for = overrides_for
        self._apps: dict[str, tuple[str, msal.ConfidentialClientApplication]] = {}
        self._cache: dict[str, AccessToken] = {}
        self._lock = threading.Lock()

    def access_token(self, document: IntegrationDocument, *, operation: str) -> AccessToken:
        with self._lock:
            cached = self._cache.get(document.id)
        if cached and cached.fresh():
            return cached
        secret = self._resolve(document, operation)
        token = self._acquire(document, secret)
        with self._lock:
            self._cache[document.id] = token
        return token

    def invalidate(self, document: IntegrationDocument) -> None:
        with self._lock:
            self._cache.pop(document.id, None)
            self._apps.pop(document.id, None)

    def _acquire(self, document: IntegrationDocument, secret: str) -> AccessToken:
        spec = self._spec_for(document.provider)
        config = {k: str(v).rstrip("/") for k, v in document.config.model_dump(mode="json").items() if v}
        if not spec.auth.authority:
            return self._plain(document, spec, secret)
        authority = spec.auth.authority.format(**config)
        scopes = [s.format(**config) for s in spec.auth.scopes]
        app = self._app(document, authority, secret)
        result = app.acquire_token_for_client(scopes=scopes)
        if "access_token" not in result:
            REDACTOR.register(secret)
            raise ProviderError(
                detail=f"{document.provider}: Entra ID refused the client credentials "
                f"({result.get('error')}: {result.get('error_description', '')})",
                provider=document.provider,
                status_code=401,
                retriable=False,
            )
        REDACTOR.register(result["access_token"])
        issued = time.time()
        return AccessToken(result["access_token"], issued + float(result.get("expires_in", 3600)), tuple(scopes), issued)

    def _plain(self, document: IntegrationDocument, spec: ProviderSpec, secret: str) -> AccessToken:
        """A client-credentials grant without Entra ID (PayPal, Twitch's app token): POST the token URL, the client
        authenticated as the catalog says (HTTP Basic, or the id and secret in the form)."""
        overrides = self._overrides_for(document.provider)
        base = overrides.get("base_url") or spec.base_urls["sandbox" if document.sandbox else "production"]
        token_url = overrides.get("token_url") or (spec.auth.token_url or "").format(base_url=base.rstrip("/"))
        headers, form = {"Accept": "application/json"}, {"grant_type": "client_credentials"}
        if spec.auth.token_auth == "basic":
            basic = base64.b64encode(f"{document.oauth_client_id}:{secret}".encode()).decode()
            headers["Authorization"] = f"Basic {basic}"
        else:
            form |= {"client_id": str(document.oauth_client_id), "client_secret": secret}
        response = self._outbound.send(
            Call(
                "POST",
                token_url,
                headers=headers,
                data=form,
                expect=frozenset({400, 401}),
            ),
            self._spec_for(document.provider).policy(max_attempts=3),
        )
        data = response.json()
        if response.status_code >= 400 or "access_token" not in data:
            raise ProviderError(
                detail=f"{document.provider}: token endpoint answered {response.status_code} "
                f"({data.get('error')}: {data.get('error_description', '')})",
                provider=document.provider,
                status_code=response.status_code,
                retriable=False,
            )
        REDACTOR.register(data["access_token"])
        issued = time.time()
        return AccessToken(
            data["access_token"],
            issued + float(data.get("expires_in", 3600)),
            tuple(str(data.get("scope", "")).split()),
            issued,
        )

    def _app(self, document: IntegrationDocument, authority: str, secret: str) -> msal.ConfidentialClientApplication:
        key = f"{authority}|{document.oauth_client_id}|{hash(secret)}"
        with self._lock:
            found = self._apps.get(document.id)
            if found and found[0] == key:
                return found[1]
        override = self._overrides_for(document.provider).get("authority_base")
        # msal brings its own HTTP calls: give it a session behind the egress policy like every other call.
        http_client = self._outbound.new_session(
            HostRewritingSession(urlsplit(authority).netloc, override) if override else None
        )
        app = msal.ConfidentialClientApplication(
            document.oauth_client_id,
            client_credential=secret,
            authority=authority,
            http_client=http_client,
            instance_discovery=False,
        )
        with self._lock:
            self._apps[document.id] = (key, app)
        return app
