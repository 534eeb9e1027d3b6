"""Usage and quota: one integration's outbound usage and quota burn, the tenant's totals, its API quota
per client and endpoint class, and the quota alert settings."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import Depends, Query
from pydantic import BaseModel

from integrations.api.deps import (
    Admin,
    AuditDep,
    CatalogDep,
    ClockDep,
    IntegrationsDep,
    QuotaAlertsDep,
    QuotaHistoryDep,
    Ref,
    SettingsDep,
    TenantId,
    TenantQuotaDep,
    UsageDep,
    UsageReader,
)
from integrations.api.problems import COMMON, problems
from integrations.api.routing import api_router
from integrations.documents.ref import IntegrationRef
from integrations.usage.alerts import AlertSettings
from integrations.usage.quota import QuotaHistory, QuotaReport
from integrations.usage.report import UsageReport, usage_report
from shared.errors import FieldError, NotFound, ValidationFailed

router = api_router()
DATE_RANGE = problems(COMMON, own={422: "Invalid date range."})  # what every report answers to bad dates


FromDate = Annotated[date | None, Query(alias="from", description="First day (UTC), default 29 days before `to`.")]
ToDate = Annotated[date | None, Query(description="Last day (UTC), default today.")]


async def date_range(clock: ClockDep, from_: FromDate = None, to: ToDate = None) -> tuple[date, date]:
    """`from`/`to` query parameters: the last 30 days by default, at most 366 days, in order."""
    for name, value in (("from", from_), ("to", to)):
        if value is not None and not 2000 <= value.year <= 2100:
            raise ValidationFailed("Invalid date range.", [FieldError(f"query:{name}", "must be between 2000 and 2100")])
    end = to or clock().date()
    start = from_ or end - timedelta(days=29)
    if start > end or (end - start).days > 366:
        raise ValidationFailed(
            "Invalid date range.", [FieldError("query:from", "must be on or before `to`, within 366 days")]
        )
    return start, end


Days = Annotated[tuple[date, date], Depends(date_range)]  # (first, last) day asked for


@router.get(
    "/api/v1/tenants/{tenant_id}/integrations/{integration_id}/usage",
    tags=["usage"],
    response_model=UsageReport,
    responses=DATE_RANGE,
)
def get_integration_usage(
    ref: Ref,
    principal: UsageReader,
    catalog: CatalogDep,
    integrations: IntegrationsDep,
    settings: SettingsDep,
    usage: UsageDep,
    days: Days,
) -> Any:
    """Daily outbound usage and quota burn of one integration"""
    start, end = days
    document = integrations.get(ref).document
    return usage_report(
        document,
        usage.daily(ref, start=start, end=end),
        spec=catalog.get(document.provider),
        start=start,
        end=end,
        quota=settings.provider_daily_quotas.get(document.provider),
    )


@router.get("/api/v1/tenants/{tenant_id}/quota", tags=["usage"], response_model=QuotaReport, responses=COMMON)
def get_quota(tenant_id: TenantId, principal: UsageReader, tenant_quota: TenantQuotaDep) -> Any:
    # Alerts are sent by the minute timer (integrations.minute_timer), not by a read.
    """API quota: today's and this month's requests against the plan, per client and endpoint class"""
    return tenant_quota(tenant_id)


@router.get(
    "/api/v1/tenants/{tenant_id}/quota/history",
    tags=["usage"],
    response_model=QuotaHistory,
    responses=DATE_RANGE,
)
def get_quota_history(tenant_id: TenantId, principal: UsageReader, history: QuotaHistoryDep, days: Days) -> Any:
    """API usage by day, per client and endpoint class, against the plan's daily limit (any period)"""
    return history(tenant_id, *days)


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
    response_model=TenantUsage,
    responses=DATE_RANGE,
)
def get_tenant_usage(
    tenant_id: TenantId, principal: UsageReader, usage: UsageDep, documents: IntegrationsDep, days: Days
) -> Any:
    """Outbound usage of every integration of the tenant, totals per integration"""
    start, end = days
    per = usage.by_integration(tenant_id, start=start, end=end)
    providers = {}
    for integration_id in per:
        try:
            providers[integration_id] = documents.get(IntegrationRef(tenant_id, integration_id)).document.provider
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
    response_model=AlertSettings,
    responses=problems(
        COMMON, own={422: "Invalid threshold or a URL the SSRF guard refuses.", 400: "Malformed JSON.", 415: "Not JSON."}
    ),
)
def put_alert_settings(
    tenant_id: TenantId, principal: Admin, audit: AuditDep, quota_alerts: QuotaAlertsDep, body: AlertSettings
) -> Any:
    """Quota alert threshold and webhook (HTTPS, public hosts only)"""
    saved = quota_alerts.save(tenant_id, body)
    audit.record(
        tenant_id,
        actor=principal.actor,
        action="settings.alerts",
        target={"webhook": bool(body.webhook_url), "threshold_pct": body.threshold_pct},
    )
    return saved
