"""Quota: requests counted per tenant/client/endpoint class; the 80 % alert fires once per period."""

from __future__ import annotations

from integrations.auth.principal import Scope
from integrations.minute_timer import check_quota_alerts
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


def test_alert_webhook_is_ssrf_guarded_and_called(api: str, hub: Hub, tenant: str) -> None:
    import json

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    import function_app
    from devfakes.swish import SwishFake
    from shared.http import OutboundClient
    from tests.helpers import FAST_QUEUES, loopback, serve
    from tools.runner import LocalRunner

    received: list[dict] = []

    async def hook(request: Request) -> Response:
        received.append(json.loads(await request.body()))
        return Response(status_code=204)

    admin_key = hub.api_keys.issue(tenant_id=tenant, scopes=[Scope.integrations_admin], name="a")
    admin = ApiClient(api, admin_key.secret, tenant)
    path = f"/api/v1/tenants/{tenant}/settings/alerts"
    for bad in ("http://hooks.example.org/x", "https://127.0.0.1/x", "https://10.0.0.8/x", "https://169.254.169.254/x"):
        r = admin.request("PUT", path, json={"webhook_url": bad})
        assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/webhook_url", (bad, r.text)
    certs = SwishFake.create()  # a test CA and a 127.0.0.1 server certificate
    tls = {k: v for k, v in certs.ssl_options().items() if k in ("ssl_certfile", "ssl_keyfile")}
    with serve(Starlette(routes=[Route("/hook", hook, methods=["POST"])]), **tls) as receiver:
        # The operator's exemption for this one receiver (the egress policy refuses loopback otherwise).
        hub.outbound = OutboundClient(egress=loopback(receiver))
        hub.settings.alert_webhook_ca_bundle = str(certs.ca_pem)
        r = admin.request("PUT", path, json={"webhook_url": f"{receiver}/hook", "threshold_pct": 1})
        assert r.status_code == 200, r.text
        from integrations.minute_timer import check_quota_alerts
        from integrations.usage import quota

        quota.PLANS["tiny-hook"] = quota.Plan("tiny-hook", daily=10, monthly=1000)
        hub.settings.tenant_plans[tenant] = "tiny-hook"
        for _ in range(3):
            admin.get(admin.integrations)
        assert check_quota_alerts(hub=hub) >= 1
        quota.PLANS.pop("tiny-hook", None)
        assert received == []  # the timer only enqueued the post: a slow receiver cannot hold it up
        drained = LocalRunner(function_app.app, queue_settings=FAST_QUEUES).queues["queue_alert_webhooks"].drain()
        assert drained >= 1
    assert received and received[0]["tenant_id"] == tenant and received[0]["threshold_pct"] == 1


def test_usage_date_ranges_are_validated(api: str, hub: Hub, tenant: str) -> None:
    key = hub.api_keys.issue(tenant_id=tenant, scopes=[Scope.integrations_admin], name="d")
    client = ApiClient(api, key.secret, tenant)
    for params in (
        {"to": "0001-01-01"},
        {"from": "2026-02-01", "to": "2026-01-01"},
        {"from": "2024-01-01", "to": "2026-01-01"},
    ):
        r = client.get(f"/api/v1/tenants/{tenant}/usage", params=params)
        assert r.status_code == 422, (params, r.text)  # found by schemathesis: year 1 once made a 500


def test_quota_history_by_day_client_and_endpoint_class(api: str, hub: Hub, tenant: str) -> None:
    """Usage of the hub's own API over any period, not just the current month: per day, client and class."""
    from datetime import timedelta

    sync = hub.api_keys.issue(tenant_id=tenant, scopes=[Scope.integrations_admin], name="nightly sync")
    portal = hub.api_keys.issue(tenant_id=tenant, scopes=[Scope.integrations_read], name="portal")
    reader = hub.api_keys.issue(tenant_id=tenant, scopes=[Scope.usage_read], name="dashboard")
    real_now = hub.now
    hub.now = lambda: real_now() - timedelta(days=1)  # yesterday
    nightly = ApiClient(api, sync.secret, tenant)
    for _ in range(4):
        assert nightly.get(nightly.integrations).status_code == 200
    assert nightly.post(nightly.integrations, json={"family": "mapping"}).status_code == 422
    hub.now = real_now
    browser = ApiClient(api, portal.secret, tenant)
    for _ in range(3):
        assert browser.get(browser.integrations).status_code == 200

    today = real_now().date()
    r = ApiClient(api, reader.secret, tenant).get(
        f"/api/v1/tenants/{tenant}/quota/history",
        params={"from": (today - timedelta(days=2)).isoformat(), "to": today.isoformat()},
    )
    assert r.status_code == 200, r.text
    history = r.json()
    assert [d["day"] for d in history["days"]] == [(today - timedelta(days=n)).isoformat() for n in (2, 1, 0)]
    before, yesterday, now = history["days"]
    assert before["requests"] == 0 and before["by_client"] == {}
    assert yesterday["by_client"] == {sync.key_id: 5} and yesterday["by_endpoint_class"]["read"] == 4
    assert now["by_client"][portal.key_id] == 3 and sync.key_id not in now["by_client"]
    assert yesterday["pct_of_daily_limit"] == round(100 * 5 / history["daily_limit"], 3)
    bad = ApiClient(api, reader.secret, tenant).get(
        f"/api/v1/tenants/{tenant}/quota/history", params={"from": "2026-02-01", "to": "2025-01-01"}
    )
    assert bad.status_code == 422


def test_the_operator_changes_a_plan_through_the_api_and_the_tenant_sees_it(api: str, hub: Hub, tenant: str) -> None:
    """A plan is the operator's to change (not an environment variable only): through the operator API with the
    operator's own key, in effect at once on this instance, in the tenant's audit trail; no federation key can."""
    import io
    import json
    from contextlib import redirect_stdout

    from tools import cli

    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["create-operator-key", "--name", "ops"]) == 0
    operator_key = json.loads(out.getvalue())
    assert operator_key["tenant_id"] == "hub-operator"
    operator = ApiClient(api, operator_key["api_key"], "hub-operator")
    admin_key = hub.api_keys.issue(tenant_id=tenant, scopes=[Scope.integrations_admin], name="federation admin")
    admin = ApiClient(api, admin_key.secret, tenant)
    plan_url = f"/api/v1/operator/plans/{tenant}"

    assert admin.request("PUT", plan_url, json={"plan": "dedicated"}).status_code == 403  # a federation's admin: no
    grant = admin.post(f"/api/v1/tenants/{tenant}/api-keys", json={"name": "x", "scopes": ["operator:plans"]})
    assert grant.status_code == 403  # nor can it mint itself the scope
    assert operator.get(plan_url).json() == {"tenant_id": tenant, "plan": "standard"}

    changed = operator.request("PUT", plan_url, json={"plan": "free"})
    assert changed.status_code == 200, changed.text
    quota = admin.get(f"/api/v1/tenants/{tenant}/quota").json()
    assert quota["plan"] == "free" and quota["day"]["limit"] == 5_000
    assert '"free-read"' in admin.get(admin.integrations).headers["RateLimit-Policy"]
    trail = admin.get(f"/api/v1/tenants/{tenant}/audit", params={"limit": 50}).json()["items"]
    (entry,) = [e for e in trail if e["action"] == "plan.change"]
    assert entry["target"] == {"from": "standard", "to": "free"} and operator_key["key_id"] in entry["actor"]
    assert operator.request("PUT", plan_url, json={"plan": "platinum"}).status_code == 422
