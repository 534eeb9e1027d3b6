"""Buckets shared across processes: two processes hammering one client's bucket admit in total no more than
burst + rate × elapsed; the fast path touches storage once per lease."""

from __future__ import annotations

import multiprocessing
import time

from integrations.api.ratelimit import Policy
from integrations.api.shared_ratelimit import SharedRateLimiter
from integrations.wiring import Hub, build_hub
from shared.settings import Settings

POLICY = {
    "read": Policy("read", rate_per_s=10.0, burst=20),
    "write": Policy("write", 1.0, 5),
    "heavy": Policy("heavy", 1.0, 5),
}
SECONDS = 3.0


def _hammer(settings_json: str, start_at: float, out) -> None:  # type: ignore[no-untyped-def]
    hub = build_hub(Settings.model_validate_json(settings_json))
    limiter = SharedRateLimiter(hub.tables.table("ratebuckets"), POLICY, lease=5)
    while time.time() < start_at:
        time.sleep(0.001)
    admitted = 0
    while time.time() < start_at + SECONDS:
        if limiter.check("key:shared", "/api/v1/providers", "GET").allowed:
            admitted += 1
        time.sleep(0.002)
    out.put(admitted)


def test_two_processes_share_one_bucket(hub: Hub, settings: Settings) -> None:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    start_at = time.time() + 4.0  # both start together, after spawning
    procs = [ctx.Process(target=_hammer, args=(settings.model_dump_json(), start_at, out)) for _ in range(2)]
    for p in procs:
        p.start()
    counts = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    limit = POLICY["read"].burst + POLICY["read"].rate_per_s * SECONDS
    assert sum(counts) <= limit + 1, counts  # +1: the refill of the last instant
    assert sum(counts) >= 0.7 * limit, counts  # and the limit is actually usable
    assert all(c > 0 for c in counts)


def test_fast_path_reads_storage_once_per_lease(hub: Hub) -> None:
    table = hub.tables.table("ratebuckets")
    calls = {"n": 0}
    real = table.find

    def counting_find(*a, **kw):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        return real(*a, **kw)

    table.find = counting_find  # type: ignore[method-assign]
    limiter = SharedRateLimiter(table, POLICY, lease=5)
    results = [limiter.check("key:fast", "/api/v1/providers", "GET") for _ in range(20)]
    assert all(r.allowed for r in results)
    assert calls["n"] == 4  # 20 requests, leases of 5


def test_plans_size_the_buckets(api: str, hub: Hub, tenant: str) -> None:
    import requests

    from integrations.auth.principal import Scope

    hub.settings.tenant_plans[tenant] = "dedicated"
    key = hub.api_keys.issue(tenant_id=tenant, scopes=[Scope.integrations_read], name="big")
    auth = {"Authorization": f"Bearer {key.secret}"}
    requests.get(f"{api}/api/v1/tenants/{tenant}/integrations", headers=auth, timeout=10)  # verified on this instance
    r = requests.get(f"{api}/api/health", headers=auth, timeout=10)
    assert r.headers["X-RateLimit-Limit"] == "500" and '"dedicated-read"' in r.headers["RateLimit-Policy"]
    r = requests.get(f"{api}/api/health", timeout=10)  # anonymous: the standard plan, by IP
    assert r.headers["X-RateLimit-Limit"] == "100"


def test_an_instance_remembers_a_bounded_number_of_clients(hub: Hub) -> None:
    """Callers identified by address could grow an instance's per-client state without end: past the bound the
    oldest clients are forgotten (a forgotten client is served again, at the cost of one storage read)."""
    limiter = SharedRateLimiter(hub.tables.table("ratebuckets"), POLICY, lease=5, max_clients=20)
    for n in range(60):
        assert limiter.check(f"addr:203.0.113.{n}", "/api/v1/providers", "GET").allowed
        assert limiter.check(f"addr:203.0.113.{n}", "/api/health", "GET").allowed  # the in-memory probe buckets
    for state in (limiter._local, limiter._remaining_hint, limiter._refills, limiter._known):
        assert len(state) <= 20, state
    assert all(len(probes._buckets) <= 20 for probes in limiter._probes.values())
    assert limiter.check("addr:203.0.113.0", "/api/v1/providers", "GET").allowed  # forgotten, then served again


def test_an_empty_bucket_read_with_an_earlier_clock_hands_no_tokens_back(hub: Hub) -> None:
    """Instance B drains the bucket and stamps the row; instance A, whose clock reads a moment earlier (its
    clock was read before B's write landed, or the hosts' clocks are apart), then asks. A used to refill
    backwards: the empty bucket went negative, A "took" -1 token and wrote the row back up by one, and B
    admitted a request beyond the burst. The cause of the 2-10 surplus admissions in the two-instance test."""
    table = hub.tables.table("ratebuckets")
    policy = Policy("read", rate_per_s=20, burst=10)
    b = SharedRateLimiter(table, {"read": policy}, clock=lambda: 1000.05, lease=10)
    a = SharedRateLimiter(table, {"read": policy}, clock=lambda: 1000.0, lease=10)
    admitted = sum(b.check("key:skew", "/api/v1/providers", "GET").allowed for _ in range(10))
    assert admitted == 10
    for _ in range(5):
        assert not a.check("key:skew", "/api/v1/providers", "GET").allowed
    b._local.clear()  # noqa: SLF001 - B's lease is spent: its next request goes to the row
    assert not b.check("key:skew", "/api/v1/providers", "GET").allowed  # nothing beyond the burst at 1000.05


def test_a_changed_plan_is_asked_again_and_not_spent_from_forever(hub: Hub, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Plans change at run time (the operator API): the local fast path spends from a client's resolved plan
    only for KNOWN_S, then asks again; before, the first plan an instance saw held for its whole life."""
    from integrations.api import shared_ratelimit
    from integrations.api.ratelimit import plan_policies

    plan = {"now": "standard"}
    limiter = SharedRateLimiter(hub.tables.table("ratebuckets"), policies_for=lambda client: plan_policies(plan["now"]))
    assert limiter.check("key:plan", "/api/v1/providers", "GET").policy.name == "standard-read"
    local = limiter.check_local("key:plan", "/api/v1/providers", "GET")
    assert local is not None and local.policy.name == "standard-read"  # the lease still holds tokens

    plan["now"] = "free"
    real = time.monotonic
    monkeypatch.setattr(shared_ratelimit.time, "monotonic", lambda: real() + getattr(shared_ratelimit, "KNOWN_S", 10.0) + 1)
    assert limiter.check_local("key:plan", "/api/v1/providers", "GET") is None  # too old: ask again
    assert limiter.check("key:plan", "/api/v1/providers", "GET").policy.name == "free-read"
