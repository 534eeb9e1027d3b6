"""All configuration in one place: app settings (Functions `Values`/environment), read once, overridable in tests."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.egress import EgressPolicy

PLACEHOLDER = "change-me"


class Settings(BaseSettings):
    """Every field maps to an app setting of the same name in upper case (e.g. `HUB_ENVIRONMENT`)."""

    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore", populate_by_name=True)

    environment: Literal["development", "test", "production"] = Field(
        "development", description="Where the hub runs; production refuses placeholder secrets."
    )
    # Storage: a connection string locally (Azurite); identity-based service URIs in Azure.
    storage_connection: str | None = Field(
        None, validation_alias="AzureWebJobsStorage", description="Storage connection string (Azurite locally)."
    )
    storage_account_name: str | None = Field(
        None,
        validation_alias="AzureWebJobsStorage__accountName",
        description="Storage account for identity-based connections in Azure (no keys).",
    )
    table_prefix: str = Field(
        "hub",
        pattern=r"^[a-z][a-z0-9]{0,19}$",
        description="Prefix of every table and queue name (isolates tests and environments).",
    )
    # Queues (the trigger bindings read the same settings as %HUB_QUEUE_…%)
    queue_sync_jobs: str = Field("hub-sync-jobs", validation_alias="HUB_QUEUE_SYNC_JOBS")
    queue_webhook_events: str = Field("hub-webhook-events", validation_alias="HUB_QUEUE_WEBHOOK_EVENTS")
    queue_webhook_deliveries: str = Field(
        "hub-webhook-deliveries",
        validation_alias="HUB_QUEUE_WEBHOOK_DELIVERIES",
        description="Verified provider deliveries.",
    )
    queue_integration_events: str = Field("hub-integration-events", validation_alias="HUB_QUEUE_INTEGRATION_EVENTS")
    queue_event_fanout: str = Field(
        "hub-event-fanout", validation_alias="HUB_QUEUE_EVENT_FANOUT", description="Events to fan out to endpoints."
    )
    queue_event_deliveries: str = Field(
        "hub-event-deliveries", validation_alias="HUB_QUEUE_EVENT_DELIVERIES", description="One event to one endpoint."
    )
    queue_outbound_calls: str = Field(
        "hub-outbound-calls",
        validation_alias="HUB_QUEUE_OUTBOUND_CALLS",
        description="Provider calls that must not block a request (relays, publishing, enrolment).",
    )
    sync_lease_s: float = Field(
        30.0,
        description="Lease preventing overlapping runs; renewed every third of it while a run works, so a crashed "
        "run's lease is stale within this.",
    )
    # Secrets
    secret_store: Literal["local", "keyvault"] = Field("local", description="Where credential values live.")
    key_vault_url: str | None = Field(None, description="https://<vault>.vault.azure.net for the keyvault store.")
    local_secret_key: str = Field(
        PLACEHOLDER, description="Fernet key (urlsafe base64, 32 bytes) encrypting the local secret store at rest."
    )
    api_key_pepper: str = Field(PLACEHOLDER, description="HMAC pepper for API key hashes.")
    signing_key_rotation_days: int = Field(
        30, ge=1, le=365, description="Age at which the key-rotation timer replaces the hub's JWT signing key."
    )
    state_signing_key: str = Field(PLACEHOLDER, description="HMAC key signing OAuth `state` values.")
    # HTTP edge
    max_body_bytes: int = Field(256 * 1024, description="Largest accepted request body (413 above).")
    import_max_bytes: int = Field(
        512 * 1024 * 1024, ge=1024, description="Largest import file (413 above); imports stream, spooled to disk."
    )
    webhook_ingest_per_s: float = Field(50.0, gt=0, description="Deliveries per second one integration may receive.")
    webhook_ingest_burst: int = Field(200, ge=1, description="Deliveries one integration may receive in a burst.")
    webhook_lookup_cache_s: float = Field(
        5.0, ge=0, description="How long a receiver reuses an integration it looked up (0: read it per delivery)."
    )
    console_entra_client_id: str = Field(
        "", description="The tenant console's Entra ID app (SPA) registration; empty: sign-in with an API key."
    )
    console_entra_authority: str = Field(
        "https://login.microsoftonline.com/organizations", description="Authority the console signs users in at."
    )
    console_entra_scopes: str = Field("", description="Space-separated scopes the console asks for (the hub API's).")
    public_base_url: str = Field("http://127.0.0.1:7071", description="Base URL the hub is reachable at (OAuth redirects).")
    # Provider base URLs can be overridden per provider (fakes locally): HUB_PROVIDER_URLS='{"fortnox": {...}}'
    provider_urls: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Per-provider URL overrides (e.g. fakes)."
    )

    provider_rate_limits: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description='Per-provider rate-limit override, e.g. {"fortnox": {"requests": 25, '
        '"per_seconds": 1}} for a scaled-down fake.',
    )
    provider_page_sizes: dict[str, int] = Field(
        default_factory=dict,
        description='Per-provider page size the hub asks for, e.g. {"fortnox": 100} (overrides the catalog).',
    )
    provider_daily_quotas: dict[str, int] = Field(
        default_factory=dict,
        description="Daily request quota per provider from the tenant's plan with it "
        "(overrides the catalog; quota burn is measured against it).",
    )

    queue_alerts: str = Field("hub-alerts", validation_alias="HUB_QUEUE_ALERTS")
    queue_alert_webhooks: str = Field("hub-alert-webhooks", validation_alias="HUB_QUEUE_ALERT_WEBHOOKS")
    tenant_plans: dict[str, str] = Field(default_factory=dict, description="Tenant → API plan (free/standard/dedicated).")
    quota_alert_pct: dict[str, float] = Field(default_factory=dict, description="Tenant → alert threshold % (default 80).")

    egress_allow_origins: list[str] = Field(
        default_factory=list,
        description="Exact `ip:port` origins the egress policy lets through although not public (the loopback "
        "fakes of `./hub run` and the tests). Refused in production.",
    )
    self_hosted_hosts: dict[str, list[str]] = Field(
        default_factory=dict,
        description='Per provider, extra host patterns a tenant URL may name (self-hosted servers), e.g. {"kobo": '
        '["kobo.example.org"]}. Added to the catalog\'s fixed domains.',
    )
    alert_webhook_ca_bundle: str | None = Field(
        None,
        description="CA bundle trusted for tenant event endpoints and alert webhooks (local runs and tests); "
        "default: the system store.",
    )
    entra_issuer: str | None = Field(
        None, description="Issuer of portal users' tokens, e.g. https://login.microsoftonline.com/<tid>/v2.0."
    )
    entra_audience: str = Field("api://integration-hub", description="Audience (the hub's app registration).")
    entra_jwks_url: str | None = Field(None, description="JWKS of the issuer.")
    entra_tenants: dict[str, str] = Field(default_factory=dict, description="Entra directory id → hub tenant.")

    @model_validator(mode="after")
    def _no_placeholders_in_production(self) -> Settings:
        if self.environment == "production":
            for name in ("local_secret_key", "api_key_pepper", "state_signing_key"):
                if getattr(self, name) == PLACEHOLDER and not (
                    name == "local_secret_key" and self.secret_store == "keyvault"
                ):
                    raise ValueError(f"HUB_{name.upper()} must be set in production")
            if self.egress_allow_origins:
                raise ValueError("HUB_EGRESS_ALLOW_ORIGINS is for local fakes and is refused in production")
            if self.secret_store == "keyvault" and not self.key_vault_url:
                raise ValueError("HUB_KEY_VAULT_URL is required with the keyvault secret store")
        return self

    def egress_policy(self) -> EgressPolicy:
        """HTTPS only in production; elsewhere plain HTTP too (the fakes), still only to public addresses or the
        exact origins in `egress_allow_origins`."""
        return EgressPolicy.from_origins(self.egress_allow_origins, https_only=self.environment == "production")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
