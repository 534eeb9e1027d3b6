"""The adapter framework: one small class per provider on top of a shared base.

The base knows the catalog entry (auth kind, base URLs, limits) and the hub's collaborators (credentials,
tokens, the outbound client, usage counters), so a provider class only declares what differs: paths,
payload shapes and its validation calls. Adapters never know routes, schedules or storage.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

import requests

from adapters.paging import Page, PageRequest, paginate
from adapters.spec import ProviderSpec
from adapters.webhook_verifiers import WebhookVerifier, verifier_for
from integrations.documents.document import IntegrationDocument, ValidationCheck
from shared.errors import ProviderError
from shared.http import Call, OutboundClient, Policy, Window

ORGANISATION_SCOPES = frozenset({"tenant", "realm", "organisation", "company"})


@dataclass
class AdapterContext:
    document: IntegrationDocument
    spec: ProviderSpec
    outbound: OutboundClient
    resolve_secret: Callable[[str, str], str]  # (slot, operation) → value, audited
    access_token: Callable[[str], Any] | None  # operation → AccessToken (OAuth providers)
    invalidate_token: Callable[[], None] | None
    record_usage: Callable[[str, int | None, float], None]  # (operation, status, latency ms)
    url_overrides: dict[str, str]
    # Where the provider calls the hub back for this integration (webhooks, Swish callbacks): the next round's
    # receivers answer there.
    callback_url: str | None = None
    url_hosts: tuple[str, ...] = ()  # hosts a tenant URL may name (catalog's fixed domains + HUB_SELF_HOSTED_HOSTS)
    # An entry in the tenant's audit trail (operation, what was touched): providers of special-category data
    # (ADAMS) record every read and write there, never the payload.
    audit: Callable[[str, dict[str, str]], None] | None = None
    # The app's own token (client credentials) beside the user's, for providers that want it for some calls
    # (catalog `auth.app_tokens`): operation → AccessToken.
    app_token: Callable[[str], Any] | None = None


D = TypeVar("D", bound=IntegrationDocument)


class Adapter(Generic[D]):
    """Base adapter: authenticated, rate-limited, counted requests against the provider. `D` is the family's
    document class (`AccountingAdapter(Adapter[AccountingIntegration])`), so `self.document.config` is that
    family's typed config."""

    idempotency_key_max = 64  # the longest idempotency key the provider accepts

    def __init__(self, ctx: AdapterContext) -> None:
        self.ctx = ctx
        self.spec = ctx.spec
        # The factory builds the adapter the catalog names for this document's provider, and a provider belongs
        # to one family: the document is this adapter's family's (a test holds every catalog entry to it).
        self.document = cast(D, ctx.document)

    # --- plumbing ------------------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        url = (
            self.ctx.url_overrides.get("base_url")
            or self.spec.base_urls["sandbox" if self.document.sandbox else "production"]
        )
        return self.tenant_url(url.format(**self.config_values()).rstrip("/"))

    def tenant_url(self, url: str) -> str:
        """A base URL (possibly built from the tenant's config) held to the egress policy at call time: scheme and
        the provider's fixed domains here, every address at connect time (the transport)."""
        from shared.egress import EgressRefused

        try:
            self.ctx.outbound.egress.check_static(url, hosts=self.url_hosts())
        except EgressRefused as exc:
            raise ProviderError(
                detail=f"{self.spec.display_name}: the configured URL is not allowed ({exc})", provider=self.spec.id
            ) from None
        return url

    def url_hosts(self) -> tuple[str, ...]:
        if "base_url" in self.ctx.url_overrides:  # the operator's own address for this provider
            return ()
        return self.ctx.url_hosts

    def config_values(self) -> dict[str, str]:
        """String config values for URL templates (`{company_id}`, `{instance_url}`…), without trailing slashes."""
        config = self.document.config.model_dump(mode="json")
        return {k: v.rstrip("/") for k, v in config.items() if isinstance(v, str)}

    def provider_link(self, link: str) -> str:
        """A next/delta link the provider handed us: followed with our credentials, so only to the provider's
        own origin (a tampered or proxied response must not collect our bearer token)."""
        origin = "/".join(self.base_url.split("/", 3)[:3])
        if link != origin and not link.startswith(origin + "/"):
            raise ProviderError(detail=f"{self.spec.display_name} returned a link outside {origin}", provider=self.spec.id)
        return link

    def limit_key(self) -> str:
        """The window a call counts against, after what the provider counts (`rate_limit.per`): a limit per
        organisation (Xero's per tenant, QuickBooks' per realm) is shared by every integration connected to that
        organisation, in any of our tenants; the rest count per integration (its token, account, mailbox, user)."""
        per = self.spec.rate_limit.per if self.spec.rate_limit else ""
        organisation = getattr(self.document.config, "company_id", None)
        if per in ORGANISATION_SCOPES and organisation:
            return f"{self.spec.id}:org:{organisation}"
        return f"{self.spec.id}:{self.document.id}"

    def policy(self, operation: str) -> Policy:
        limit = self.spec.rate_limit
        return self.spec.policy(
            limit_key=self.limit_key() if limit else None,
            window=Window(limit.requests, limit.per_seconds, limit.concurrent) if limit else None,
            on_attempt=lambda status, ms: self.ctx.record_usage(operation, status, ms),
            # A tenant admin is waiting for a validation: one retry, then a precise red, not a minute of backoff.
            max_attempts=2 if operation == "validate" else 6,
        )

    def oauth_scopes(self) -> list[str]:
        """Scopes to ask for at consent: the catalog's defaults (providers add what enabled capabilities need)."""
        return list(self.spec.auth.scopes)

    def provider_key(self, kind: str, record: str) -> str:
        """The idempotency key the provider sees for one of our records. Providers remember keys per account
        or app, and our record keys are only unique within an integration (two tenants, two integrations or two
        payments may each have a refund "R1"), so the key is scoped to (tenant, integration, kind, record) and
        hashed to a fixed length the provider accepts (`idempotency_key_max`)."""
        scope = "|".join((self.document.tenant_id, self.document.id, kind, record))
        return f"{kind}-{hashlib.sha256(scope.encode()).hexdigest()}"[: self.idempotency_key_max]

    def write_once(self, method: str, path: str, operation: str, key: tuple[str, str], **body: Any) -> Any:
        """A write the provider must make once, keyed `provider_key(*key)`: a retried create (after a timeout, a
        crash, a redelivery) is the same create. `body` is the request's `json=` or `data=`; returns the JSON
        answer."""
        return self.request(method, path, operation=operation, idempotency_key=self.provider_key(*key), **body).json()

    def auth_headers(self, operation: str) -> dict[str, str]:
        kind = self.spec.auth.kind
        if kind in ("oauth2_code", "oauth2_client_credentials") and self.ctx.access_token:
            return {"Authorization": f"Bearer {self.ctx.access_token(operation).token}"}
        if kind == "api_key" and self.spec.auth.query:
            return {}  # the key travels in the query string (auth_params)
        if kind == "api_key":
            key = self.ctx.resolve_secret("api_key_ref", operation)
            scheme = self.spec.auth.scheme
            return {self.spec.auth.header: f"{scheme} {key}".strip()}
        if kind == "basic":
            key = self.ctx.resolve_secret("api_key_ref", operation)
            user = getattr(self.document.config, "account_sid", "") or ""
            return {"Authorization": "Basic " + base64.b64encode(f"{user}:{key}".encode()).decode()}
        return {}

    def auth_params(self, operation: str) -> dict[str, str]:
        """Where the provider reads its key from the query string (the outbound client logs URLs without it)."""
        if self.spec.auth.kind == "api_key" and self.spec.auth.query:
            return {self.spec.auth.query: self.ctx.resolve_secret("api_key_ref", operation)}
        return {}

    def request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        json: Any = None,
        data: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        idempotency_key: str | None = None,
        expect: frozenset[int] = frozenset(),
        max_bytes: int | None = None,
    ) -> requests.Response:
        """One authenticated call. The idempotency key goes where the catalog says the provider reads it
        (`header:<name>` or `query:<name>`); a 401 on a token we hold refreshes it once and retries."""
        header = None
        where, _, name = (self.spec.idempotency or "").partition(":")
        if idempotency_key and where == "header":
            header = name
        elif idempotency_key and where == "query":
            params = {**(params or {}), name: idempotency_key}
        if keyed := self.auth_params(operation):
            params = {**(params or {}), **keyed}
        # A 401 says our token was refused only when we sent it: a call carrying its own credential (a Facebook
        # page's token) must not spend a refresh of the integration's token on it.
        refreshable = self.ctx.invalidate_token if "Authorization" not in (headers or {}) else None
        for attempt in (1, 2):
            call = Call(
                method,
                path if path.startswith("https://") or path.startswith("http://") else f"{self.base_url}{path}",
                headers={"Accept": "application/json", **self.auth_headers(operation), **(headers or {})},
                json=json,
                data=data,
                params=params,
                # a query-string key still makes the write safe to retry
                idempotency_key=idempotency_key,
                idempotency_header=header,
                expect=expect | ({401} if attempt == 1 and refreshable else frozenset()),
                max_bytes=max_bytes,
                verify=self.ctx.url_overrides.get("ca_bundle") or True,  # an operator's CA for this provider
            )
            response = self.ctx.outbound.send(self.finish_call(call, operation), self.policy(operation))
            if response.status_code == 401 and attempt == 1 and refreshable:
                refreshable()  # a revoked or rotated token: refresh once, then give up
                continue
            return response
        raise AssertionError("unreachable")

    def pages(
        self,
        path: str,
        *,
        operation: str,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        items: str | None = None,
        expect: frozenset[int] = frozenset(),
        check: Callable[[requests.Response], None] | None = None,
    ) -> Iterator[Page]:
        """Every page of one read, paged the way the catalog says (adapters/paging.py). `path` may be a link the
        provider handed us (a stored delta link; `params` None): links are followed only within its origin.
        `check` sees each answer first, for the statuses in `expect` (an expired cursor, say)."""

        def fetch(request: PageRequest) -> Any:
            url = self.provider_link(request.url) if "://" in request.url else request.url
            response = self.request(
                "GET", url, operation=operation, params=request.params, headers=request.headers, expect=expect
            )
            if check:
                check(response)
            return response.json()

        start = PageRequest(path, params, headers or {})
        return paginate(fetch, self.spec.pagination, start, items_field=items)

    def webhook_verifier(self) -> WebhookVerifier | None:
        """How this provider's deliveries are proven authentic (the catalog's scheme), None where the hub has no
        verifier for it yet: the receiver refuses those."""
        return verifier_for(self.spec.webhook)

    def finish_call(self, call: Call, operation: str) -> Call:
        """Last touch before sending (signed-request providers sign the exact bytes here)."""
        return call

    # --- capabilities --------------------------------------------------------------------------------------------
    def validate(self) -> list[ValidationCheck]:
        """Default: one authenticated call to the catalog's verification endpoint."""
        if not self.spec.verification:
            return [
                ValidationCheck(
                    name="provider.authenticate",
                    passed=False,
                    detail=f"{self.spec.display_name} has no verification call in the catalog",
                )
            ]
        method, path = self.spec.verification.split(" ", 1)
        return [self.check_call("provider.authenticate", method, path.split(" ", 1)[0].format(**self.config_values()))]

    def check_call(self, name: str, method: str, path: str) -> ValidationCheck:
        from adapters.checks import timed

        def run() -> str:
            response = self.request(method, path, operation="validate")
            return f"{method} {path} → {response.status_code}"

        return timed(name, run)


class CursorExpired(Exception):
    """The provider no longer knows our change cursor (an expired delta link or sync token, 410 Gone):
    read everything again."""
