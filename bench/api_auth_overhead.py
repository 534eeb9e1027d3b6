"""Authenticated, rate-limited GET of one integration vs the same handler with auth and rate limiting
disabled, same run. Target ≤ 1.15× p50."""

from __future__ import annotations

import requests

from bench.common import fresh_hub, interleaved_p50, row
from devfakes.documents import fortnox
from devfakes.servers import serve
from integrations.api.app import create_api
from integrations.api.deps import authenticate
from integrations.auth.principal import Principal, Scope
from integrations.service import create_integration
from integrations.table_names import TableName


def run(conn: str) -> dict[str, object]:
    hub = fresh_hub(conn)
    tenant = "bench-fed"
    doc = create_integration(tenant, fortnox(tenant), repo=hub.integrations, actor="bench", now=hub.now).document
    key = hub.api_keys.issue(tenant_id=tenant, scopes=[Scope.integrations_read], name="bench")
    from integrations.api.ratelimit import DEFAULT_POLICIES, Policy
    from integrations.api.shared_ratelimit import SharedRateLimiter

    # The production limiter (buckets shared through Table Storage, spent from local leases) with a plan
    # generous enough that the bench measures its cost, not its refusals.
    generous = SharedRateLimiter(
        hub.tables.table(TableName.ratebuckets),
        {k: Policy(p.name, rate_per_s=1e6, burst=10**9) for k, p in DEFAULT_POLICIES.items()},
    )
    secured = create_api(limiter=lambda: generous)
    open_ = create_api(limiter=lambda: None)
    principal = Principal(tenant_id=tenant, client_id="bench", kind="api_key", scopes=frozenset({Scope.integrations_read}))
    open_.dependency_overrides[authenticate] = lambda: principal
    path = f"/api/v1/tenants/{tenant}/integrations/{doc.id}"
    with serve(secured) as a, serve(open_) as b:
        sa, sb = requests.Session(), requests.Session()
        sa.headers["Authorization"] = f"Bearer {key.secret}"
        base, auth = interleaved_p50(lambda: sb.get(b + path), lambda: sa.get(a + path), n=500)
    return row(
        "GET integration: auth + rate limit vs neither (p50)", f"{base:.3f} ms", f"{auth:.3f} ms", auth / base, "≤ 1.15"
    )
