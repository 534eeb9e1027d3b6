"""Usage counters per integration per day: requests, errors by class, throttles, latency.

Exact under concurrency and cheap on the hot path: calls add to in-process tallies (a dict under a lock,
no I/O); a flush writes this instance's totals into its own shard rows (RowKey
`<integration>|<day>|<operation>|<shard>`, plus an hourly row `h|<integration>|<hour>|<shard>` for rolling
windows such as the status endpoint's last 24 hours), one transaction per tenant. A shard has one writer, so
absolute values are written without a read; shards never contend across instances, and reads sum them.
A flush runs at most every FLUSH_INTERVAL_S on a thread of its own (the API records on its event loop), after
every call inside a sync job (write-through, on the job's thread), and explicitly at the end of jobs and
requests; what a record leaves pending within the interval is written by a trailing flush FLUSH_INTERVAL_S
later, so an instance that goes idle after its last request still shows it within seconds (the quota
dashboard promises 60 s).
"""

from __future__ import annotations

import contextvars
import logging
import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, datetime, timedelta

from pydantic import Field

from integrations.documents.ref import IntegrationRef
from shared.rows import Row, Rows
from shared.tables import Table

log = logging.getLogger("hub.usage")

FLUSH_INTERVAL_S = 2.0


@dataclass
class Tally:
    requests: int = 0
    errors_4xx: int = 0
    errors_5xx: int = 0
    errors_network: int = 0
    throttled: int = 0
    latency_ms: float = 0.0
    units: int = 0  # what the provider's quota counts (YouTube: units, a write costing 50); requests elsewhere

    def add(self, other: Tally) -> None:
        self.units += other.units
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


def classify(status: int | None, units: int = 1) -> Tally:
    """One outbound attempt → its contribution. 429s count as throttled, not as errors of ours."""
    t = Tally(requests=1, units=units)
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
        self._rows = Rows(table, UsageRow)
        self._now = now
        self._shard = shard or secrets.token_hex(4)
        # This instance's running totals per shard row: rows of one shard have one writer (this object), so a
        # flush writes absolute values without reading first (one transaction per tenant, no ETag races).
        self._totals: dict[tuple[str, str], tuple[str, Tally]] = {}  # (tenant, row) → (provider, totals)
        self._dirty: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._last_flush = time.monotonic()
        self._write_through = contextvars.ContextVar("usage_write_through", default=False)
        self._flushing = threading.Event()
        self._trailing: threading.Timer | None = None  # the flush after the interval, for an idle instance

    @contextmanager
    def write_through(self) -> Iterator[None]:
        """Every call recorded inside the block is written before `record` returns: a sync job killed with -9
        loses at most the call in flight, not a flush interval's worth."""
        token = self._write_through.set(True)
        try:
            yield
        finally:
            self._write_through.reset(token)

    def record(
        self,
        *,
        ref: IntegrationRef,
        provider: str,
        operation: str,
        status: int | None,
        latency_ms: float,
        units: int = 1,
    ) -> None:
        """Never raises: counting must not fail the call it counts (a failed write stays pending and goes with
        the next flush)."""
        t = classify(status, units)
        t.latency_ms = latency_ms
        now = self._now()
        day = f"{ref.integration_id}|{now.date().isoformat()}|{operation}|{self._shard}"
        hour = f"h|{ref.integration_id}|{now.strftime('%Y-%m-%dT%H')}|{self._shard}"
        with self._lock:
            for row in (day, hour):
                self._totals.setdefault((ref.tenant_id, row), (provider, Tally()))[1].add(t)
                self._dirty.add((ref.tenant_id, row))
        if self._write_through.get():
            self._flush_quietly()
        elif time.monotonic() - self._last_flush > FLUSH_INTERVAL_S and not self._flushing.is_set():
            # On its own thread: `record` runs on the API's event loop (the edge counts every response), where
            # a storage write would stall every request while storage is slow.
            self._flushing.set()
            self._last_flush = time.monotonic()
            threading.Thread(target=self._background_flush, daemon=True, name="usage-flush").start()
        else:
            self._flush_later()

    def _flush_later(self) -> None:
        """A flush FLUSH_INTERVAL_S from now unless one is due already: no request may come to trigger it."""
        with self._lock:
            if self._trailing is not None and self._trailing.is_alive():
                return
            self._trailing = threading.Timer(FLUSH_INTERVAL_S, self._flush_quietly)
            self._trailing.daemon = True
            self._trailing.name = "usage-flush-trailing"
            self._trailing.start()

    def _background_flush(self) -> None:
        try:
            self._flush_quietly()
        finally:
            self._flushing.clear()

    def _flush_quietly(self) -> None:
        try:
            self.flush()
        except Exception as exc:  # noqa: BLE001 - storage blip: kept dirty, written by the next flush
            # One line, no stack: during an outage every flush fails alike, and the next one carries the tallies.
            log.warning("usage flush failed (%s: %s); the tallies stay pending", type(exc).__name__, exc)

    def flush(self) -> None:
        """Write the changed rows. On failure the rows stay dirty (nothing is lost) and the error propagates."""
        with self._flush_lock:
            with self._lock:
                dirty, self._dirty = self._dirty, set()
                self._last_flush = time.monotonic()
                rows = {key: (self._totals[key][0], replace(self._totals[key][1])) for key in dirty}
            by_tenant: dict[str, list[UsageRow]] = defaultdict(list)
            for (tenant, row), (provider, t) in rows.items():
                by_tenant[tenant].append(UsageRow.of(tenant, row, provider, t))
            try:
                for tenant, counted in by_tenant.items():
                    self._table.merge_many([r.entity() for r in counted])
                    for r in counted:
                        dirty.discard((tenant, r.row))
            finally:
                with self._lock:
                    self._dirty |= dirty  # what was not written goes with the next flush
                    self._forget_closed_periods()

    def _forget_closed_periods(self) -> None:
        """Totals of past days and hours are final once written: drop them so memory stays bounded."""
        now = self._now()
        day, hour = now.date().isoformat(), now.strftime("%Y-%m-%dT%H")
        for key in [k for k in self._totals if k not in self._dirty]:
            parts = key[1].split("|")
            period = parts[2] if parts[0] == "h" else parts[1]
            if period not in (day, hour):
                del self._totals[key]

    def daily(self, ref: IntegrationRef, *, start: date, end: date) -> list[DailyUsage]:
        """Per-day totals for one integration, summed over shards (pending tallies flushed first)."""
        self.flush()
        lo, hi = f"{ref.integration_id}|{start.isoformat()}", f"{ref.integration_id}|{end.isoformat()}|~"
        days: dict[str, DailyUsage] = {}
        for r in self._rows.query(
            "PartitionKey eq @t and RowKey ge @lo and RowKey le @hi", parameters={"t": ref.tenant_id, "lo": lo, "hi": hi}
        ):
            _, day, operation, _shard = r.row.split("|")
            usage = days.setdefault(day, DailyUsage(date.fromisoformat(day), r.provider))
            t = r.tally()
            usage.tally.add(t)
            usage.by_operation.setdefault(operation, Tally()).add(t)
        return [days[d] for d in sorted(days)]

    def by_integration(self, tenant_id: str, *, start: date, end: date) -> dict[str, Tally]:
        """Totals per integration of the tenant over the days (pending tallies flushed first)."""
        self.flush()
        per: dict[str, Tally] = {}
        for subject, _day, _op, tally in tenant_rows(self._table, tenant_id, start=start, end=end):
            per.setdefault(subject, Tally()).add(tally)
        return per

    def last_hours(self, ref: IntegrationRef, *, hours: int) -> Tally:
        """Totals over the last `hours` whole and current hours (hourly rows, summed over shards)."""
        self.flush()
        now = self._now()
        lo = f"h|{ref.integration_id}|{(now - timedelta(hours=hours - 1)).strftime('%Y-%m-%dT%H')}"
        hi = f"h|{ref.integration_id}|{now.strftime('%Y-%m-%dT%H')}|~"
        total = Tally()
        for r in self._rows.query(
            "PartitionKey eq @t and RowKey ge @lo and RowKey le @hi", parameters={"t": ref.tenant_id, "lo": lo, "hi": hi}
        ):
            total.add(r.tally())
        return total


