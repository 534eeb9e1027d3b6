"""Provider windows are shared by instances: two hubs calling for one integration's token together stay
inside the provider's window (each keeping its own window, they are throttled), a 429 seen by one holds the
other back too, and a storage outage never fails the call it paces."""

from __future__ import annotations

import secrets
import threading
import time

from devfakes.fortnox import FortnoxFake
from shared.http import Call, Limiter, OutboundClient, Policy, SlidingWindowLimiter, Window
from shared.rate_windows import SharedWindowLimiter
from shared.tables import TableStore
from tests.helpers import fortnox_token, loopback, serve

WINDOW_S = 0.5


def _shared(conn: str, prefix: str) -> SharedWindowLimiter:
    store = TableStore.from_connection_string(conn, prefix=prefix)  # each instance opens its own client
    return SharedWindowLimiter(store.table("ratewindows"))


def _push(
    limiters: list[Limiter], *, threads_each: int, calls_each: int, requests: int = 25
) -> tuple[FortnoxFake, list[int], float]:
    """Every instance's threads call the same token; returns the fake, the statuses and the wall time."""
    fake = FortnoxFake(window_s=WINDOW_S, window_requests=requests)
    statuses: list[int] = []
    with serve(fake.app()) as base:
        token = fortnox_token(fake)
        policy = Policy(provider="fortnox", limit_key="fortnox:one-integration", window=Window(requests, WINDOW_S))
        clients = [OutboundClient(egress=loopback(base), limiter=limiter) for limiter in limiters]

        def worker(client: OutboundClient) -> None:
            for _ in range(calls_each):
                call = Call("GET", f"{base}/3/companyinformation", headers={"Authorization": f"Bearer {token}"})
                statuses.append(client.send(call, policy).status_code)

        started = time.perf_counter()
        workers = [threading.Thread(target=worker, args=(c,)) for c in clients for _ in range(threads_each)]
        for t in workers:
            t.start()
        for t in workers:
            t.join()
        return fake, statuses, time.perf_counter() - started


def test_two_instances_stay_inside_one_window(storage_connection: str) -> None:
    prefix = "t" + secrets.token_hex(5)
    fake, statuses, elapsed = _push(
        [_shared(storage_connection, prefix), _shared(storage_connection, prefix)], threads_each=4, calls_each=20
    )
    assert statuses == [200] * 160
    assert fake.throttled == 0
    assert elapsed >= 5 * WINDOW_S  # 160 calls need at least 6 windows: the two instances did not each get 25


class CountingWindows(SharedWindowLimiter):
    writes = 0

    def _write(self, key: str, row: object) -> str:  # type: ignore[override]
        CountingWindows.writes += 1
        return super()._write(key, row)  # type: ignore[arg-type]


def test_a_large_window_is_taken_in_leases_and_still_holds(storage_connection: str) -> None:
    """500 a window (Google Maps' kind of limit, scaled): each write takes a lease of 10 slots, so two instances
    spend far fewer than two writes a call, and together they still stay inside the provider's window."""
    prefix = "t" + secrets.token_hex(5)
    CountingWindows.writes = 0
    limiters = [
        CountingWindows(TableStore.from_connection_string(storage_connection, prefix=prefix).table("ratewindows"))
        for _ in range(2)
    ]
    fake, statuses, elapsed = _push(limiters, threads_each=4, calls_each=200, requests=500)
    assert statuses == [200] * 1600 and fake.throttled == 0
    assert elapsed >= 3 * WINDOW_S  # 1600 calls need at least 4 windows of 500
    assert CountingWindows.writes <= 1600 * 2 / 5, CountingWindows.writes  # 3,200 without leases (two a call)


def test_two_instances_with_their_own_windows_are_throttled() -> None:
    """The hole the shared window closes: each instance alone is inside the limit, together they are not."""
    fake, statuses, _ = _push([SlidingWindowLimiter(), SlidingWindowLimiter()], threads_each=4, calls_each=20)
    assert statuses == [200] * 160  # retried after the 429s
    assert fake.throttled > 0


def test_a_429_on_one_instance_holds_the_other_back(storage_connection: str) -> None:
    prefix = "t" + secrets.token_hex(5)
    fake = FortnoxFake(window_s=WINDOW_S)
    with serve(fake.app()) as base:
        token = fortnox_token(fake)
        policy = Policy(provider="fortnox", limit_key="fortnox:penalised", window=Window(25, WINDOW_S))
        first = OutboundClient(egress=loopback(base), limiter=_shared(storage_connection, prefix))
        second = OutboundClient(egress=loopback(base), limiter=_shared(storage_connection, prefix))
        call = Call("GET", f"{base}/3/companyinformation", headers={"Authorization": f"Bearer {token}"})
        fake.fail_next(1, 429, {"Retry-After": "2"})
        threading.Thread(target=first.send, args=(call, policy), daemon=True).start()
        time.sleep(0.3)  # the first has seen its 429 and is waiting out Retry-After
        started = time.perf_counter()
        assert second.send(call, policy).status_code == 200
        assert time.perf_counter() - started >= 1.4  # it waited for the block the first instance wrote


def test_storage_outage_never_fails_the_call_it_paces() -> None:
    fake = FortnoxFake(window_s=WINDOW_S)
    dead = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:9/x;"
    with serve(fake.app()) as base:
        token = fortnox_token(fake)
        client = OutboundClient(egress=loopback(base), limiter=_shared(dead, "tdead"))
        policy = Policy(provider="fortnox", limit_key="fortnox:outage", window=Window(25, WINDOW_S))
        call = Call("GET", f"{base}/3/companyinformation", headers={"Authorization": f"Bearer {token}"})
        assert client.send(call, policy).status_code == 200


def _most_in_flight(limiters: list[Limiter], window: Window, *, threads_each: int, calls_each: int) -> int:
    """The most calls ever in flight at once when every instance's threads call one key (20 ms a call)."""
    lock, state = threading.Lock(), {"now": 0, "most": 0}

    def worker(limiter: Limiter) -> None:
        for _ in range(calls_each):
            release = limiter.acquire("xero:one-tenant", window)
            with lock:
                state["now"] += 1
                state["most"] = max(state["most"], state["now"])
            time.sleep(0.02)
            with lock:
                state["now"] -= 1
            release()

    workers = [threading.Thread(target=worker, args=(lim,)) for lim in limiters for _ in range(threads_each)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return state["most"]


def test_a_concurrent_limit_holds_across_instances(storage_connection: str) -> None:
    """Xero allows 5 calls in flight per tenant: two instances with 4 threads each never have more than 5 out
    together (each instance's own semaphore alone lets 8 out: the hole this closes)."""
    window = Window(1000, 1.0, concurrent=5)
    prefix = "t" + secrets.token_hex(5)
    shared: list[Limiter] = [_shared(storage_connection, prefix), _shared(storage_connection, prefix)]
    assert _most_in_flight(shared, window, threads_each=4, calls_each=6) <= 5
    alone: list[Limiter] = [SlidingWindowLimiter(), SlidingWindowLimiter()]
    assert _most_in_flight(alone, window, threads_each=4, calls_each=6) > 5
