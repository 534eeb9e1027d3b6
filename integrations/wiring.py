"""The hub's collaborators, built once per process, lazily, and overridable in tests.

HTTP (FastAPI), timers and queues all reach their dependencies through `get_hub()`: the ASGI lifespan
never runs for timers and queues, so nothing may depend on a FastAPI startup hook.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from adapters.base import Adapter
from adapters.catalog import Catalog, default_catalog
from adapters.factory import AdapterFactory
from integrations.api.ratelimit import WEBHOOK_PATH, Policy, plan_policies
from integrations.api.shared_ratelimit import SharedRateLimiter
from integrations.audit import AuditLog
from integrations.auth.api_keys import ApiKeys
from integrations.auth.denials import AnonymousDenials
from integrations.auth.jwt_tokens import SigningKeys
from integrations.calls.runner import CallRunner
from integrations.calls.store import OutboundCalls
from integrations.credentials import Credentials
from integrations.dead_letters import DeadLetters
from integrations.documents.document import Condition, IntegrationDocument
from integrations.documents.ref import IntegrationRef
from integrations.events_out.delivery import EventSender
from integrations.events_out.endpoints import EventEndpoints
from integrations.imports.run import Importer
from integrations.imports.store import Imports
from integrations.machine_tokens import MachineTokens
from integrations.maps.budget import MonthlyBudget
from integrations.maps.lookups import DOCUMENT_TTL_S, MapLookups
from integrations.oauth import OAuthFlows
from integrations.payments import Payments
from integrations.repository import IntegrationRepository
from integrations.service import set_credential_ref, set_social_accounts
from integrations.social import SocialPages
from integrations.streaming import Broadcasts
from integrations.structural import ProviderValidator
from integrations.sync.context import RunContext
from integrations.sync.members import MemberMirror
from integrations.sync.outbox import Outbox
from integrations.sync.runs import SyncRuns
from integrations.sync.schedules import Schedules
from integrations.sync.state import SyncState
from integrations.table_names import TableName
from integrations.tenant_urls import TenantUrls
from integrations.tokens import ProviderApp, TokenBroker
from integrations.usage.alerts import QuotaAlerts
from integrations.usage.counters import UsageCounters
from integrations.usage.plans import TenantPlans
from integrations.usage.quota import QuotaHistory, QuotaReport, plan_named, quota_history, tenant_quota
from integrations.validation import Validator
from integrations.webhooks.deliveries import WebhookDeliveries
from integrations.webhooks.processor import DeliveryProcessing
from integrations.webhooks.receiver import Receiver, RecentIntegrations
from integrations.webhooks.subscriptions import ChangeSubscriptions
from shared.blobs import Blobs
from shared.errors import BadRequest, RateLimited
from shared.http import OutboundClient
from shared.leases import Leases
from shared.memo import Memo
from shared.queues import MAX_DEQUEUE_COUNT, Queues
from shared.rate_windows import SharedWindowLimiter
from shared.redaction import install as install_redaction
from shared.secrets.store import SecretStore
from shared.settings import Settings, get_settings
from shared.tables import STORAGE_CLIENT, TableStore

T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Hub:
    settings: Settings
    tables: TableStore
    now: Callable[[], datetime] = utc_now
    outbound: OutboundClient = field(default_factory=OutboundClient)
    _lazy: dict[str, object] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def clock(self) -> datetime:
        """`now` for collaborators: reads the field at call time, so a test may move the hub's time."""
        return self.now()

    def _once(self, name: str, build: Callable[[], T]) -> T:
        with self._lock:
            if name not in self._lazy:
                self._lazy[name] = build()
            return self._lazy[name]  # type: ignore[return-value]

    @property
    def integrations(self) -> IntegrationRepository:
        return self._once(
            "integrations",
            lambda: IntegrationRepository(
                self.tables.table(TableName.integrations), index=self.tables.table(TableName.integrationindex)
            ),
        )

    @property
    def api_keys(self) -> ApiKeys:
        return self._once(
            "api_keys",
            lambda: ApiKeys(self.tables.table(TableName.apikeys), pepper=self.settings.api_key_pepper, now=self.clock),
        )

    @property
    def queues(self) -> Queues:
        def build() -> Queues:
            if self.settings.storage_connection:
                return Queues.from_connection_string(self.settings.storage_connection)
            from azure.identity import DefaultAzureCredential
            from azure.storage.queue import QueueServiceClient

            url = f"https://{self.settings.storage_account_name}.queue.core.windows.net"
            return Queues(QueueServiceClient(url, credential=DefaultAzureCredential(), **STORAGE_CLIENT))

        return self._once("queues", build)

    @property
    def imports(self) -> Imports:
        return self._once(
            "imports",
            lambda: Imports(self.tables.table(TableName.imports), self.tables.table(TableName.importerrors), now=self.clock),
        )

    @property
    def importer(self) -> Importer:
        return Importer(self.imports, self.integrations, self.catalog, self.outbox, self.clock)

    @property
    def outbox(self) -> Outbox:
        return self._once("outbox", lambda: Outbox(self.tables.table(TableName.outbox), now=self.clock))

    @property
    def payments(self) -> Payments:
        return self._once(
            "payments",
            lambda: Payments(
                self.tables.table(TableName.payments),
                adapter_for=self.adapter_for,
                get_document=lambda ref: self.integrations.get(ref).document,
                now=self.clock,
            ),
        )

    @property
    def webhook_deliveries(self) -> WebhookDeliveries:
        return self._once(
            "webhook_deliveries", lambda: WebhookDeliveries(self.tables.table(TableName.webhookdeliveries), now=self.clock)
        )

    @property
    def webhook_receiver(self) -> Receiver:
        return self._once("webhook_receiver", self._build_webhook_receiver)

    def _build_webhook_receiver(self) -> Receiver:
        # Built once per hub (the route asks on every delivery): the ingest limiter's local leases must persist.
        ingest = Policy("webhook-ingest", self.settings.webhook_ingest_per_s, self.settings.webhook_ingest_burst)
        limiter = SharedRateLimiter(self.tables.table(TableName.ratebuckets), policies={"webhook": ingest})

        def admit(integration_id: str) -> None:
            decision = limiter.check(f"webhook:{integration_id}", WEBHOOK_PATH, "POST")
            if not decision.allowed:
                raise RateLimited(f"Too many deliveries; retry in {decision.retry_after} s.", decision.retry_after)

        return Receiver(
            integrations=self.integrations,
            catalog=self.catalog,
            credentials=self.credentials,
            deliveries=self.webhook_deliveries,
            queues=self.queues,
            queue=self.settings.queue_webhook_deliveries,
            now=self.clock,
            admit=admit,
            adapter_for=self.adapter_for,
            recent=RecentIntegrations(self.settings.webhook_lookup_cache_s),
        )

    @property
    def delivery_processing(self) -> DeliveryProcessing:
        return DeliveryProcessing(
            deliveries=self.webhook_deliveries,
            sync=self.run_context,
            payments=self.payments,
            max_attempts=MAX_DEQUEUE_COUNT,
        )

    @property
    def subscriptions(self) -> ChangeSubscriptions:
        def set_secret_ref(ref: IntegrationRef, secret_ref: str) -> None:
            set_credential_ref(ref, "webhook_secret_ref", secret_ref, repo=self.integrations, actor="hub", now=self.now)

        return self._once(
            "subscriptions",
            lambda: ChangeSubscriptions(
                table=self.tables.table(TableName.subscriptions),
                integrations=self.integrations,
                catalog=self.catalog,
                credentials=self.credentials,
                leases=self.leases,
                adapter_for=self.adapter_for,
                set_secret_ref=set_secret_ref,
                publish=self.event_sender.publish,
                now=self.clock,
            ),
        )

    @property
    def broadcasts(self) -> Broadcasts:
        def set_secret_ref(ref: IntegrationRef, slot: str, secret_ref: str) -> None:
            set_credential_ref(ref, slot, secret_ref, repo=self.integrations, actor="hub", now=self.now)

        return self._once(
            "broadcasts",
            lambda: Broadcasts(self.tables.table(TableName.broadcasts), self.credentials, set_secret_ref, self.leases),
        )

    @property
    def social(self) -> SocialPages:
        def set_accounts(ref: IntegrationRef, accounts: list[dict[str, Any]], actor: str) -> None:
            set_social_accounts(ref, accounts, repo=self.integrations, actor=actor, now=self.now)

        return self._once(
            "social",
            lambda: SocialPages(
                self.tables.table(TableName.socialposts), self.credentials, set_accounts, self.leases, self.clock
            ),
        )

    @property
    def map_lookups(self) -> MapLookups:
        return self._once(
            "map_lookups",
            lambda: MapLookups(
                integrations=self.integrations,
                catalog=self.catalog,
                credentials=self.credentials,
                budget=MonthlyBudget(
                    self.tables.table(TableName.mapbudgets), publish=self.event_sender.publish, now=self.clock
                ),
                adapter_for=self.adapter_for,
                documents=Memo(DOCUMENT_TTL_S),
                results=Memo(0),  # each result kept for its provider's cache_ttl_s
            ),
        )

    @property
    def call_runner(self) -> CallRunner:
        return CallRunner(
            calls=OutboundCalls(self.tables.table(TableName.outboundcalls), now=self.clock),
            integrations=self.integrations,
            catalog=self.catalog,
            leases=self.leases,
            queues=self.queues,
            queue=self.settings.queue_outbound_calls,
            adapter_for=self.adapter_for,
            publish=self.event_sender.publish,
            max_attempts=MAX_DEQUEUE_COUNT,
        )

    @property
    def event_endpoints(self) -> EventEndpoints:
        return self._once(
            "event_endpoints",
            lambda: EventEndpoints(
                self.tables.table(TableName.eventendpoints),
                self.secret_store,
                now=self.clock,
                resolve=lambda tenant, ref: self.credentials.resolve_ref(
                    tenant, "-", ref, slot="event_endpoint_secret", operation="events.sign"
                ),
            ),
        )

    @property
    def event_sender(self) -> EventSender:
        return self._once(
            "event_sender",
            lambda: EventSender(
                endpoints=self.event_endpoints,
                log_table=self.tables.table(TableName.eventdeliveries),
                queues=self.queues,
                outbound=self.outbound,
                events_queue=self.settings.queue_integration_events,
                fanout_queue=self.settings.queue_event_fanout,
                deliveries_queue=self.settings.queue_event_deliveries,
                now=self.clock,
                ca_bundle=self.settings.alert_webhook_ca_bundle,
            ),
        )

    @property
    def sync_state(self) -> SyncState:
        return self._once("sync_state", lambda: SyncState(self.tables.table(TableName.syncstate)))

    @property
    def member_mirror(self) -> MemberMirror:
        return self._once("member_mirror", lambda: MemberMirror(self.tables.table(TableName.members)))

    @property
    def runs(self) -> SyncRuns:
        return self._once("runs", lambda: SyncRuns(self.tables.table(TableName.syncruns), now=self.clock))

    @property
    def schedules(self) -> Schedules:
        return self._once(
            "schedules",
            lambda: Schedules(self.tables.table(TableName.schedules), self.tables.table(TableName.due), now=self.clock),
        )

    @property
    def signing_keys(self) -> SigningKeys:
        return self._once(
            "signing_keys", lambda: SigningKeys(self.tables.table(TableName.signingkeys), self.secret_store, now=self.clock)
        )

    @property
    def tenant_plans(self) -> TenantPlans:
        return self._once(
            "tenant_plans",
            lambda: TenantPlans(
                self.tables.table(TableName.tenantplans),
                default_for=lambda tenant: self.settings.tenant_plans.get(tenant, "standard"),
                audit=self.audit,
                now=self.clock,
            ),
        )

    @property
    def rate_limiter(self) -> SharedRateLimiter:
        def policies_for(client: str) -> dict[str, Policy]:
            tenant = self.api_keys.tenant_of(client[4:]) if client.startswith("key:") else None
            return plan_policies(self.tenant_plans.plan_of(tenant) if tenant else "standard")

        return self._once(
            "rate_limiter",
            lambda: SharedRateLimiter(self.tables.table(TableName.ratebuckets), policies_for=policies_for),
        )

    def _blob_service(self) -> Any:
        from azure.storage.blob import BlobServiceClient

        if self.settings.storage_connection:
            return BlobServiceClient.from_connection_string(self.settings.storage_connection)
        from azure.identity import DefaultAzureCredential

        url = f"https://{self.settings.storage_account_name}.blob.core.windows.net"
        return BlobServiceClient(url, credential=DefaultAzureCredential())

    @property
    def exports(self) -> Blobs:
        return self._once("exports", lambda: Blobs(self._blob_service(), container=f"{self.settings.table_prefix}-exports"))

    @property
    def uploads(self) -> Blobs:
        """Large import files, written by the client through a short-lived upload URL (`…/imports:upload-url`)."""
        return self._once("uploads", lambda: Blobs(self._blob_service(), container=f"{self.settings.table_prefix}-imports"))

    @property
    def catalog(self) -> Catalog:
        return self._once("catalog", default_catalog)

    @property
    def anonymous_denials(self) -> AnonymousDenials:
        return self._once("anonymous_denials", AnonymousDenials)

    def tenant_url_hosts(self, provider: str) -> tuple[str, ...]:
        """Hosts a tenant URL may name for this provider: the catalog's fixed domains plus the operator's own."""
        try:
            fixed = self.catalog.get(provider).tenant_url_hosts
        except Exception:  # noqa: BLE001 - an unknown provider is the document validator's error to report
            fixed = []
        return (*fixed, *self.settings.self_hosted_hosts.get(provider, []))

    @property
    def tenant_urls(self) -> TenantUrls:
        return self._once("tenant_urls", lambda: TenantUrls(self.outbound.egress, self.tenant_url_hosts))

    @property
    def audit(self) -> AuditLog:
        return self._once("audit", lambda: AuditLog(self.tables.table(TableName.audit), now=self.clock))

    @property
    def secret_store(self) -> SecretStore:
        def build() -> SecretStore:
            if self.settings.secret_store == "keyvault":
                from shared.secrets.keyvault import KeyVaultSecretStore

                return KeyVaultSecretStore.connect(self.settings.key_vault_url or "")
            from shared.secrets.local import LocalSecretStore

            return LocalSecretStore(self.tables.table(TableName.secrets), key=self.settings.local_secret_key, now=self.clock)

        return self._once("secret_store", build)

    @property
    def credentials(self) -> Credentials:
        return self._once(
            "credentials",
            lambda: Credentials(
                self.secret_store, audit=self.audit, rotations=self.tables.table(TableName.rotations), now=self.clock
            ),
        )

    @property
    def dead_letters(self) -> DeadLetters:
        return self._once("dead_letters", lambda: DeadLetters(self.tables.table(TableName.deadletters), now=self.clock))

    @property
    def leases(self) -> Leases:
        return self._once("leases", lambda: Leases(self.tables.table(TableName.leases), now=self.clock))

    @property
    def usage(self) -> UsageCounters:
        return self._once("usage", lambda: UsageCounters(self.tables.table(TableName.usage), now=self.clock))

    @property
    def api_usage(self) -> UsageCounters:
        return self._once("api_usage", lambda: UsageCounters(self.tables.table(TableName.apiusage), now=self.clock))

    def record_request(self, principal: Any, path: str, method: str, status: int) -> None:
        """Called by the HTTP edge for every authenticated request (in-memory tally, flushed in batches)."""
        from integrations.api.ratelimit import endpoint_class

        self.api_usage.record(
            ref=IntegrationRef(principal.tenant_id, f"client:{principal.client_id}"),
            provider="hub-api",
            operation=endpoint_class(path, method),
            status=status,
            latency_ms=0.0,
        )

    @property
    def tokens(self) -> TokenBroker:
        def mark(document: IntegrationDocument, condition: Condition) -> None:
            from integrations.service import set_condition

            set_condition(
                document.ref,
                condition,
                kind=condition.type,
                repo=self.integrations,
                actor="hub:tokens",
                now=self.clock,
            )

        return self._once(
            "tokens",
            lambda: TokenBroker(
                credentials=self.credentials,
                leases=self.leases,
                outbound=self.outbound,
                audit=self.audit,
                app_for=self.provider_app,
                spec_for=self.catalog.get,
                mark_needs_reauth=mark,
                now=self.clock,
            ),
        )

    @property
    def oauth(self) -> OAuthFlows:
        return self._once(
            "oauth",
            lambda: OAuthFlows(
                states=self.tables.table(TableName.oauthstates),
                signing_key=self.settings.state_signing_key,
                broker=self.tokens,
                audit=self.audit,
                redirect_uri=f"{self.settings.public_base_url.rstrip('/')}/api/v1/oauth/callback",
                now=self.clock,
            ),
        )

    @property
    def validator(self) -> Validator:
        return self._once("validator", lambda: ProviderValidator(self.catalog, self.adapter_for))

    def urls_for(self, provider: str) -> dict[str, str]:
        return self.settings.provider_urls.get(provider, {})

    def provider_app(self, document: IntegrationDocument) -> ProviderApp:
        spec = self.catalog.get(document.provider)
        urls = self.urls_for(document.provider)
        token_url = urls.get("token_url") or spec.auth.token_url
        if not token_url or not document.oauth_client_id:
            raise BadRequest(f"{spec.display_name} needs oauth_client_id and a token URL for OAuth.")
        return ProviderApp(
            token_url=token_url,
            authorize_url=urls.get("authorize_url") or spec.auth.authorize_url,
            client_id=document.oauth_client_id,
            token_auth=spec.auth.token_auth,
        )

    @property
    def machine_tokens(self) -> MachineTokens:
        return self._once(
            "machine_tokens",
            lambda: MachineTokens(
                resolve_secret=lambda doc, op: self.credentials.resolve(doc, "oauth_client_secret_ref", operation=op),
                spec_for=self.catalog.get,
                overrides_for=self.urls_for,
                outbound=self.outbound,
            ),
        )

    @property
    def quota_alerts(self) -> QuotaAlerts:
        settings = self.settings
        return QuotaAlerts(
            table=self.tables.table(TableName.tenantsettings),
            queues=self.queues,
            outbound=self.outbound,
            alerts_queue=settings.queue_alerts,
            webhooks_queue=settings.queue_alert_webhooks,
            default_pct=settings.quota_alert_pct,
            ca_bundle=settings.alert_webhook_ca_bundle,
            publish=self.event_sender.publish,
        )

    def tenant_quota(self, tenant_id: str) -> QuotaReport:
        """The tenant's API quota under its plan, with its alert threshold."""
        return tenant_quota(
            tenant_id,
            counters=self.api_usage,
            table=self.tables.table(TableName.apiusage),
            plan_name=self.tenant_plans.plan_of(tenant_id),
            threshold_pct=self.quota_alerts.load(tenant_id).threshold_pct,
            now=self.now(),
        )

    def quota_history(self, tenant_id: str, start: date, end: date) -> QuotaHistory:
        """The tenant's API usage by day, client and endpoint class, against its plan's daily limit."""
        return quota_history(
            tenant_id,
            counters=self.api_usage,
            table=self.tables.table(TableName.apiusage),
            plan=plan_named(self.tenant_plans.plan_of(tenant_id)),
            start=start,
            end=end,
        )

    @property
    def run_context(self) -> RunContext:
        """The sync engine's view of the hub (built per use: a test may change a setting meanwhile)."""
        return RunContext(
            integrations=self.integrations,
            catalog=self.catalog,
            runs=self.runs,
            leases=self.leases,
            queues=self.queues,
            outbox=self.outbox,
            usage=self.usage,
            exports=self.exports,
            member_mirror=self.member_mirror,
            sync_state=self.sync_state,
            adapter_for=self.adapter_for,
            now=self.clock,
            lease_s=self.settings.sync_lease_s,
            jobs_queue=self.settings.queue_sync_jobs,
            publish=self.event_sender.publish,
        )

    def adapter_for(self, document: IntegrationDocument) -> Adapter[Any]:
        return AdapterFactory(
            catalog=self.catalog,
            outbound=self.outbound,
            credentials=self.credentials,
            user_tokens=self.tokens,
            machine_tokens=self.machine_tokens,
            usage=self.usage,
            rate_limits=self.settings.provider_rate_limits,
            page_sizes=self.settings.provider_page_sizes,
            urls_for=self.urls_for,
            url_hosts=self.tenant_url_hosts,
            public_base_url=self.settings.public_base_url,
            audit=self.audit,
        )(document)


