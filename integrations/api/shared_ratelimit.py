"""Token buckets shared by every instance, without a storage round-trip per request.

The bucket lives in a Table row (tokens, last refill). An instance takes a *lease* of a few tokens from it
with an ETag-conditional write and spends them locally; only when its lease is empty does it go back to the
row. Every admitted request consumed a token from the shared row, so across any number of processes the
admitted total stays ≤ burst + rate × elapsed. The cost is one storage write per LEASE requests per
instance; a token leased by an instance that then goes quiet is lost to the others until the row refills
(at most LEASE per instance — the price of the fast path).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from integrations.api.ratelimit import DEFAULT_POLICIES, Decision, Policy, RateLimiter, endpoint_class
from shared.errors import Conflict, NotFound, PreconditionFailed
from shared.tables import Table

LEASE = 10
PROBES = "/api/health"


class SharedRateLimiter:
    def __init__(
        self,
        table: Table,
        policies: dict[str, Policy] | None = None,
        clock: Callable[[], float] = time.time,
        lease: int = LEASE,
        policies_for: Callable[[str], dict[str, Policy]] | None = None,
    ) -> None:
        self._table = table
        self.policies = policies or DEFAULT_POLICIES
        self._policies_for = policies_for
        self._clock = clock
        self._lease = lease
        self._local: dict[tuple[str, str], int] = {}
        self._remaining_hint: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        # Probes are limited per instance, in memory: liveness and readiness must answer while storage does not.
        self._probes: dict[str, RateLimiter] = {}  # per plan (its read policy's name)

    def check(self, client: str, path: str, method: str) -> Decision:
        policies = self._policies_for(client) if self._policies_for else self.policies
        if path == PROBES or path.startswith(PROBES + "/"):
            with self._lock:
                probes = self._probes.setdefault(policies["read"].name, RateLimiter(policies))
            return probes.check(client, path, method)
        policy = policies[endpoint_class(path, method)]
        key = (client, policy.name)
        with self._lock:
            if self._local.get(key, 0) > 0:
                self._local[key] -= 1
                return self._decision(True, policy, self._local[key] + self._remaining_hint.get(key, 0.0), 0.0)
        taken, left = self._take(key, policy, min(self._lease, max(1, policy.burst // 4)))
        with self._lock:
            self._remaining_hint[key] = left
            if taken > 0:
                self._local[key] = self._local.get(key, 0) + taken - 1
                return self._decision(True, policy, self._local[key] + left, 0.0)
        return self._decision(False, policy, 0.0, max(1.0, (1.0 - left) / policy.rate_per_s))

    def _take(self, key: tuple[str, str], policy: Policy, want: int) -> tuple[int, float]:
        """Take up to `want` whole tokens from the shared row; returns (taken, tokens left)."""
        pk, rk = "bucket", f"{key[0]}|{key[1]}"
        for _ in range(20):
            now = self._clock()
            found = self._table.find(pk, rk)
            if found is None:
                tokens, etag = float(policy.burst), None
            else:
                row, etag = found
                tokens = min(float(policy.burst), row["Tokens"] + (now - row["At"]) * policy.rate_per_s)
            taken = min(want, int(math.floor(tokens)))
            entity = {"PartitionKey": pk, "RowKey": rk, "Tokens": tokens - taken, "At": now}
            try:
                if etag is None:
                    self._table.insert(entity)
                else:
                    self._table.replace(entity, etag=etag)
                return taken, tokens - taken
            except (Conflict, PreconditionFailed, NotFound):
                continue  # another instance took tokens at the same moment: read again
        return 0, 0.0

    @staticmethod
    def _decision(allowed: bool, policy: Policy, remaining: float, retry: float) -> Decision:
        missing = policy.burst - remaining
        reset = math.ceil(missing / policy.rate_per_s) if missing > 0 else 0
        return Decision(allowed, policy, max(0, int(remaining)), reset, 0 if allowed else math.ceil(retry))
