"""Provider rate windows shared by every instance: one Table row per limit key (one integration's token).

A provider counts our requests per access token or app, not per process, so N instances each keeping the
window in memory could together send N× the limit. Each admitted call takes a *slot* in the key's shared
row with an ETag-conditional write; the row admits a call only while fewer than `requests` slots are live.

A slot is written on departure with a provisional expiry (departure + HOLD_S + window: a crashed caller's
slot frees itself) and re-stamped on completion to completion + window, exactly as the in-process limiter
counts: the provider saw the request somewhere in between, so counting from the later time is safe whatever
the network jitter. Expiries are rounded *up* to buckets of 1/200 of the window, which keeps the row a few
kilobytes even for a 6000-per-5-minutes window.

A provider's `concurrent` limit (Xero's 5 per tenant) is shared the same way: the row also holds the calls in
flight, each counted until its completion (or departure + HOLD_S, if its caller dies), and a departure is
admitted only while fewer than `concurrent` are in flight on every instance together. Such keys take one slot
per write (no leases): a call in flight must be visible to the other instances.

The in-process `SlidingWindowLimiter` still runs first (it paces this instance's threads without a storage
round trip and holds its own share of `concurrent` with a semaphore). If storage does not answer, the call goes
ahead under that local window alone and the 429 handling in `shared/http` is the backstop: an outbound call
is never failed by its own bookkeeping.

Each instance remembers the row it last wrote, so an instance that is the only caller for a key spends one
conditional write per departure and one per completion, and reads only after losing a race.

Large windows (Google Maps' 3,000 a minute) are taken in *leases*: one write takes up to 1/LEASE_FRACTION of
the window's requests at once, this instance's calls spend them locally, and when the last of them completes
the lease is re-stamped in one write — all its used slots to the last completion + window, the unused freed.
Counting every call of a lease from its last completion is conservative, so the shared count never falls
below the provider's. A lease not spent within LEASE_IDLE_S is retired (its unused slots freed at its last
completion). Windows under LEASE_FRACTION requests (Fortnox' 25 per 5 s) lease one slot: a write each way, as
before.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from pydantic import Field

from shared.errors import Conflict, NotFound, PreconditionFailed, StorageUnavailable
from shared.http import SlidingWindowLimiter, Window, window_span
from shared.rows import Row, Rows
from shared.tables import Table

log = logging.getLogger("hub.outbound")
HOLD_S = 60.0  # how long a departed call counts if its caller dies before re-stamping it
BUCKETS = 200  # expiry resolution: 1/200 of the window
MAX_POLL_FRACTION = 0.1  # a full window is re-read at least 10× per window (other instances re-stamp early)
LEASE_FRACTION = 50  # a lease is at most 1/50 of the window: no instance sits on much of another's share
LEASE_IDLE_S = 5.0  # a lease unspent for this long is retired (a quiet instance frees what it holds)
CONCURRENT_POLL_S = 0.02  # how often a call held back by `concurrent` looks at the row again


@dataclass
class _Row:
    """The decoded shared row: live slot counts by expiry bucket, a 429 block, and the ETag it was read at."""

    slots: dict[int, int] = field(default_factory=dict)
    blocked_until: float = 0.0
    etag: str | None = None
    out: dict[int, int] = field(default_factory=dict)  # calls in flight, by the second their count lapses

    def live(self, now: float, grain: float) -> dict[int, int]:
        return {b: n for b, n in self.slots.items() if b * grain > now and n > 0}

    def in_flight(self, now: float) -> dict[int, int]:
        return {b: n for b, n in self.out.items() if b > now and n > 0}


@dataclass
class _Lease:
    """Slots this instance took in one write: where they are provisionally counted, how many are left to hand
    out, how many are out (departed, not completed), and the latest completion."""

    bucket: int
    size: int
    taken_at: float
    left: int
    out: int = 0
    used: int = 0
    last_done: float = 0.0
    restamped: bool = False
    out_at: int | None = None  # where its call is counted in flight (keys with a `concurrent` limit)

    def spend(self) -> None:
        self.left -= 1
        self.out += 1
        self.used += 1

    @property
    def settled(self) -> bool:
        return self.left == 0 and self.out == 0 and not self.restamped


def lease_size(window: Window) -> int:
    if window.concurrent:
        return 1  # every call in flight is written where the other instances see it
    return max(1, window.requests // LEASE_FRACTION)


class WindowRow(Row):
    """One provider window shared by every instance: calls per time slot (JSON), the slots leased out to
    instances and not yet spent, and a refusal's block."""

    slots: str = Field("{}", alias="Slots")
    blocked_until: float = Field(0.0, alias="BlockedUntil")
    out: str = Field("{}", alias="Out")


