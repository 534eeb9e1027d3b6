"""Read-only views: audit trail, usage, provider catalog."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from adapters.spec import ProviderSpec
from integrations.api.deps import (
    Admin,
    Auditor,
    Authenticated,
    HubDep,
    IntegrationId,
    TenantId,
    UsageReader,
)
from integrations.api.routes.integrations import COMMON, P
from integrations.table_names import TableName
from integrations.usage.alerts import AlertSettings
from integrations.usage.alerts import save as save_alert_settings
from integrations.usage.quota import QuotaReport, tenant_quota
from integrations.usage.report import UsageReport, usage_report
from shared.errors import FieldError, NotFound, ValidationFailed

router = APIRouter()


class AuditEventOut(BaseModel):
    id: str
    at: datetime
    actor: str
    action: str = Field(
        description="secret.write, secret.read, secret.rotate, secret.disable, oauth.start, oauth.grant, oauth.refresh, …"
    )
    integration_id: str | None
    target: dict[str, Any]
    outcome: str
    reason: str


class AuditPage(BaseModel):
    items: list[AuditEventOut]
    next: str | None = None


@router.get(
    "/api/v1/tenants/{tenant_id}/audit",
    tags=["audit"],
    operation_id="listAuditEvents",
    summary="The tenant's audit trail, newest first",
    response_model=AuditPage,
    responses={
        **COMMON,
        400: {**P, "description": "Malformed continuation token."},
        422: {**P, "description": "Invalid query parameter."},
    },
)
def audit(
    tenant_id: TenantId,
    principal: Auditor,
    hub: HubDep,
    action: Annotated[str | None, Query(pattern=r"^[a-z_.]{3,40}$")] = None,
    integration_id: Annotated[str | None, Query(pattern=r"^int_[0-9a-f]{24}$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    continuation: Annotated[str | None, Query(max_length=2000)] = None,
) -> Any:
    events, nxt = hub.audit.query(
        tenant_id, action=action, integration_id=integration_id, size=limit, continuation=continuation
    )
    return AuditPage(
        items=[AuditEventOut(**{k: getattr(e, k) for k in AuditEventOut.model_fields}) for e in events], next=nxt
    )


FromDate = Annotated[date | None, Query(alias="from", description="First day (UTC), default 29 days before `to`.")]
ToDate = Annotated[date | None, Query(description="Last day (UTC), default today.")]


def date_range(hub: Any, from_: date | None, to: date | None) -> tuple[date, date]:
    """`from`/`to` query parameters: the last 30 days by default, at most 366 days, in order."""
    for name, value in (("from", from_), ("to", to)):
        if value is not None and not 2000 <= value.year <= 2100:
            raise ValidationFailed("Invalid date range.", [FieldError(f"query:{name}", "must be between 2000 and 2100")])
    end = to or hub.now().date()
    start = from_ or end - timedelta(days=29)
    if start > end or (end - start).days > 366:
        raise ValidationFailed(
            "Invalid date range.", [FieldError("query:from", "must be on or before `to`, within 366 days")]
        )
    return start, end


@router.get(
    "/api/v1/tenants/{tenant_id}/integrations/{integration_id}/usage",
    tags=["usage"],
    operation_id="getIntegrationUsage",
    summary="Daily outbound usage and quota burn of one integration",
    response_model=UsageReport,
    responses={**COMMON, 422: {**P, "description": "Invalid date range."}},
)
def integration_usage(
    tenant_id: TenantId,
    integration_id: IntegrationId,
    principal: UsageReader,
    hub: HubDep,
    from_: FromDate = None,
    to: ToDate = None,
) -> Any:
    start, end = date_range(hub, from_, to)
    document = hub.integrations.get(tenant_id, integration_id).document
    return usage_report(
        document,
        hub.usage.daily(tenant_id, integration_id, start=start, end=end),
        spec=hub.catalog.get(document.provider),
        start=start,
        end=end,
        quota=hub.settings.provider_daily_quotas.get(document.provider),
    )


@router.get(
    "/api/v1/providers",
    tags=["providers"],
    operation_id="listProviders",
    summary="The provider catalog (what the portal's wizard offers)",
    response_model=list[ProviderSpec],
    responses={401: COMMON[401], 429: COMMON[429]},
)
def providers(principal: Authenticated, hub: HubDep, family: Annotated[str | None, Query(max_length=40)] = None) -> Any:
    return [s for s in hub.catalog.all() if family is None or family in s.families]


@router.get(
    "/api/v1/providers/{provider_id}",
    tags=["providers"],
    operation_id="getProvider",
    summary="One provider's catalog entry",
    response_model=ProviderSpec,
    responses={401: COMMON[401], 404: COMMON[404], 429: COMMON[429]},
)
def provider(provider_id: str, principal: Authenticated, hub: HubDep) -> Any:
    try:
        return hub.catalog.get(provider_id)
    except NotFound:
        raise NotFound(f"Unknown provider {provider_id!r}.") from None


@router.get(
    "/api/v1/tenants/{tenant_id}/quota",
    tags=["usage"],
    operation_id="getQuota",
    summary="API quota: today's and this month's requests against the plan, per client and endpoint class",
    response_model=QuotaReport,
    responses=COMMON,
)
def quota(tenant_id: TenantId, principal: UsageReader, hub: HubDep) -> Any:
    # Alerts are sent by the minute timer (integrations.sync.scheduler), not by a read.
    return tenant_quota(hub, tenant_id)


class TenantUsageRow(BaseModel):
    integration_id: str
    provider: str
    requests: int
    errors: int
    throttled: int


class TenantUsage(BaseModel):
    tenant_id: str
    start: date
    end: date
    requests: int
    errors: int
    integrations: list[TenantUsageRow]


@router.get(
    "/api/v1/tenants/{tenant_id}/usage",
    tags=["usage"],
    operation_id="getTenantUsage",
    summary="Outbound usage of every integration of the tenant, totals per integration",
    response_model=TenantUsage,
    responses={**COMMON, 422: {**P, "description": "Invalid date range."}},
)
def tenant_usage(
    tenant_id: TenantId,
    principal: UsageReader,
    hub: HubDep,
    from_: FromDate = None,
    to: ToDate = None,
) -> Any:
    from integrations.usage.counters import Tally, tenant_rows

    start, end = date_range(hub, from_, to)
    hub.usage.flush()
    per: dict[str, Tally] = {}
    for subject, _day, _op, tally in tenant_rows(hub.tables.table(TableName.usage), tenant_id, start=start, end=end):
        per.setdefault(subject, Tally()).add(tally)
    providers = {}
    for integration_id in per:
        try:
            providers[integration_id] = hub.integrations.get(tenant_id, integration_id).document.provider
        except NotFound:
            providers[integration_id] = ""
    rows = [
        TenantUsageRow(integration_id=i, provider=providers[i], requests=t.requests, errors=t.errors, throttled=t.throttled)
        for i, t in sorted(per.items())
    ]
    return TenantUsage(
        tenant_id=tenant_id,
        start=start,
        end=end,
        requests=sum(r.requests for r in rows),
        errors=sum(r.errors for r in rows),
        integrations=rows,
    )


@router.put(
    "/api/v1/tenants/{tenant_id}/settings/alerts",
    tags=["usage"],
    operation_id="putAlertSettings",
    summary="Quota alert threshold and webhook (HTTPS, public hosts only)",
    response_model=AlertSettings,
    responses={
        **COMMON,
        422: {**P, "description": "Invalid threshold or a URL the SSRF guard refuses."},
        400: {**P, "description": "Malformed JSON."},
        415: {**P, "description": "Not JSON."},
    },
)
def put_alert_settings(tenant_id: TenantId, principal: Admin, hub: HubDep, body: AlertSettings) -> Any:
    saved = save_alert_settings(hub, tenant_id, body)
    hub.audit.record(
        tenant_id,
        actor=principal.actor,
        action="settings.alerts",
        target={"webhook": bool(body.webhook_url), "threshold_pct": body.threshold_pct},
    )
    return saved
