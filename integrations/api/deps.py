"""Dependencies routes declare: the authenticated principal (with a scope), the path's ids, and the collaborators
they use, one dependency each. This module and the triggers are the only places that reach the Hub."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Header, Path, Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials
from fastapi.openapi.models import OAuthFlows as OAuthFlowsModel
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer, OAuth2

from adapters.base import Adapter
from adapters.catalog import Catalog
from integrations.api.intake import Intake
from integrations.api.live import LiveAdapters
from integrations.api_versions import HEADER as VERSION_HEADER
from integrations.api_versions import resolve
from integrations.audit import AuditLog
from integrations.auth.api_keys import ApiKeys
from integrations.auth.jwt_tokens import SigningKeys
from integrations.auth.principal import SCOPE_DESCRIPTIONS, Principal, Scope
from integrations.calls.runner import CallRunner
from integrations.credentials import Credentials
from integrations.dead_letters import DeadLetters
from integrations.documents.ref import IntegrationRef
from integrations.events_out.delivery import EventSender
from integrations.events_out.endpoints import EventEndpoints
from integrations.imports.run import Importer
from integrations.imports.store import Imports
from integrations.maps.lookups import MapLookups
from integrations.oauth import OAuthFlows
from integrations.payments import Payments
from integrations.repository import IntegrationRepository
from integrations.secret_names import TENANT_MAX, TENANT_PATTERN
from integrations.social import SocialPages
from integrations.streaming import Broadcasts
from integrations.sync.context import RunContext
from integrations.sync.outbox import Outbox
from integrations.sync.schedules import Schedules
from integrations.table_names import TableName
from integrations.tenant_urls import TenantUrls
from integrations.tokens import ProviderApp, TokenBroker
from integrations.usage.alerts import QuotaAlerts
from integrations.usage.counters import UsageCounters
from integrations.usage.plans import TenantPlans
from integrations.usage.quota import QuotaHistory, QuotaReport
from integrations.validation import Validator
from integrations.webhooks.deliveries import WebhookDeliveries
from integrations.webhooks.receiver import Receiver
from integrations.webhooks.subscriptions import ChangeSubscriptions
from integrations.wiring import Hub, get_hub
from shared.blobs import Blobs
from shared.egress import EgressPolicy
from shared.errors import Forbidden, NotFound, Unauthorized
from shared.queues import Queues
from shared.secrets.store import SecretStore
from shared.settings import Settings
from shared.tables import Table

INTEGRATION_ID_PATTERN = r"^int_[0-9a-f]{24}$"
T = TypeVar("T")


# The dependencies every route runs are `async` and do no I/O on their fast path: a sync dependency costs a
# thread-pool hop each (three per request, before the route's own), which under concurrency was most of the gap
# to a bare route. Anything that may touch storage runs in a worker thread.


async def hub_dep() -> Hub:
    return get_hub()


HubDep = Annotated[Hub, Depends(hub_dep)]


# Collaborators a route may ask for one by one (its signature says what it uses; the Hub stays behind here).
async def intake_dep() -> Intake:
    hub = get_hub()
    return Intake(hub.integrations, hub.catalog, hub.outbox)


async def sync_dep() -> RunContext:
    return get_hub().run_context


async def maps_dep() -> MapLookups:
    return get_hub().map_lookups


async def schedules_dep() -> Schedules:
    return get_hub().schedules


@dataclass(frozen=True)
class KeyAdmin:
    """What the API-key routes use: the keys, the audit log they record every change in, and the clock."""

    keys: ApiKeys
    audit: AuditLog
    now: Callable[[], datetime]


async def key_admin_dep() -> KeyAdmin:
    hub = get_hub()
    return KeyAdmin(hub.api_keys, hub.audit, hub.clock)


def _from_hub(pick: Callable[[Hub], T]) -> Callable[[], Awaitable[T]]:
    """A dependency handing a route one collaborator of the composition root (no I/O: built lazily, once)."""

    async def collaborator() -> T:
        return pick(get_hub())

    return collaborator


# One per collaborator: a route's signature says exactly what it uses.
IntegrationsDep = Annotated[IntegrationRepository, Depends(_from_hub(lambda h: h.integrations))]
CatalogDep = Annotated[Catalog, Depends(_from_hub(lambda h: h.catalog))]
ClockDep = Annotated[Callable[[], datetime], Depends(_from_hub(lambda h: h.clock))]
SettingsDep = Annotated[Settings, Depends(_from_hub(lambda h: h.settings))]
AuditDep = Annotated[AuditLog, Depends(_from_hub(lambda h: h.audit))]
OutboxDep = Annotated[Outbox, Depends(_from_hub(lambda h: h.outbox))]
ImportsDep = Annotated[Imports, Depends(_from_hub(lambda h: h.imports))]
ImporterDep = Annotated[Importer, Depends(_from_hub(lambda h: h.importer))]
PaymentsDep = Annotated[Payments, Depends(_from_hub(lambda h: h.payments))]
DeadLettersDep = Annotated[DeadLetters, Depends(_from_hub(lambda h: h.dead_letters))]
ExportsDep = Annotated[Blobs, Depends(_from_hub(lambda h: h.exports))]
UploadsDep = Annotated[Blobs, Depends(_from_hub(lambda h: h.uploads))]
BroadcastsDep = Annotated[Broadcasts, Depends(_from_hub(lambda h: h.broadcasts))]
QueuesDep = Annotated[Queues, Depends(_from_hub(lambda h: h.queues))]
SecretStoreDep = Annotated[SecretStore, Depends(_from_hub(lambda h: h.secret_store))]
SubscriptionsDep = Annotated[ChangeSubscriptions, Depends(_from_hub(lambda h: h.subscriptions))]
ValidatorDep = Annotated[Validator, Depends(_from_hub(lambda h: h.validator))]
TenantUrlsDep = Annotated[TenantUrls, Depends(_from_hub(lambda h: h.tenant_urls))]
UsageDep = Annotated[UsageCounters, Depends(_from_hub(lambda h: h.usage))]
QuotaAlertsDep = Annotated[QuotaAlerts, Depends(_from_hub(lambda h: h.quota_alerts))]
TenantPlansDep = Annotated[TenantPlans, Depends(_from_hub(lambda h: h.tenant_plans))]
TenantQuotaDep = Annotated[Callable[[str], QuotaReport], Depends(_from_hub(lambda h: h.tenant_quota))]
QuotaHistoryDep = Annotated[Callable[[str, date, date], QuotaHistory], Depends(_from_hub(lambda h: h.quota_history))]
TokensDep = Annotated[TokenBroker, Depends(_from_hub(lambda h: h.tokens))]
OAuthDep = Annotated[OAuthFlows, Depends(_from_hub(lambda h: h.oauth))]
CredentialsDep = Annotated[Credentials, Depends(_from_hub(lambda h: h.credentials))]
ApiKeysDep = Annotated[ApiKeys, Depends(_from_hub(lambda h: h.api_keys))]
ProviderAppDep = Annotated[Callable[[Any], ProviderApp], Depends(_from_hub(lambda h: h.provider_app))]
AdaptersDep = Annotated[Callable[[Any], Adapter[Any]], Depends(_from_hub(lambda h: h.adapter_for))]
LiveDep = Annotated[LiveAdapters, Depends(_from_hub(lambda h: LiveAdapters(h.integrations, h.adapter_for)))]
SocialDep = Annotated[SocialPages, Depends(_from_hub(lambda h: h.social))]
ReceiverDep = Annotated[Receiver, Depends(_from_hub(lambda h: h.webhook_receiver))]
DeliveriesDep = Annotated[WebhookDeliveries, Depends(_from_hub(lambda h: h.webhook_deliveries))]
EndpointsDep = Annotated[EventEndpoints, Depends(_from_hub(lambda h: h.event_endpoints))]
SenderDep = Annotated[EventSender, Depends(_from_hub(lambda h: h.event_sender))]
CallRunnerDep = Annotated[CallRunner, Depends(_from_hub(lambda h: h.call_runner))]
EgressDep = Annotated[EgressPolicy, Depends(_from_hub(lambda h: h.outbound.egress))]

IntakeDep = Annotated[Intake, Depends(intake_dep)]
SyncDep = Annotated[RunContext, Depends(sync_dep)]
MapsDep = Annotated[MapLookups, Depends(maps_dep)]
SchedulesDep = Annotated[Schedules, Depends(schedules_dep)]
KeyAdminDep = Annotated[KeyAdmin, Depends(key_admin_dep)]


@dataclass(frozen=True)
class TokenIssuer:
    """What the token endpoint uses: the clients' keys, the assertion ids already seen (replay), the keys it
    signs with, and the audience signed assertions must name (this endpoint's public URL)."""

    keys: ApiKeys
    seen: Table
    signing: SigningKeys
    audience: str


async def issuer_dep() -> TokenIssuer:
    hub = get_hub()
    audience = f"{hub.settings.public_base_url.rstrip('/')}/api/v1/oauth/token"
    return TokenIssuer(hub.api_keys, hub.tables.table(TableName.assertionjti), hub.signing_keys, audience)


async def signing_dep() -> SigningKeys:
    return get_hub().signing_keys


IssuerDep = Annotated[TokenIssuer, Depends(issuer_dep)]
SigningDep = Annotated[SigningKeys, Depends(signing_dep)]
TenantId = Annotated[
    str,
    Path(
        pattern=TENANT_PATTERN,
        max_length=TENANT_MAX,
        description="Tenant (federation, club or partner) id: lowercase letters, digits, single hyphens.",
        examples=["petanque-se"],
    ),
]
IntegrationId = Annotated[str, Path(pattern=INTEGRATION_ID_PATTERN, description="Integration id.")]
IfMatch = Annotated[str | None, Header(alias="If-Match", description="ETag from a previous read; 412 if it changed.")]


async def integration_ref(tenant_id: TenantId, integration_id: IntegrationId) -> IntegrationRef:
    """The two path ids of an integration's routes as one value (their OpenAPI parameters are unchanged).
    `async` like every dependency here that does no I/O: a plain `def` would cost each request a hop to the
    thread pool (and a slot in it while storage hangs)."""
    return IntegrationRef(tenant_id, integration_id)


Ref = Annotated[IntegrationRef, Depends(integration_ref)]


def _presented(request: Request) -> str:
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer " and auth[7:].strip():
        return auth[7:].strip()
    key = request.headers.get("x-api-key", "").strip()
    if key:
        return key
    raise Unauthorized("Credentials are required (Authorization: Bearer <key or token>).", reason="missing")


def _audit_denial(hub: Hub, request: Request, tenant_id: str, reason: str, **target: str) -> None:
    """A refusal of a caller who proved a credential, in that credential's tenant's trail."""
    hub.audit.record(
        tenant_id,
        actor=target.pop("actor", "anonymous"),
        action="request.denied",
        outcome=reason,
        target={"method": request.method, "path": request.url.path, **target},
    )


def _verify_jwt(hub: Hub, token: str) -> Principal:
    import jwt

    from integrations.auth.jwt_tokens import verify

    settings = hub.settings
    try:
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        raise Unauthorized("Invalid credentials.", reason="malformed_jwt") from None
    if settings.entra_issuer and settings.entra_jwks_url and issuer == settings.entra_issuer:
        from integrations.auth.entra import verify_user

        return verify_user(
            token,
            issuer=settings.entra_issuer,
            audience=settings.entra_audience,
            jwks_url=settings.entra_jwks_url,
            tenants=settings.entra_tenants,
        )
    return verify(hub.signing_keys, token, clients=hub.api_keys)


async def authenticate(request: Request, hub: HubDep) -> Principal:
    presented = _presented(request)
    principal = hub.api_keys.cached_principal(presented) if presented.startswith("hubk_") else None
    if principal is None:
        principal = await anyio.to_thread.run_sync(_authenticate, request, hub, presented)
    request.state.principal = principal
    request.state.api_version = resolve(request.headers.get(VERSION_HEADER), principal.api_version)
    return principal


async def api_version(request: Request, principal: Annotated[Principal, Depends(authenticate)]) -> str:
    """The API version this request is answered with (set with the principal; see integrations/api_versions.py)."""
    return str(request.state.api_version)


ApiVersionDep = Annotated[str, Depends(api_version)]


def _authenticate(request: Request, hub: Hub, presented: str) -> Principal:
    try:
        if presented.count(".") == 2 and not presented.startswith("hubk_"):  # a JWT: the hub's or Entra ID's
            return _verify_jwt(hub, presented)
        return hub.api_keys.authenticate(presented)
    except Unauthorized as exc:
        ext = exc.extensions
        reason = str(ext.get("reason", "invalid"))
        if isinstance(tenant := ext.get("tenant_id"), str):
            # The secret matched a key that no longer works (revoked, expired): its own tenant hears of it.
            actor = f"api_key:{ext['key_id']}" if "key_id" in ext else "anonymous"
            _audit_denial(hub, request, tenant, reason, actor=actor)
        else:
            hub.anonymous_denials.record(reason)  # never the path's tenant: anyone can name any tenant
        raise


# The credentials the API takes, as the spec publishes them (`securitySchemes`); every operation lists them with
# the scope its route requires, derived from `require` below (one source). auto_error off: `authenticate` does
# the checking and answers problem+json; these only declare.
API_KEY = APIKeyHeader(
    name="X-Api-Key",
    scheme_name="ApiKey",
    description="A tenant API key (`hubk_<id>_<secret>`, issued by the CLI or `POST …/api-keys`), in `X-Api-Key` "
    "or as `Authorization: Bearer hubk_…`. Its scopes are fixed at issue.",
    auto_error=False,
)
BEARER = HTTPBearer(
    scheme_name="Bearer",
    bearerFormat="JWT",
    description="A hub-issued ES256 JWT (`POST /api/v1/oauth/token`; keys at `/.well-known/jwks.json`) or an Entra "
    "ID token of a portal user (roles map to scopes).",
    auto_error=False,
)
OAUTH2 = OAuth2(
    flows=OAuthFlowsModel(
        clientCredentials=OAuthFlowClientCredentials(
            tokenUrl="/api/v1/oauth/token", scopes={s.value: text for s, text in SCOPE_DESCRIPTIONS.items()}
        )
    ),
    scheme_name="OAuth2",
    description="Client credentials: client id = API key id, secret = the key (HTTP Basic), or a signed RFC 7523 "
    "assertion (`client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`) with a key "
    "registered at `PUT …/api-keys/{id}/jwks`. Scopes ⊆ the key's.",
    auto_error=False,
)


def _declared(scopes: list[str]):  # type: ignore[no-untyped-def]
    """The security requirements an operation publishes: any one of the three schemes, with these scopes."""

    # Defaults, not Annotated: the annotations are strings here, and `scopes` is not a global they could name.
    async def declared(
        key: str | None = Security(API_KEY, scopes=scopes),
        bearer: HTTPAuthorizationCredentials | None = Security(BEARER, scopes=scopes),
        oauth: str | None = Security(OAUTH2, scopes=scopes),
    ) -> None:
        return None

    return declared


def require(scope: Scope, *alternatives: Scope):  # type: ignore[no-untyped-def]
    """A route's declared scope (or any of the alternatives: a domain scope that also opens it, published by
    the route's `openapi_extra=any_of(...)`); the principal must also belong to the path's tenant."""

    async def check(
        request: Request,
        hub: HubDep,
        principal: Annotated[Principal, Depends(authenticate)],
        declared: None = Depends(_declared([scope.value])),
    ) -> Principal:
        tenant = request.path_params.get("tenant_id")
        if tenant is not None and tenant != principal.tenant_id:
            # Another tenant's resources do not exist as far as this caller can tell; the caller's tenant hears of it.
            await anyio.to_thread.run_sync(
                lambda: _audit_denial(hub, request, principal.tenant_id, "wrong_tenant", actor=principal.actor)
            )
            raise NotFound("Not found.")
        if not any(principal.can(s) for s in (scope, *alternatives)):
            await anyio.to_thread.run_sync(
                lambda: _audit_denial(
                    hub, request, principal.tenant_id, "missing_scope", actor=principal.actor, scope=scope.value
                )
            )
            raise Forbidden(f"This credential lacks the `{scope.value}` scope.", required_scope=scope.value)
        return principal

    check.__name__ = f"require_{scope.name}"
    check.scopes = (scope, *alternatives)  # type: ignore[attr-defined]  # what the spec test reads
    return check


# Every route's principal, by the scope it requires: declared here once, imported by the route modules.
Reader = Annotated[Principal, Depends(require(Scope.integrations_read))]
Writer = Annotated[Principal, Depends(require(Scope.integrations_write))]
Admin = Annotated[Principal, Depends(require(Scope.integrations_admin))]
Runner = Annotated[Principal, Depends(require(Scope.syncs_run))]
Auditor = Annotated[Principal, Depends(require(Scope.audit_read))]
UsageReader = Annotated[Principal, Depends(require(Scope.usage_read))]
ClientsAdmin = Annotated[Principal, Depends(require(Scope.clients_admin))]
Payer = Annotated[Principal, Depends(require(Scope.payments_write))]
MemberWriter = Annotated[Principal, Depends(require(Scope.members_write, Scope.integrations_write))]
LicenceWriter = Annotated[Principal, Depends(require(Scope.licences_write, Scope.integrations_write))]
# Imports and exports carry members or other records: a member-only client may use them for members.
DataWriter = Annotated[Principal, Depends(require(Scope.integrations_write, Scope.members_write))]
DataReader = Annotated[Principal, Depends(require(Scope.integrations_read, Scope.members_read))]


def any_of(*scopes: Scope) -> dict[str, Any]:
    """`openapi_extra` of a route whose principal is DataWriter/DataReader: the spec lists each scope as an
    alternative security requirement (`app._alternatives`)."""
    return {"x-any-of-scopes": [s.value for s in scopes]}


DATA_WRITE = any_of(Scope.integrations_write, Scope.members_write)
DATA_READ = any_of(Scope.integrations_read, Scope.members_read)


def demand_for_model(principal: Principal, model: str | None, *, write: bool) -> None:
    """Member data needs the member scope; any other model the integrations one."""
    if model in ("member", "person"):
        demand(principal, Scope.members_write if write else Scope.members_read, "Member data")
    else:
        demand(principal, Scope.integrations_write if write else Scope.integrations_read, f"{model} records")


def demand(principal: Principal, scope: Scope, what: str) -> None:
    """A domain scope a request needs by what it touches (a member import's report, a member export), beyond
    the route's declared one; the route's description names it."""
    if not principal.can(scope):
        raise Forbidden(f"{what} needs the `{scope.value}` scope.", required_scope=scope.value)


async def _any_credential(
    principal: Annotated[Principal, Depends(authenticate)], declared: None = Depends(_declared([]))
) -> Principal:
    return principal


Authenticated = Annotated[Principal, Depends(_any_credential)]  # any valid credential, no scope
