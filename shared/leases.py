"""Distributed leases on Table Storage: one holder per key across every worker and instance.

Insert-if-absent takes a free lease; an expired lease is taken over with an ETag-conditional replace,
so two contenders can never both win. Used for token refreshes and for "one sync run per integration".

Long work keeps its lease short and renewed in the background (`kept`): a live holder never loses it to a
slow provider call, and a holder killed with -9 leaves a lease that is stale within one TTL.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import Field

from shared.errors import Conflict, NotFound, PreconditionFailed
from shared.rows import Row, Rows
from shared.tables import Table

# Each lease is its own partition (PartitionKey = key): Table Storage serves a partition from one server and
# caps it near 2,000 entities/s, so one shared partition would make every refresh and sync-run lease in the
# account contend for one server. Keys stay point reads and conditional writes.
_ROW = "lease"
log = logging.getLogger("hub.leases")


@dataclass(frozen=True)
class Lease:
    key: str
    owner: str
    etag: str
    expires_at: datetime


class LeaseBusy(Exception):
    pass


class LeaseRow(Row):
    owner: str = Field(alias="Owner")
    expires_at: datetime = Field(alias="ExpiresAt")


class Leases:
    def __init__(self, table: Table, *, now: Callable[[], datetime]) -> None:
        self._rows = Rows(table, LeaseRow)
        self._now = now

    def try_acquire(self, key: str, *, ttl_s: float, owner: str | None = None) -> Lease | None:
        owner = owner or secrets.token_hex(8)
        expires = self._now() + timedelta(seconds=ttl_s)
        row = LeaseRow(partition=key, row=_ROW, owner=owner, expires_at=expires)
        try:
            return Lease(key, owner, self._rows.insert(row), expires)
        except Conflict:
            pass
        try:
            current, etag = self._rows.get(key, _ROW)
        except NotFound:
            return None  # released in between: the caller simply tries again
        if current.expires_at > self._now():
            return None
        try:
            return Lease(key, owner, self._rows.replace(row, etag=etag), expires)
        except PreconditionFailed:
            return None

    def holder(self, key: str) -> Lease | None:
        """Who holds `key` and until when (None: free). An `expires_at` in the past is a stale lease: its holder
        stopped renewing (crashed), and the next `try_acquire` takes it over."""
        found = self._rows.find(key, _ROW)
        if found is None:
            return None
        row, etag = found
        return Lease(key, row.owner, etag, row.expires_at)

    def acquire(self, key: str, *, ttl_s: float, wait_s: float, poll_s: float = 0.05) -> Lease:
        deadline = time.monotonic() + wait_s
        while True:
            lease = self.try_acquire(key, ttl_s=ttl_s)
            if lease:
                return lease
            if time.monotonic() >= deadline:
                raise LeaseBusy(key)
            time.sleep(poll_s)

    def renew(self, lease: Lease, *, ttl_s: float) -> Lease:
        """Extend a held lease; LeaseBusy if it expired and somebody else took it."""
        expires = self._now() + timedelta(seconds=ttl_s)
        row = LeaseRow(partition=lease.key, row=_ROW, owner=lease.owner, expires_at=expires)
        try:
            return Lease(lease.key, lease.owner, self._rows.replace(row, etag=lease.etag), expires)
        except (PreconditionFailed, NotFound):
            raise LeaseBusy(lease.key) from None

    def release(self, lease: Lease) -> None:
        try:
            self._rows.table.delete(lease.key, _ROW, etag=lease.etag)
        except (PreconditionFailed, NotFound):
            pass  # expired and taken over: nothing of ours to release

    @contextmanager
    def kept(self, lease: Lease, *, ttl_s: float) -> Iterator[KeptLease]:
        """Hold `lease` while the block runs, renewing it every third of its TTL on a background thread;
        released at the end. `kept.lost` is set if a renewal found it taken (the holder stalled past a TTL)."""
        kept = KeptLease(self, lease, ttl_s)
        kept.start()
        try:
            yield kept
        finally:
            kept.stop()
            self.release(kept.current)

    @contextmanager
    def held(self, key: str, *, ttl_s: float, wait_s: float) -> Iterator[Lease]:
        lease = self.acquire(key, ttl_s=ttl_s, wait_s=wait_s)
        try:
            yield lease
        finally:
            self.release(lease)


class KeptLease:
    def __init__(self, leases: Leases, lease: Lease, ttl_s: float) -> None:
        self._leases, self.current, self._ttl_s = leases, lease, ttl_s
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, daemon=True, name=f"lease-{lease.key}")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _renew(self) -> None:
        while not self._stop.wait(self._ttl_s / 3):
            try:
                self.current = self._leases.renew(self.current, ttl_s=self._ttl_s)
            except LeaseBusy:
                self.lost.set()
                return
            except Exception:  # noqa: BLE001 - a storage blip: the next tick tries again, well within the TTL
                log.warning("renewing lease %s failed; retrying", self.current.key, exc_info=True)
