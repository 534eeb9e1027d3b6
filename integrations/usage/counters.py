"""Usage counters per integration per day: requests, errors by class, throttles, latency.

Exact under concurrency and cheap on the hot path: calls add to in-process tallies (a dict under a lock,
no I/O); a flush writes each tally into this instance's own shard row (RowKey
`<integration>|<day>|<operation>|<shard>`, plus an hourly row `h|<integration>|<hour>|<shard>` for rolling
windows such as the status endpoint's last 24 hours) with an ETag-conditional merge. Shards never contend
across instances, and reads sum them. A flush runs at most every FLUSH_INTERVAL_S from the calling thread,
and explicitly at the end of jobs and requests, which keeps the data fresher than the 60 s the quota
dashboard promises.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from shared.errors import Conflict, NotFound, PreconditionFailed
from shared.tables import Table

FLUSH_INTERVAL_S = 2.0
FIELDS = ("Requests", "Errors4xx", "Errors5xx", "ErrorsNetwork", "Throttled", "LatencyMs")


@dataclass
class Tally:
    requests: int = 0
    errors_4xx: int = 0
    errors_5xx: int = 0
    errors_network: int = 0
    throttled: int = 0
    latency_ms: float = 0.0

    def add(self, other: Tally) -> None:
        self.requests += other.requests
        self.errors_4xx += other.errors_4xx
        self.errors_5xx += other.errors_5xx
        self.errors_network += other.errors_network
        self.throttled += other.throttled
        self.latency_ms += other.latency_ms

    @property
    def errors(self) -> int:
        return self.errors_4xx + self.errors_5xx + self.errors_network


@dataclass(frozen=True)
class DailyUsage:
    day: date
    provider: str
    tally: Tally = field(default_factory=Tally)
    by_operation: dict[str, Tally] = field(default_factory=dict)


def classify(status: int | None) -> Tally:
    """One outbound attempt → its contribution. 429s count as throttled, not as errors of ours."""
    t = Tally(requests=1)
    if status is None:
        t.errors_network = 1
    elif status == 429:
        t.throttled = 1
    elif 400 <= status < 500:
        t.errors_4xx = 1
    elif status >= 500:
        t.errors_5xx = 1
    return t


class UsageCounters:
    def __init__(self, table: Table, *, now: Callable[[], datetime], shard: str | None = None) -> None:
        self._table = table
        self._now = now
        self._shard = shard or secrets.token_hex(4)
        self._pending: dict[tuple[str, str, str], Tally] = defaultdict(Tally)
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._last_flush = time.monotonic()

    def record(
        self, *, tenant_id: str, integration_id: str, provider: str, operation: str, status: int | None, latency_ms: float
    ) -> None:
        t = classify(status)
        t.latency_ms = latency_ms
        now = self._now()
        key = (tenant_id, f"{integration_id}|{now.date().isoformat()}|{operation}", provider)
        hour = (tenant_id, f"h|{integration_id}|{now.strftime('%Y-%m-%dT%H')}", provider)
        with self._lock:
            self._pending[key].add(t)
            self._pending[hour].add(t)
        if time.monotonic() - self._last_flush > FLUSH_INTERVAL_S:
            self.flush()

    def flush(self) -> None:
        with self._flush_lock:
            with self._lock:
                pending, self._pending = self._pending, defaultdict(Tally)
                self._last_flush = time.monotonic()
            for (tenant, row, provider), tally in pending.items():
                self._add(tenant, f"{row}|{self._shard}", provider, tally)

    def _add(self, tenant: str, row: str, provider: str, t: Tally) -> None:
        values = dict(
            zip(FIELDS, (t.requests, t.errors_4xx, t.errors_5xx, t.errors_network, t.throttled, t.latency_ms), strict=True)
        )
        for _ in range(50):
            try:
                current, etag = self._table.get(tenant, row)
            except NotFound:
                try:
                    self._table.insert(
                        {
                            "PartitionKey": tenant,
                            "RowKey": row,
                            "Provider": provider,
                            **{k: float(v) if k == "LatencyMs" else int(v) for k, v in values.items()},
                        }
                    )
                    return
                except Conflict:
                    continue
            merged = {k: current.get(k, 0) + v for k, v in values.items()}
            merged["LatencyMs"] = float(merged["LatencyMs"])
            try:
                self._table.merge({"PartitionKey": tenant, "RowKey": row, **merged}, etag=etag)
                return
            except PreconditionFailed:
                continue
        raise Conflict(f"usage row {row} is too contended")

    def daily(self, tenant_id: str, integration_id: str, *, start: date, end: date) -> list[DailyUsage]:
        """Per-day totals for one integration, summed over shards (pending tallies flushed first)."""
        self.flush()
        lo, hi = f"{integration_id}|{start.isoformat()}", f"{integration_id}|{end.isoformat()}|~"
        days: dict[str, DailyUsage] = {}
        for e in self._table.query(
            "PartitionKey eq @t and RowKey ge @lo and RowKey le @hi", parameters={"t": tenant_id, "lo": lo, "hi": hi}
        ):
            _, day, operation, _shard = e["RowKey"].split("|")
            usage = days.setdefault(day, DailyUsage(date.fromisoformat(day), e.get("Provider", "")))
            t = tally_of(e)
            usage.tally.add(t)
            usage.by_operation.setdefault(operation, Tally()).add(t)
        return [days[d] for d in sorted(days)]

    def last_hours(self, tenant_id: str, integration_id: str, *, hours: int) -> Tally:
        """Totals over the last `hours` whole and current hours (hourly rows, summed over shards)."""
        self.flush()
        now = self._now()
        lo = f"h|{integration_id}|{(now - timedelta(hours=hours - 1)).strftime('%Y-%m-%dT%H')}"
        hi = f"h|{integration_id}|{now.strftime('%Y-%m-%dT%H')}|~"
        total = Tally()
        for e in self._table.query(
            "PartitionKey eq @t and RowKey ge @lo and RowKey le @hi", parameters={"t": tenant_id, "lo": lo, "hi": hi}
        ):
            total.add(tally_of(e))
        return total


def tally_of(entity: dict) -> Tally:
    """A counter row's values as a Tally."""
    return Tally(
        int(entity.get("Requests", 0)),
        int(entity.get("Errors4xx", 0)),
        int(entity.get("Errors5xx", 0)),
        int(entity.get("ErrorsNetwork", 0)),
        int(entity.get("Throttled", 0)),
        float(entity.get("LatencyMs", 0)),
    )


def tenant_rows(table: Table, tenant_id: str, *, start: date, end: date) -> list[tuple[str, date, str, Tally]]:
    """Every counter row of a tenant in [start, end]: (subject, day, operation, tally), shards not summed."""
    out = []
    for e in table.query("PartitionKey eq @t", parameters={"t": tenant_id}):
        if e["RowKey"].startswith("h|"):
            continue  # hourly rows repeat the daily ones
        subject, day, operation, _shard = e["RowKey"].split("|")
        d = date.fromisoformat(day)
        if start <= d <= end:
            out.append((subject, d, operation, tally_of(e)))
    return out
