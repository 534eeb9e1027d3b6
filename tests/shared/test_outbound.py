"""The outbound client against the Fortnox fake: the limiter keeps a burst inside the window, 429s are
waited out as told, and usage counters stay exact under concurrency."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest

from devfakes.fortnox import FortnoxFake
from integrations.documents.ref import IntegrationRef
from integrations.usage.counters import UsageCounters
from integrations.wiring import Hub, utc_now
from shared.errors import ProviderError
from shared.http import Call, OutboundClient, Policy, SlidingWindowLimiter, Window
from tests.helpers import fortnox_token, loopback, serve


def test_burst_of_200_stays_inside_the_window() -> None:
    fake = FortnoxFake(window_s=0.5)
    with serve(fake.app()) as base:
        token = fortnox_token(fake)
        client = OutboundClient(egress=loopback(base))
        policy = Policy(provider="fortnox", limit_key="fortnox:burst", window=Window(25, 0.5))
        statuses: list[int] = []

        def worker() -> None:
            for _ in range(25):
                r = client.send(
                    Call("GET", f"{base}/3/companyinformation", headers={"Authorization": f"Bearer {token}"}), policy
                )
                statuses.append(r.status_code)

        started = time.perf_counter()
        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
    assert statuses == [200] * 200
    assert fake.throttled == 0
    assert elapsed >= 7 * 0.5  # 200 requests need at least 7 full windows after the first


def sleepy_client(fake: FortnoxFake, base: str) -> tuple[str, list[float], OutboundClient]:
    """A token, the list of the client's back-off sleeps (each cut to 50 ms), and the client."""
    slept: list[float] = []
    client = OutboundClient(egress=loopback(base), sleep=lambda s: (slept.append(s), time.sleep(min(s, 0.05))))
    return fortnox_token(fake), slept, client


def test_retry_after_is_honoured_and_everything_succeeds() -> None:
    fake = FortnoxFake(window_s=0.5)
    with serve(fake.app()) as base:
        token, slept, client = sleepy_client(fake, base)
        fake.fail_next(3, 429, {"Retry-After": "2"})
        fake.fail_next(2, 503)
        r = client.send(
            Call("GET", f"{base}/3/companyinformation", headers={"Authorization": f"Bearer {token}"}),
            Policy(provider="fortnox"),
        )
    assert r.status_code == 200
    assert slept[:3] == [2.0, 2.0, 2.0] and len(slept) == 5


def test_retry_header_and_statuses_come_from_the_policy() -> None:
    """The catalog's retry facts, executed: the provider's own header name, and what it says is worth a retry."""
    fake = FortnoxFake(window_s=0.5)
    with serve(fake.app()) as base:
        token, slept, client = sleepy_client(fake, base)
        call = Call("GET", f"{base}/3/companyinformation", headers={"Authorization": f"Bearer {token}"})
        fake.fail_next(1, 429, {"X-Wait": "3", "Retry-After": "7"})
        assert client.send(call, Policy(provider="p", retry_after_header="X-Wait")).status_code == 200
        fake.fail_next(1, 429, {"Retry-After": "7"})
        assert client.send(call, Policy(provider="p", retry_after_header=None, window=Window(25, 0.5))).status_code == 200
        assert slept == [3.0, 0.5]  # a provider that sends no retry header: the window is waited out
        fake.fail_next(1, 500)
        assert client.send(call, Policy(provider="p", retry_statuses=frozenset({500}))).status_code == 200
        fake.fail_next(1, 502)
        with pytest.raises(ProviderError):
            client.send(call, Policy(provider="p", retry_statuses=frozenset({500})))


def test_post_without_idempotency_key_is_not_retried_after_a_timeout() -> None:
    client = OutboundClient(egress=loopback("http://127.0.0.1:9"), sleep=lambda s: None)
    with pytest.raises(ProviderError) as err:  # nothing listens on port 9 (discard): a network error
        client.send(Call("POST", "http://127.0.0.1:9/x", json={}, timeout_s=0.5), Policy(provider="x", max_attempts=3))
    assert err.value.retriable


def test_limiter_window_math() -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(s: float) -> None:
        waits.append(s)
        now[0] += s

    limiter = SlidingWindowLimiter(clock=lambda: now[0], sleep=sleep)
    for _ in range(10):
        limiter.acquire("k", Window(5, 1.0))()
    assert len(waits) == 1 and 1.0 <= now[0] <= 1.05


def test_usage_counters_exact_with_8_workers_and_two_instances(hub: Hub) -> None:
    table = hub.tables.table("usage")
    instances = [UsageCounters(table, now=utc_now, shard="a"), UsageCounters(table, now=utc_now, shard="b")]

    def worker(i: int) -> None:
        counters = instances[i % 2]
        for n in range(500):
            status = 200 if n % 10 else (429 if n % 20 else 503)
            counters.record(
                ref=IntegrationRef("fed", "int_x"),
                provider="fortnox",
                operation="sync.push_invoice",
                status=status,
                latency_ms=1.0,
            )
            if n % 50 == 0:
                counters.flush()  # flushes race with records and with the other instance

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in instances:
        c.flush()
    today = date.today()
    days = instances[0].daily(IntegrationRef("fed", "int_x"), start=today, end=today)
    total = days[0].tally
    assert total.requests == 4000
    assert total.throttled == 8 * 25 and total.errors_5xx == 8 * 25
    assert abs(total.latency_ms - 4000.0) < 1e-6


def test_an_instance_that_goes_idle_still_writes_its_last_counts(hub: Hub) -> None:
    """The last requests before an instance goes quiet are counted within seconds, with no request to come and
    trigger a flush (the quota dashboard promises 60 s across instances)."""
    import time as clock

    from integrations.usage.counters import FLUSH_INTERVAL_S

    table = hub.tables.table("idleusage")
    busy, reader = UsageCounters(table, now=utc_now, shard="a"), UsageCounters(table, now=utc_now, shard="b")
    for _ in range(3):  # the first flushes at once, the others fall within the interval
        busy.record(ref=IntegrationRef("fed", "int_x"), provider="fortnox", operation="api", status=200, latency_ms=1)
    deadline = clock.monotonic() + FLUSH_INTERVAL_S * 4
    seen = 0
    while clock.monotonic() < deadline and seen < 3:
        clock.sleep(0.2)
        seen = sum(
            d.tally.requests
            for d in reader.daily(IntegrationRef("fed", "int_x"), start=utc_now().date(), end=utc_now().date())
        )
    assert seen == 3
