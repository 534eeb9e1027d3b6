"""Usage as tenants read it: daily series, totals, error rate and quota burn."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from adapters.spec import ProviderSpec
from integrations.documents.document import IntegrationDocument
from integrations.usage.counters import DailyUsage


class UsageDay(BaseModel):
    day: date
    requests: int
    errors: int = Field(description="4xx, 5xx and network errors (throttles counted apart).")
    errors_4xx: int
    errors_5xx: int
    errors_network: int
    throttled: int = Field(description="429 answers from the provider.")
    avg_latency_ms: float | None
    units: int = Field(
        0,
        description="What the provider's quota counts: requests, or units where a call costs more "
        "(YouTube: 50 for a write).",
    )
    quota_burn_pct: float | None = Field(
        description="Units as % of the quota for the days this row covers (None if the quota is unknown): the daily "
        "quota for a day; the daily quota × the period's days for `totals` and `by_operation` (one definition: the "
        "rows of a one-day period agree)."
    )


class UsageReport(BaseModel):
    integration_id: str
    provider: str
    start: date
    end: date
    daily_quota: int | None = Field(description="Requests (or units) per day the quota burn is measured against.")
    daily_quota_source: str
    totals: UsageDay
    by_operation: dict[str, UsageDay] = Field(description="Totals per operation (validate, sync.push_invoice, …).")
    days: list[UsageDay]


def daily_quota(spec: ProviderSpec) -> tuple[int | None, str]:
    if spec.daily_quota:
        return spec.daily_quota, "catalog"
    if spec.rate_limit:
        return int(spec.rate_limit.requests * 86_400 / spec.rate_limit.per_seconds), "rate limit over 24 h"
    return None, "unknown"


def usage_report(
    document: IntegrationDocument,
    days: list[DailyUsage],
    *,
    spec: ProviderSpec,
    start: date,
    end: date,
    quota: int | None = None,
) -> UsageReport:
    limit, source = (quota, "HUB_PROVIDER_DAILY_QUOTAS") if quota else daily_quota(spec)
    period_days = max(1, (end - start).days + 1)

    def row(day: date, t: Any, covered_days: int = 1) -> UsageDay:
        return UsageDay(
            day=day,
            requests=t.requests,
            errors=t.errors,
            errors_4xx=t.errors_4xx,
            errors_5xx=t.errors_5xx,
            errors_network=t.errors_network,
            throttled=t.throttled,
            avg_latency_ms=round(t.latency_ms / t.requests, 2) if t.requests else None,
            units=t.units,
            quota_burn_pct=round(100 * t.units / (limit * covered_days), 3) if limit else None,
        )

    from integrations.usage.counters import Tally

    total = Tally()
    for d in days:
        total.add(d.tally)
    rows = [row(d.day, d.tally) for d in days]
    totals = row(end, total, period_days)
    ops: dict[str, Tally] = {}
    for d in days:
        for op, t in d.by_operation.items():
            ops.setdefault(op, Tally()).add(t)
    return UsageReport(
        integration_id=document.id,
        provider=document.provider,
        start=start,
        end=end,
        daily_quota=limit,
        daily_quota_source=source,
        totals=totals,
        by_operation={op: row(end, t, period_days) for op, t in ops.items()},
        days=rows,
    )
