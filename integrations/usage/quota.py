"""Quotas of the hub's own API per tenant: daily and monthly request counts against the tenant's plan,
per client and per endpoint class, and threshold alerts (default 80 %) sent once per period.

Inbound requests are counted by the HTTP edge into the `apiusage` counters (same sharded counters as the
outbound usage: subject `client:<id>`, operation = endpoint class). Alerts are exactly once per tenant,
period and threshold: the alert row is inserted if absent, and only the inserter sends.
"""

from __future__ import annotations

from calendar import monthrange
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, Field

from integrations.usage.counters import UsageCounters, tenant_rows
from shared.errors import Conflict
from shared.rows import Row, Rows
from shared.tables import Table


@dataclass(frozen=True)
class Plan:
    name: str
    daily: int
    monthly: int


PLANS = {
    "free": Plan("free", daily=5_000, monthly=100_000),
    "standard": Plan("standard", daily=100_000, monthly=2_000_000),
    "dedicated": Plan("dedicated", daily=2_000_000, monthly=50_000_000),
}


def plan_named(name: str) -> Plan:
    """A plan by name; an unknown name is the standard plan."""
    return PLANS.get(name, PLANS["standard"])


class PeriodUsage(BaseModel):
    used: int
    limit: int
    pct: float
    resets_at: datetime


class QuotaReport(BaseModel):
    tenant_id: str
    plan: str
    alert_threshold_pct: float
    day: PeriodUsage
    month: PeriodUsage
    by_client: dict[str, int] = Field(description="Requests this month per client (API key id).")
    by_endpoint_class: dict[str, int] = Field(description="Requests this month per endpoint class (read/write/heavy).")
    as_of: datetime = Field(description="Counters are flushed at least every 2 s; this is when they were read.")


class QuotaDay(BaseModel):
    day: date
    requests: int
    pct_of_daily_limit: float
    by_client: dict[str, int] = Field(description="Requests that day per client (API key id).")
    by_endpoint_class: dict[str, int] = Field(description="Requests that day per endpoint class.")


class QuotaHistory(BaseModel):
    tenant_id: str
    plan: str
    daily_limit: int
    start: date
    end: date
    days: list[QuotaDay] = Field(description="Every day of the period, oldest first (days without requests as 0).")


def quota_history(
    tenant_id: str, *, counters: UsageCounters, table: Table, plan: Plan, start: date, end: date
) -> QuotaHistory:
    """The hub's own API usage by day, client and endpoint class over any period (pending tallies flushed)."""
    counters.flush()
    per_day: dict[date, tuple[dict[str, int], dict[str, int]]] = {}
    for subject, d, operation, t in tenant_rows(table, tenant_id, start=start, end=end):
        clients, classes = per_day.setdefault(d, (defaultdict(int), defaultdict(int)))
        clients[subject.removeprefix("client:")] += t.requests
        classes[operation] += t.requests
    days = []
    for n in range((end - start).days + 1):
        day = start + timedelta(days=n)
        clients, classes = per_day.get(day, ({}, {}))
        total = sum(classes.values())
        days.append(
            QuotaDay(
                day=day,
                requests=total,
                pct_of_daily_limit=round(100 * total / plan.daily, 3),
                by_client=dict(clients),
                by_endpoint_class=dict(classes),
            )
        )
    return QuotaHistory(tenant_id=tenant_id, plan=plan.name, daily_limit=plan.daily, start=start, end=end, days=days)


def _period(used: int, limit: int, resets: datetime) -> PeriodUsage:
    return PeriodUsage(used=used, limit=limit, pct=round(100 * used / limit, 3), resets_at=resets)


def quota_report(
    tenant_id: str, *, counters: UsageCounters, table: Table, plan: Plan, threshold_pct: float, now: datetime
) -> QuotaReport:
    counters.flush()
    today = now.date()
    first = today.replace(day=1)
    rows = tenant_rows(table, tenant_id, start=first, end=today)
    by_client: dict[str, int] = defaultdict(int)
    by_class: dict[str, int] = defaultdict(int)
    day_total = month_total = 0
    for subject, d, operation, t in rows:
        month_total += t.requests
        by_client[subject.removeprefix("client:")] += t.requests
        by_class[operation] += t.requests
        if d == today:
            day_total += t.requests
    tomorrow = datetime.combine(today + timedelta(days=1), time(), UTC)
    next_month = datetime.combine(first + timedelta(days=monthrange(first.year, first.month)[1]), time(), UTC)
    return QuotaReport(
        tenant_id=tenant_id,
        plan=plan.name,
        alert_threshold_pct=threshold_pct,
        day=_period(day_total, plan.daily, tomorrow),
        month=_period(month_total, plan.monthly, next_month),
        by_client=dict(by_client),
        by_endpoint_class=dict(by_class),
        as_of=now,
    )


class AlertSent(Row):
    """`<period>|<day or month>|<threshold>`: this period's alert went out (inserted once: the claim)."""

    pct: float = Field(alias="Pct")


def alerts_due(report: QuotaReport, *, alerts: Table, today: date) -> list[dict[str, Any]]:
    """Alert events for periods past the threshold that have not alerted yet (claimed by insert)."""
    out = []
    for period, usage, key in (("day", report.day, today.isoformat()), ("month", report.month, today.strftime("%Y-%m"))):
        if usage.pct < report.alert_threshold_pct:
            continue
        try:
            row = f"{period}|{key}|{report.alert_threshold_pct:g}"
            Rows(alerts, AlertSent).insert(AlertSent(partition=report.tenant_id, row=row, pct=usage.pct))
        except Conflict:
            continue  # already alerted this period
        out.append(
            {
                "type": "dev.integration-hub.quota.threshold",
                "tenant_id": report.tenant_id,
                "period": period,
                "period_key": key,
                "used": usage.used,
                "limit": usage.limit,
                "pct": usage.pct,
                "threshold_pct": report.alert_threshold_pct,
                "plan": report.plan,
            }
        )
    return out


def tenant_quota(
    tenant_id: str,
    *,
    counters: UsageCounters,
    table: Table,
    plan_name: str,
    threshold_pct: float,
    now: datetime,
) -> QuotaReport:
    """A tenant's API quota under its plan (the route and the minute's alert check both ask)."""
    return quota_report(
        tenant_id,
        counters=counters,
        table=table,
        plan=plan_named(plan_name),
        threshold_pct=threshold_pct,
        now=now,
    )
