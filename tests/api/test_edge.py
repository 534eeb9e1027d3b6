"""The HTTP edge: auth errors, rate-limit headers on every response, OpenAPI completeness."""

from __future__ import annotations

import requests

from integrations.auth.principal import Scope
from integrations.wiring import Hub
from tests.helpers import ApiClient, fortnox

RATE_HEADERS = ("RateLimit-Policy", "RateLimit", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def _has_rate_headers(r: requests.Response) -> bool:
    return all(h in r.headers for h in RATE_HEADERS)


def test_401_403_and_www_authenticate(api: str, hub: Hub, tenant: str) -> None:
    anon = ApiClient(api, None, tenant)
    r = anon.get(anon.integrations)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    bogus = ApiClient(api, "hubk_0123456789abcdef_nottherightsecret", tenant)
    r2 = bogus.get(bogus.integrations)
    assert (
        r2.status_code == 401 and r2.json()["detail"] == r.json()["detail"] or r2.json()["detail"] == "Invalid credentials."
    )
    reader = ApiClient(api, hub.api_keys.issue(tenant_id=tenant, scopes=[Scope.integrations_read], name="r").secret, tenant)
    assert reader.get(reader.integrations).status_code == 200
    r = reader.post(reader.integrations, json=fortnox(tenant))
    assert r.status_code == 403 and r.json()["required_scope"] == "integrations:write"
    writer = ApiClient(api, hub.api_keys.issue(tenant_id=tenant, scopes=[Scope.integrations_write], name="w").secret, tenant)
    doc = writer.create(fortnox(tenant))
    assert writer.post(f"{writer.integrations}/{doc['id']}:activate").status_code == 403
    assert writer.delete(f"{writer.integrations}/{doc['id']}").status_code == 403


def test_revoked_and_expired_keys(api: str, hub: Hub, tenant: str) -> None:
    from datetime import timedelta

    issued = hub.api_keys.issue(tenant_id=tenant, scopes=[Scope.integrations_read], name="r")
    client = ApiClient(api, issued.secret, tenant)
    assert client.get(client.integrations).status_code == 200
    hub.api_keys.revoke(issued.key_id)
    assert client.get(client.integrations).status_code == 401
    expired = hub.api_keys.issue(
        tenant_id=tenant, scopes=[Scope.integrations_read], name="e", expires_at=hub.now() - timedelta(seconds=1)
    )
    assert ApiClient(api, expired.secret, tenant).get(client.integrations).status_code == 401


def test_rate_limit_headers_on_every_kind_of_response(admin: ApiClient, api: str) -> None:
    doc = admin.create(fortnox(admin.tenant))
    path = f"{admin.integrations}/{doc['id']}"
    responses = [
        admin.get(admin.integrations),
        admin.get(path),
        admin.get(f"{admin.integrations}/int_{'0' * 24}"),
        admin.post(admin.integrations, json={"family": "accounting"}),
        admin.post(admin.integrations, data="{", headers={"Content-Type": "application/json"}),
        admin.post(admin.integrations, data="x", headers={"Content-Type": "text/plain"}),
        admin.post(admin.integrations, json=fortnox(admin.tenant, display_name="x" * 300_000)),
        admin.post(f"{path}:activate"),
        ApiClient(api, None, admin.tenant).get(admin.integrations),
        requests.get(f"{api}/api/health"),
        requests.get(f"{api}/api/openapi.json"),
        requests.get(f"{api}/nope"),
        requests.put(f"{api}/api/health", json={}),
    ]
    assert sorted({r.status_code for r in responses}) == [200, 400, 401, 404, 405, 409, 413, 415, 422]
    for r in responses:
        assert _has_rate_headers(r), (r.request.method, r.url, r.status_code)
        assert r.headers.get("X-Correlation-Id")


def test_429_with_retry_after_and_problem(hub: Hub, tenant: str) -> None:
    """Burst, then steady state, on a clock we move by hand (machines are noisy; buckets are exact)."""
    from integrations.api.app import create_api
    from integrations.api.ratelimit import RateLimiter
    from tests.helpers import serve

    now = [1000.0]
    limiter = RateLimiter(clock=lambda: now[0])
    issued = hub.api_keys.issue(tenant_id=tenant, scopes=[Scope.integrations_read], name="burst")
    with serve(create_api(max_body=4096, limiter=lambda: limiter)) as base:
        client = ApiClient(base, issued.secret, tenant)
        # A key gets a bucket of its own once this instance has verified it (before that, and for forged ids,
        # the caller's address bucket applies): one authenticated call first.
        assert client.get(client.integrations).status_code == 200
        statuses = [client.get("/api/health").status_code for _ in range(100)]
        assert statuses == [200] * 100  # the burst allowance of the read class
        r = client.get("/api/health")
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert r.headers["Content-Type"].startswith("application/problem+json") and _has_rate_headers(r)
        assert r.headers["X-RateLimit-Remaining"] == "0"
        now[0] += 1.0  # steady state: 20 tokens a second
        statuses = [client.get("/api/health").status_code for _ in range(21)]
        assert statuses == [200] * 20 + [429]
        other = hub.api_keys.issue(tenant_id=tenant, scopes=[Scope.integrations_read], name="other")
        other_client = ApiClient(base, other.secret, tenant)
        assert other_client.get(other_client.integrations).status_code == 200  # verified (the address's bucket)
        assert other_client.get("/api/health").status_code == 200  # buckets are per client


def test_openapi_is_complete(api: str) -> None:
    spec = requests.get(f"{api}/api/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    operation_ids = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            operation_ids.append(op["operationId"])
            assert op.get("summary"), (method, path)
            if path.startswith("/api/v1/tenants/"):
                for status in ("401", "403", "404", "429"):
                    assert status in op["responses"], (method, path, status)
    assert len(operation_ids) == len(set(operation_ids))
    schemas = spec["components"]["schemas"]
    for name in ("AccountingIntegration", "PaymentGatewayIntegration", "CrmIntegration", "Problem"):
        assert name in schemas
    # every field of the typed documents is described (these are the API docs)
    typed = ("Config", "Capabilities", "Create", "Refs", "Year", "Account")
    undocumented = [
        f"{n}.{f}"
        for n, s in schemas.items()
        if n.endswith(typed)
        for f, p in s.get("properties", {}).items()
        if not p.get("description")
    ]
    assert undocumented == []


def test_deprecated_operations_announce_their_sunset(hub: Hub, tenant: str) -> None:
    from datetime import date

    from integrations.api.app import create_api
    from integrations.api.deprecations import Deprecation
    from tests.helpers import serve

    dep = Deprecation(since=date(2026, 11, 1), sunset=date(2027, 3, 1), link="https://docs.example/migrate-v2")
    app = create_api(max_body=4096, deprecations={"listIntegrations": dep})
    assert app.openapi()["paths"]["/api/v1/tenants/{tenant_id}/integrations"]["get"]["deprecated"] is True
    key = hub.api_keys.issue(tenant_id=tenant, scopes=[Scope.integrations_read], name="d")
    with serve(app) as base:
        client = ApiClient(base, key.secret, tenant)
        r = client.get(client.integrations)
        other = client.get("/api/health")
    assert r.headers["Deprecation"] == "@1793491200" and r.headers["Sunset"] == "Mon, 01 Mar 2027 00:00:00 GMT"
    assert 'rel="deprecation"' in r.headers["Link"] and "Deprecation" not in other.headers


def test_readiness_checks_dependencies(api: str) -> None:
    r = requests.get(f"{api}/api/health/ready")
    assert r.status_code == 200 and r.json()["checks"] == {"tables": "ok", "queues": "ok", "secrets": "ok"}


def test_readiness_reports_an_unreachable_dependency(api: str, hub: Hub) -> None:
    class Unreachable:
        def versions(self, name: str) -> list:
            raise ConnectionError("vault unreachable")

    hub._lazy["secret_store"] = Unreachable()
    r = requests.get(f"{api}/api/health/ready")
    assert r.status_code == 503 and r.json()["checks"]["secrets"].startswith("unreachable")


def test_the_docs_page_and_its_assets_are_served_by_the_hub_itself(api: str) -> None:
    """Swagger UI comes from the hub, not a CDN: the docs work offline (a newcomer found them blank)."""
    import re

    page = requests.get(f"{api}/api/docs")
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/api/docs/assets/") for a in assets), assets  # nothing from elsewhere
    assert "/api/openapi.json" in page.text
    for asset in assets:
        r = requests.get(f"{api}{asset}")
        assert r.status_code == 200 and len(r.content) > 500, (asset, r.status_code)
    assert "SwaggerUIBundle" in requests.get(f"{api}/api/docs/assets/swagger-ui-bundle.js").text
