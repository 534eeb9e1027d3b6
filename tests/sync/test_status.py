"""getIntegrationStatus's error rate covers the last 24 hours, not calendar days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from integrations.documents.ref import IntegrationRef
from integrations.wiring import Hub
from tests.helpers import ApiClient, fortnox


def test_error_rate_is_the_last_24_hours(admin: ApiClient, hub: Hub) -> None:
    doc = admin.create(fortnox(admin.tenant))
    base = datetime.now(UTC).replace(hour=12)

    def calls(at: datetime, statuses: list[int]) -> None:
        hub.now = lambda: at
        for status in statuses:
            hub.usage.record(
                ref=IntegrationRef(admin.tenant, doc["id"]),
                provider="fortnox",
                operation="sync.push_invoice",
                status=status,
                latency_ms=1.0,
            )
        hub.usage.flush()

    calls(base - timedelta(hours=30), [500] * 10)  # yesterday, but more than 24 hours ago
    calls(base - timedelta(hours=2), [200, 200, 200, 503])
    hub.now = lambda: base
    status = admin.get(f"{admin.integrations}/{doc['id']}/status").json()
    assert status["requests_24h"] == 4 and status["error_rate_24h"] == 0.25, status
