"""Quota: requests counted per tenant/client/endpoint class; the 80 % alert fires once per period."""

from __future__ import annotations

from integrations.auth.principal import Scope
from integrations.sync.scheduler import check_quota_alerts
from integrations.wiring import Hub
from tests.helpers import ApiClient


def test_quota_counts_and_alerts_once(api: str, hub: Hub, tenant: str) -> None:
    hub.settings.tenant_plans[tenant] = "tiny"  # unknown plan names fall back to standard
    from integrations.usage import quota

    quota.PLANS["tiny"] = quota.Plan("tiny", daily=50, monthly=1000)
    try:
        hub.settings.tenant_plans[tenant] = "tiny"
        key = hub.api_keys.issue(tenant_id=tenant, scopes=[Scope.integrations_admin], name="q")
        client = ApiClient(api, key.secret, tenant)
        for _ in range(30):
            assert client.get(client.integrations).status_code == 200
        report = client.get(f"/api/v1/tenants/{tenant}/quota").json()
        assert report["day"]["used"] >= 30 and report["day"]["limit"] == 50
        assert report["by_client"][key.key_id] >= 30 and report["by_endpoint_class"]["read"] >= 30
        assert hub.queues.peek_all(hub.settings.queue_alerts) == []  # 60 % < 80 %
        for _ in range(12):
            client.get(client.integrations)
        assert check_quota_alerts(hub=hub) == 1  # crossed 80 % of the day
        for _ in range(3):
            client.get(client.integrations)
        assert check_quota_alerts(hub=hub) == 0  # not again in the same period
        client.get(f"/api/v1/tenants/{tenant}/quota")
        alerts = hub.queues.peek_all(hub.settings.queue_alerts)
        assert [a["period"] for a in alerts] == ["day"] and alerts[0]["pct"] >= 80
    finally:
        quota.PLANS.pop("tiny", None)
