"""Token buckets shared by every instance, without a storage round-trip per request.

The bucket lives in a Table row (tokens, last refill). An instance takes a *lease* of a few tokens from it
with an ETag-conditional write and spends them locally; only when its lease is empty does it go back to the
row. Every admitted request consumed a token from the shared row, so across any number of processes the
admitted total stays ≤ burst + rate × elapsed. The cost is one storage write per lease (LEASE requests, or
a quarter second of the policy's rate if larger, at most a quarter of its burst) per instance, and only one
refill per key is in flight on an instance at a time; a token leased by an instance that then goes quiet is
lost to the others until the row refills (at most one lease per instance — the price of the fast path).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from pydantic import Field

from integrations.api.ratelimit import DEFAULT_POLICIES, MAX_CLIENTS, Decision, Policy, RateLimiter, endpoint_class, remember
from shared.errors import Conflict, NotFound, PreconditionFailed
from shared.rows import Row, Rows
from shared.tables import Table

LEASE = 10
KNOWN_S = 10.0  # how long a client's resolved plan is used without asking again (the operator may change it)
PROBES = "/api/health"


class BucketRow(Row):
    """A token bucket shared by every instance (`PartitionKey = <policy>|<client>`, `RowKey = "bucket"`)."""

    tokens: float = Field(alias="Tokens")
    at: float = Field(alias="At")  # when `tokens` was true (the limiter's clock, seconds)


class SharedRateLimiter:
    def __init__(
        self,
        table: Table,
        policies: dict[str, Policy] | None = None,
        clock: Callable[[], float] = time.time,
        lease: int = LEASE,
        policies_for: Callable[[str], dict[str, Policy]] | None = None,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        self._max = max_clients
        self._buckets = Rows(table, BucketRow)
        self.policies = policies or DEFAULT_POLICIES
        self._policies_for = policies_for
        self._clock = clock
        self._lease = lease
        self._local: dict[tuple[str, str], int] = {}
        self._remaining_hint: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._refills: dict[tuple[str, str], threading.Lock] = {}
        # client → (its plan's policies, when `check` resolved them): spent from locally for KNOWN_S, then asked again
        self._known: dict[str, tuple[dict[str, Policy], float]] = {}
        # Probes are limited per instance, in memory: liveness and readiness must answer while storage does not.
        self._probes: dict[str, RateLimiter] = {}  # per plan (its read policy's name)

    def check_local(self, client: str, path: str, method: str) -> Decision | None:
        """A token from this instance's lease, if it holds one for this client: no I/O (None: call `check`)."""
        if path == PROBES or path.startswith(PROBES + "/"):
            return None
        with self._lock:
            known = self._known.get(client)
        if known is None or time.monotonic() - known[1] > KNOWN_S:
            return None
        policy = known[0][endpoint_class(path, method)]
        return self._spend((client, policy.name), policy)

    def check(self, client: str, path: str, method: str) -> Decision:
        policies = self._policies_for(client) if self._policies_for else self.policies
        with self._lock:
            remember(self._known, client, (policies, time.monotonic()), self._max)
        if path == PROBES or path.startswith(PROBES + "/"):
            with self._lock:
                probes = self._probes.setdefault(policies["read"].name, RateLimiter(policies, max_clients=self._max))
            return probes.check(client, path, method)
        policy = policies[endpoint_class(path, method)]
        key = (client, policy.name)
        spent = self._spend(key, policy)
        if spent is not None:
            return spent
        # One storage trip per key at a time on this instance: concurrent requests that find the lease empty
        # wait for the one refilling it instead of racing each other for the same row's ETag.
        with self._refill_lock(key):
            spent = self._spend(key, policy)  # refilled while we waited
            if spent is not None:
                return spent
            taken, left = self._take(key, policy, self._lease_size(policy))
            with self._lock:
                remember(self._remaining_hint, key, left, self._max)
                if taken > 0:
                    remember(self._local, key, self._local.get(key, 0) + taken - 1, self._max)
                    return self._decision(True, policy, self._local[key] + left, 0.0)
        return self._decision(False, policy, 0.0, max(1.0, (1.0 - left) / policy.rate_per_s))

    def _spend(self, key: tuple[str, str], policy: Policy) -> Decision | None:
        with self._lock:
            if self._local.get(key, 0) > 0:
                self._local[key] -= 1
                return self._decision(True, policy, self._local[key] + self._remaining_hint.get(key, 0.0), 0.0)
        return None

    def _refill_lock(self, key: tuple[str, str]) -> threading.Lock:
        with self._lock:
            if key not in self._refills:  # a forgotten lock may still be held: two refills then race, ETag-checked
                remember(self._refills, key, threading.Lock(), self._max)
            return self._refills[key]

    def _lease_size(self, policy: Policy) -> int:
        """A quarter second of the policy's rate (at least `lease`), never more than a quarter of its burst: a
        busy client costs a few storage writes per second per instance, and an instance that goes quiet strands
        at most that many tokens."""
        return max(1, min(max(self._lease, math.ceil(policy.rate_per_s / 4)), policy.burst // 4))

    def _take(self, key: tuple[str, str], policy: Policy, want: int) -> tuple[int, float]:
        """Take up to `want` whole tokens from the shared row; returns (taken, tokens left)."""
        pk, rk = f"{key[0]}|{key[1]}", "bucket"  # a partition per bucket: buckets never contend for a server
        for _ in range(20):
            found = self._buckets.find(pk, rk)
            now = self._clock()
            if found is None:
                tokens, etag = float(policy.burst), None
            else:
                row, etag = found
                # Never refill backwards: another instance may have stamped the row a moment after this clock
                # (a write landing between our clock and our read, or clocks apart). Computed from an earlier
                # `now`, an empty bucket went negative, "took" a negative count and so handed tokens back.
                now = max(now, row.at)
                tokens = min(float(policy.burst), row.tokens + (now - row.at) * policy.rate_per_s)
            taken = max(0, min(want, int(math.floor(tokens))))
            if taken == 0 and etag is not None:
                return 0, tokens  # nothing to take: nothing to write
            bucket = BucketRow(partition=pk, row=rk, tokens=tokens - taken, at=now)
            try:
                if etag is None:
                    self._buckets.insert(bucket)
                else:
                    self._buckets.replace(bucket, etag=etag)
                return taken, tokens - taken
            except (Conflict, PreconditionFailed, NotFound):
                continue  # another instance took tokens at the same moment: read again
        return 0, 0.0

    @staticmethod
    def _decision(allowed: bool, policy: Policy, remaining: float, retry: float) -> Decision:
        missing = policy.burst - remaining
        reset = math.ceil(missing / policy.rate_per_s) if missing > 0 else 0
        return Decision(allowed, policy, max(0, int(remaining)), reset, 0 if allowed else math.ceil(retry))