class UsageRow(Row):
    """One counter row: `<integration>|<day>|<operation>|<shard>` (daily) or `h|<integration>|<hour>|…`
    (hourly), in the tenant's partition. Each instance writes its own shard, so writes never race."""

    provider: str = Field("", alias="Provider")
    requests: int = Field(0, alias="Requests")
    errors_4xx: int = Field(0, alias="Errors4xx")
    errors_5xx: int = Field(0, alias="Errors5xx")
    errors_network: int = Field(0, alias="ErrorsNetwork")
    throttled: int = Field(0, alias="Throttled")
    latency_ms: float = Field(0.0, alias="LatencyMs")
    units: int | None = Field(None, alias="Units")  # rows from before units: one a request

    @classmethod
    def of(cls, tenant: str, row: str, provider: str, t: Tally) -> UsageRow:
        return cls(partition=tenant, row=row, provider=provider, **asdict(t))  # the same names, column by column

    def tally(self) -> Tally:
        counted = self.model_dump(include={f.name for f in fields(Tally)})
        return Tally(**{**counted, "units": self.requests if self.units is None else self.units})


def tenant_rows(table: Table, tenant_id: str, *, start: date, end: date) -> list[tuple[str, date, str, Tally]]:
    """Every counter row of a tenant in [start, end]: (subject, day, operation, tally), shards not summed."""
    out = []
    for r in Rows(table, UsageRow).query("PartitionKey eq @t", parameters={"t": tenant_id}):
        if r.row.startswith("h|"):
            continue  # hourly rows repeat the daily ones
        subject, day, operation, _shard = r.row.split("|")
        d = date.fromisoformat(day)
        if start <= d <= end:
            out.append((subject, d, operation, r.tally()))
    return out
