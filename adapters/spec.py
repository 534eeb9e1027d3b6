"""ProviderSpec: what the hub knows about a provider, as data (one JSON file per provider in catalog/).

Adapters read auth, base URLs, pagination, limits and webhook scheme from here; the outbound client does
the rest. Facts come from ../shared/providers.md; what nobody could verify is listed under `unknowns`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from integrations.documents.common import CREDENTIAL_SLOTS
from shared.http import NOT_PROCESSED, RETRY_STATUSES, Policy


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthSpec(_Spec):
    kind: Literal["oauth2_code", "oauth2_client_credentials", "api_key", "basic", "mtls", "signed_request", "none"]
    authorize_url: str | None = None
    token_url: str | None = None
    token_auth: Literal["basic", "body"] = Field("basic", description="How the client authenticates at the token URL.")
    pkce: bool = False
    scopes: list[str] = Field(default_factory=list, description="Scopes requested by default.")
    access_token_ttl_s: int | None = None
    refresh_rotates: bool = Field(False, description="A refresh returns a new refresh token that must be stored.")
    refresh_single_use: bool = Field(False, description="The old refresh token dies on use: refresh under a lock.")
    refresh_grace_s: int = Field(0, description="How long the previous refresh token keeps working (Xero: 1800).")
    long_lived_exchange: bool = Field(
        False,
        description="Meta: no refresh tokens. The code's short-lived user token is exchanged once for a long-lived "
        "one (`grant_type=fb_exchange_token`, about 60 days), which is the grant until it expires; then the user "
        "reconnects.",
    )
    app_tokens: bool = Field(
        False,
        description="Besides the user's grant, the app itself takes tokens by client credentials at token_url "
        "(Twitch: EventSub webhook subscriptions are managed with an app token, not the user's).",
    )
    authority: str | None = Field(None, description="Entra ID authority for msal (client credentials).")
    header: str = Field("Authorization", description="Header carrying the credential for api_key auth.")
    scheme: str = Field("Bearer", description="Prefix before the credential in that header ('' for none).")
    query: str | None = Field(
        None,
        description="Query parameter carrying the api_key instead of a header (Google's web services `key`, "
        "Mapbox `access_token`).",
    )


class RateLimitSpec(_Spec):
    requests: int = Field(ge=1)
    per_seconds: float = Field(gt=0)
    per: str = Field(description="What the limit counts against: access_token, tenant, app, realm, user…")
    concurrent: int | None = None
    retry_after_header: str | None = Field("Retry-After", description="None when the provider sends no Retry-After.")


class RetrySpec(_Spec):
    """Which answers the outbound client retries for this provider (shared/http.py executes it)."""

    # The defaults are the outbound client's own: one list of what is generally worth retrying.
    statuses: list[int] = Field(sorted(RETRY_STATUSES), description="Answers worth another attempt (with backoff).")
    not_processed: list[int] = Field(
        sorted(NOT_PROCESSED), description="Answers that promise nothing was done: even a write without a key is retried."
    )


class PaginationSpec(_Spec):
    """How the provider pages a list; adapters/paging.py executes it (one strategy per kind)."""

    kind: Literal["page", "offset", "cursor", "next_link", "delta_link", "none"]
    page_param: str | None = Field(None, description="Query parameter of the page number, offset or cursor.")
    size_param: str | None = Field(None, description="Query parameter of the page size.")
    size_prefer: str | None = Field(None, description="Prefer-header preference of the page size (odata.maxpagesize).")
    page_size: int | None = Field(None, ge=1, description="The page size the hub asks for (default max_size).")
    max_size: int | None = Field(None, ge=1)
    start: int | None = Field(None, description="First page number (default 1) or offset (default 0).")
    items_field: str | None = Field(None, description="`/`-path of the records in a page (an adapter may name another).")
    next_field: str | None = Field(
        None,
        description="`/`-path of the total pages (page), total count (offset), next cursor or has-more flag "
        "(cursor) or next link.",
    )
    cursor_item_field: str | None = Field(None, description="Cursor from the last record's field (after a has-more flag).")
    final_field: str | None = Field(
        None, description="`/`-path, on the last page, of where the next incremental read starts."
    )


class WebhookSpec(_Spec):
    """How the provider proves a delivery is its own (adapters/webhook_verifiers has one module per scheme) and
    how the receiver answers it."""

    scheme: Literal[
        "stripe",
        "hmac_sha256_base64",
        "hmac_sha256_hex",
        "paypal",
        "unsigned_refetch",
        "standard_webhooks",
        "twilio",
        "espocrm",
        "shared_secret",
        "twitch_eventsub",
        "google_channel",
        "graph_client_state",
        "meta",
        "x_crc",
        "none",
    ]
    header: str | None = Field(None, description="The header carrying the signature (or token).")
    prefix: str = Field("", description="What precedes the signature in that header (Meta and X: `sha256=`).")
    tolerance_s: int | None = Field(None, description="How old a signed timestamp may be, in seconds.")
    max_body_bytes: int = Field(256 * 1024, ge=1, le=1024 * 1024, description="Larger deliveries are refused (413).")
    reject_status: int = Field(401, description="The status a delivery that fails verification gets.")
    empty_replies: bool = Field(False, description="Answer with an empty body (Xero's intent-to-receive insists).")
    subscription_ttl_s: int | None = Field(
        None,
        ge=60,
        description="How long a change subscription the hub registers lives (the provider's longest, a margin off).",
    )
    renew_before_s: int = Field(86400, ge=60, description="How long before its expiry the timer renews a subscription.")
    subscribe: Literal["for_change_pulls", "while_active"] = Field(
        "for_change_pulls",
        description="When the hub keeps a subscription at the provider (capability watch_changes): while an "
        "offered operation pulls on change notifications (calendars), or for as long as the integration is active "
        "(Twitch's stream.online/offline, which are events in their own right).",
    )
    gone_status: int = Field(
        410,
        description="What a decommissioned integration answers: 410 tells most senders to stop (EspoCRM deletes "
        "the webhook); a paused one answers 200 and drops the delivery, so the subscription survives the pause.",
    )


class ProviderSpec(_Spec):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")
    display_name: str
    families: list[str] = Field(min_length=1)
    auth: AuthSpec
    required_credentials: list[str] = Field(default_factory=list, description="Credential slots that must be set.")
    config_required: list[str] = Field(default_factory=list, description="Config fields the adapter needs.")
    base_urls: dict[Literal["sandbox", "production"], str]
    verification: str | None = Field(None, description="`METHOD /path` of the cheapest authenticated call.")
    rate_limit: RateLimitSpec | None = None
    daily_quota: int | None = Field(None, description="Requests per day used for quota burn; None = not published.")
    retry: RetrySpec = RetrySpec()
    pagination: PaginationSpec = PaginationSpec(kind="none")
    idempotency: str | None = Field(None, description="`header:<name>` or `query:<name>` carrying our idempotency key.")
    webhook: WebhookSpec = WebhookSpec(scheme="none")
    capabilities: list[str] = Field(default_factory=list, description="Operations an adapter implements.")
    adapter: str | None = Field(None, description="Dotted path of the adapter class, e.g. adapters.fortnox:FortnoxAdapter.")
    docs: str | None = None
    tenant_url_hosts: list[str] = Field(
        default_factory=list,
        description="Host patterns (globs) a tenant-supplied URL (instance_url, server_url…) must match where the "
        "provider has fixed domains; empty = any public host. Operators add self-hosted ones (HUB_SELF_HOSTED_HOSTS).",
    )
    operation_units: dict[str, int] = Field(
        default_factory=dict,
        description="What an operation costs against `daily_quota` where the provider counts units, not requests "
        "(YouTube: a list 1, a write 50); unlisted operations cost 1.",
    )
    cache_ttl_s: int = Field(
        0,
        ge=0,
        description="How long the provider's terms let a looked-up result be kept (Google: lat/lng for 30 days); "
        "0 = not at all.",
    )
    unknowns: list[str] = Field(default_factory=list, description="Facts we could not verify (keep configurable).")

    def policy(self, **options: Any) -> Policy:
        """The outbound policy for a call to this provider: its retry facts, plus the caller's `options`."""
        limit = self.rate_limit
        return Policy(
            provider=self.id,
            retry_after_header=limit.retry_after_header if limit else "Retry-After",
            retry_statuses=frozenset(self.retry.statuses),
            not_processed=frozenset(self.retry.not_processed),
            **options,
        )

    def model_post_init(self, _: object) -> None:
        bad = [s for s in self.required_credentials if s not in CREDENTIAL_SLOTS]
        if bad:
            raise ValueError(f"{self.id}: unknown credential slots {bad}")