class SharedWindowLimiter:
    def __init__(
        self,
        table: Table,
        *,
        local: SlidingWindowLimiter | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._windows = Rows(table, WindowRow)
        self._local = local or SlidingWindowLimiter(sleep=sleep)
        self._clock = clock
        self._sleep = sleep
        self._seen: dict[str, _Row] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._leases: dict[str, _Lease] = {}
        self._lease_guard = threading.Lock()
        self._takers: dict[str, threading.Lock] = {}

    def acquire(self, key: str, window: Window) -> Callable[[], None]:
        local_release = self._local.acquire(key, window)
        try:
            lease = self._spend(key, window)
        except StorageUnavailable:
            log.warning("shared rate window for %s unavailable: this call is paced by this instance only", key)
            lease = None

        def release() -> None:
            done = self._clock()  # the response is back: the slot counts from now, not from when the write lands
            local_release()
            if lease is None:
                return
            with self._lease_guard:
                lease.out -= 1
                lease.last_done = max(lease.last_done, done)
                settled = lease.settled
                if settled:
                    lease.restamped = True
            if settled:
                try:
                    self._restamp(key, window, lease)
                except StorageUnavailable:
                    log.warning("shared rate window for %s unavailable: a lease keeps its provisional expiry", key)

        return release

    def _spend(self, key: str, window: Window) -> _Lease:
        """A slot from this instance's lease on the key, or a new lease (one write) when it is spent. One thread
        takes the next lease while the others wait for it, so an instance holds one lease per key."""
        lease = self._from_lease(key, window)
        if lease is not None:
            return lease
        with self._taking(key):
            lease = self._from_lease(key, window)  # another thread may have taken one meanwhile
            if lease is not None:
                return lease
            fresh = self._take(key, window)
            with self._lease_guard:
                fresh.spend()
                self._leases[key] = fresh
            return fresh

    def _from_lease(self, key: str, window: Window) -> _Lease | None:
        retired: _Lease | None = None
        with self._lease_guard:
            lease = self._leases.get(key)
            if lease is not None and lease.left > 0 and self._clock() - lease.taken_at > LEASE_IDLE_S:
                lease.left = 0  # retired: nothing more is handed out of it
                if lease.settled:
                    lease.restamped, retired = True, lease
            elif lease is not None and lease.left > 0:
                lease.spend()
                return lease
        if retired is not None:
            self._restamp(key, window, retired)
        return None

    def _taking(self, key: str) -> threading.Lock:
        with self._guard:
            return self._takers.setdefault(key, threading.Lock())

    def penalise(self, key: str, window: Window, seconds: float) -> None:
        """After a 429, every instance waits: the block is written to the shared row."""
        self._local.penalise(key, window, seconds)
        until = self._clock() + seconds

        def block(row: _Row) -> bool:
            if row.blocked_until >= until:
                return False
            row.blocked_until = until
            return True

        try:
            self._update(key, block)
        except StorageUnavailable:
            pass  # the local block still holds this instance back

    # -- the row ---------------------------------------------------------------------------------------

    def _take(self, key: str, window: Window) -> _Lease:
        grain = window_span(window) / BUCKETS
        while True:
            wait = 0.0
            taken: _Lease | None = None

            def admit(row: _Row) -> bool:
                nonlocal wait, taken
                taken = None
                now = self._clock()
                live = row.live(now, grain)
                row.slots = live
                if row.blocked_until > now:
                    wait = row.blocked_until - now
                    return False
                free = window.requests - sum(live.values())
                if free <= 0:
                    wait = min(min(live) * grain - now, window_span(window) * MAX_POLL_FRACTION)
                    return False
                out_at = None
                if window.concurrent:
                    row.out = row.in_flight(now)
                    if sum(row.out.values()) >= window.concurrent:
                        wait = CONCURRENT_POLL_S  # a completion on any instance frees one: look again soon
                        return False
                    out_at = math.ceil(now + HOLD_S)
                    row.out[out_at] = row.out.get(out_at, 0) + 1
                size = min(lease_size(window), free)
                bucket = math.ceil((now + HOLD_S + window_span(window)) / grain)
                row.slots[bucket] = row.slots.get(bucket, 0) + size
                taken = _Lease(bucket=bucket, size=size, taken_at=now, left=size, out_at=out_at)
                return True

            self._update(key, admit, fresh_when_refused=True)
            if taken is not None:
                return taken
            self._sleep(max(wait, 0.001))

    def _restamp(self, key: str, window: Window, lease: _Lease) -> None:
        """The lease's provisional slots off; its used ones counted from its last completion."""
        grain = window_span(window) / BUCKETS

        def move(row: _Row) -> bool:
            now = self._clock()
            row.slots = row.live(now, grain)
            if lease.bucket in row.slots:
                row.slots[lease.bucket] = max(0, row.slots[lease.bucket] - lease.size)
            if lease.used:
                bucket = math.ceil((lease.last_done + window_span(window)) / grain)
                row.slots[bucket] = row.slots.get(bucket, 0) + lease.used
            if lease.out_at is not None and row.out.get(lease.out_at, 0) > 0:
                row.out[lease.out_at] -= 1  # the call is back: no longer in flight
                row.out = row.in_flight(now)
            return True

        self._update(key, move)

    def _update(self, key: str, change: Callable[[_Row], bool], *, fresh_when_refused: bool = False) -> None:
        """Apply `change` to the row and write it conditionally, re-reading after a lost race. `change`
        returns False to write nothing; with `fresh_when_refused`, a refusal based on a remembered (possibly
        stale) row is re-checked against a fresh read first."""
        with self._lock(key):
            seen = self._seen.get(key)
            # `change` edits a copy: a write that fails leaves the remembered row as it was written.
            row = replace(seen, slots=dict(seen.slots)) if seen else None
            fresh = row is None
            for _ in range(50):
                if row is None:
                    row, fresh = self._read(key), True
                if not change(row):
                    if fresh or not fresh_when_refused:
                        self._seen[key] = row
                        return
                    row = None
                    continue
                try:
                    row.etag = self._write(key, row)
                    self._seen[key] = row
                    return
                except (Conflict, PreconditionFailed, NotFound):
                    row = None  # another instance wrote first: read again
            raise StorageUnavailable()  # fifty lost races in a row: treat the row as unavailable

    def _lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    @staticmethod
    def _address(key: str) -> tuple[str, str]:
        # One partition per key: windows of different integrations never share a partition's throughput.
        return hashlib.sha256(key.encode()).hexdigest()[:32], "window"

    def _read(self, key: str) -> _Row:
        found = self._windows.find(*self._address(key))
        if found is None:
            return _Row()
        stored, etag = found
        slots = {int(b): int(n) for b, n in json.loads(stored.slots).items()}
        out = {int(b): int(n) for b, n in json.loads(stored.out).items()}
        return _Row(slots, stored.blocked_until, etag, out)

    def _write(self, key: str, row: _Row) -> str:
        pk, rk = self._address(key)
        stored = WindowRow(
            partition=pk,
            row=rk,
            slots=json.dumps({str(b): n for b, n in sorted(row.slots.items())}, separators=(",", ":")),
            blocked_until=row.blocked_until,
            out=json.dumps({str(b): n for b, n in sorted(row.out.items())}, separators=(",", ":")),
        )
        if row.etag is None:
            return self._windows.insert(stored)
        return self._windows.replace(stored, etag=row.etag)
