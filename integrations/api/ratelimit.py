"""Token-bucket rate limiting for the hub's own API, with the headers clients read.

Headers (on every response): IETF httpapi `RateLimit-Policy` / `RateLimit` (draft) and the widely used
`X-RateLimit-Limit/-Remaining/-Reset`. Buckets live in process memory here; see the README for how the
limit behaves across instances.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Policy:
    name: str
    rate_per_s: float  # steady-state refill
    burst: int  # bucket size

    @property
    def window_s(self) -> int:
        return max(1, math.ceil(self.burst / self.rate_per_s))


@dataclass(frozen=True)
class Decision:
    allowed: bool
    policy: Policy
    remaining: int
    reset_s: int
    retry_after: int

    def headers(self) -> list[tuple[bytes, bytes]]:
        p = self.policy
        return [
            (b"ratelimit-policy", f'"{p.name}";q={p.burst};w={p.window_s}'.encode()),
            (b"ratelimit", f'"{p.name}";r={self.remaining};t={self.reset_s}'.encode()),
            (b"x-ratelimit-limit", str(p.burst).encode()),
            (b"x-ratelimit-remaining", str(self.remaining).encode()),
            (b"x-ratelimit-reset", str(self.reset_s).encode()),
        ]


WEBHOOK_PATH = "/api/v1/webhooks/"


# Endpoint classes: webhook receivers have their own (a provider's burst is not a client's); reads are cheap;
# writes and validations cost the hub (and providers) more.
def endpoint_class(path: str, method: str) -> str:
    if path.startswith(WEBHOOK_PATH):
        return "webhook"
    if method in ("GET", "HEAD", "OPTIONS"):
        return "read"
    if path.endswith((":validate", ":sync")) or "/syncs" in path:
        return "heavy"
    return "write"


DEFAULT_POLICIES = {
    "read": Policy("read", rate_per_s=20.0, burst=100),
    "write": Policy("write", rate_per_s=5.0, burst=30),
    "heavy": Policy("heavy", rate_per_s=0.5, burst=10),
    # Per sending address at the edge and again per integration in the receiver: Stripe or Xero replaying a
    # backlog sends bursts; beyond this they get 429 and retry later (they all do).
    "webhook": Policy("webhook", rate_per_s=50.0, burst=200),
}


# Plans scale the default buckets: what a federation-scale partner buys is a bigger bucket, not a new rule.
PLAN_FACTORS = {"free": 0.5, "standard": 1.0, "dedicated": 5.0}


def plan_policies(plan: str) -> dict[str, Policy]:
    factor = PLAN_FACTORS.get(plan, 1.0)
    return {
        k: Policy(f"{plan}-{p.name}", p.rate_per_s * factor, max(1, int(p.burst * factor)))
        for k, p in DEFAULT_POLICIES.items()
    }


class Limiter(Protocol):
    def check(self, client: str, path: str, method: str) -> Decision:
        """The decision, possibly after storage I/O (the edge calls it in a worker thread)."""
        ...

    def check_local(self, client: str, path: str, method: str) -> Decision | None:
        """The decision when it needs no I/O (the edge calls it on the event loop); None: ask `check`."""
        ...


# Clients an instance remembers (buckets, leases, plans): beyond it the oldest are forgotten — a client seen
# again starts afresh (a full local bucket; for the shared limiter, one storage read) — so callers identified by
# address cannot grow an instance's memory without bound.
MAX_CLIENTS = 50_000


def remember(table: dict[Any, Any], key: Any, value: Any, limit: int) -> None:
    """Set `table[key]`, forgetting the oldest entries past `limit` (dicts keep insertion order)."""
    if key not in table:
        while len(table) >= limit:
            table.pop(next(iter(table)))
    table[key] = value


class RateLimiter:
    def __init__(
        self,
        policies: dict[str, Policy] | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        self._max = max_clients
        self.policies = policies or DEFAULT_POLICIES
        self._clock = clock
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str, path: str, method: str) -> Decision:
        policy = self.policies[endpoint_class(path, method)]
        key = (client, policy.name)
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(policy.burst), now))
            tokens = min(float(policy.burst), tokens + (now - last) * policy.rate_per_s)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            remember(self._buckets, key, (tokens, now), self._max)
        missing = policy.burst - tokens
        reset = math.ceil(missing / policy.rate_per_s) if missing > 0 else 0
        retry = 0 if allowed else max(1, math.ceil((1.0 - tokens) / policy.rate_per_s))
        return Decision(allowed, policy, int(tokens), reset, retry)

    def check_local(self, client: str, path: str, method: str) -> Decision | None:
        return self.check(client, path, method)  # all in memory


# --- the limits in the spec ------------------------------------------------------------------------------------
RATE_HEADERS: dict[str, dict[str, Any]] = {
    "RateLimit-Policy": {
        "description": 'The bucket (IETF httpapi draft): `"<plan>-<class>";q=<burst>;w=<seconds to refill it>`.',
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": 'What is left of it: `"<plan>-<class>";r=<remaining>;t=<seconds until full>`.',
        "schema": {"type": "string"},
    },
    "X-RateLimit-Limit": {"description": "The bucket's size (burst).", "schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"description": "Requests left in the bucket now.", "schema": {"type": "integer"}},
    "X-RateLimit-Reset": {"description": "Seconds until the bucket is full again.", "schema": {"type": "integer"}},
}
RETRY_AFTER = {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}


def document_limits(schema: dict[str, Any]) -> dict[str, Any]:
    """Every operation's endpoint class and its plans' numbers (`x-ratelimit` and a line of its description),
    and the rate-limit headers on every response (`Retry-After` on 429), from this module's own policy table."""
    components = schema.setdefault("components", {}).setdefault("headers", {})
    components.update({**RATE_HEADERS, "Retry-After": RETRY_AFTER})
    refs = {name: {"$ref": f"#/components/headers/{name}"} for name in RATE_HEADERS}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            cls = endpoint_class(path, method.upper())
            plans = {
                plan: {"rate_per_s": p.rate_per_s, "burst": p.burst}
                for plan in PLAN_FACTORS
                for p in [plan_policies(plan)[cls]]
            }
            per = "sending address" if cls == "webhook" else "client (API key or token)"
            operation["x-ratelimit"] = {"class": cls, "per": per, "plans": plans}
            std = plans["standard"]
            line = (
                f"Rate limit: endpoint class `{cls}`, per {per}: {std['rate_per_s']:g}/s with a burst of "
                f"{std['burst']} on the standard plan (free ×0.5, dedicated ×5); headers on every response."
            )
            operation["description"] = f"{operation['description']}\n\n{line}" if operation.get("description") else line
            for status, response in operation.get("responses", {}).items():
                headers = response.setdefault("headers", {})
                headers.update(refs)
                if status == "429":
                    headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
    return schema