def build_hub(settings: Settings, **overrides: Any) -> Hub:
    install_redaction()
    if settings.storage_connection:
        tables = TableStore.from_connection_string(settings.storage_connection, prefix=settings.table_prefix)
    elif settings.storage_account_name:
        from azure.data.tables import TableServiceClient
        from azure.identity import DefaultAzureCredential

        url = f"https://{settings.storage_account_name}.table.core.windows.net"
        tables = TableStore(
            TableServiceClient(url, credential=DefaultAzureCredential(), **STORAGE_CLIENT), prefix=settings.table_prefix
        )
    else:
        raise RuntimeError("Set AzureWebJobsStorage (connection string) or AzureWebJobsStorage__accountName")
    # Provider windows are per token, not per process: every instance paces one integration's calls together.
    limiter = SharedWindowLimiter(tables.table(TableName.ratewindows))
    overrides.setdefault("outbound", OutboundClient(egress=settings.egress_policy(), limiter=limiter))
    return Hub(settings=settings, tables=tables, **overrides)


_lock = threading.Lock()
_hub: Hub | None = None


def get_hub() -> Hub:
    global _hub
    with _lock:
        if _hub is None:
            _hub = build_hub(get_settings())
        return _hub


def set_hub(hub: Hub | None) -> None:
    """Tests and the local runner install their own hub."""
    global _hub
    with _lock:
        _hub = hub
