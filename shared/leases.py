"""Distributed leases on Table Storage: one holder per key across every worker and instance.

Insert-if-absent takes a free lease; an expired lease is taken over with an ETag-conditional replace,
so two contenders can never both win. Used for token refreshes and for "one sync run per integration".
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.errors import Conflict, NotFound, PreconditionFailed
from shared.tables import Table

_PARTITION = "lease"


@dataclass(frozen=True)
class Lease:
    key: str
    owner: str
    etag: str
    expires_at: datetime


class LeaseBusy(Exception):
    pass


class Leases:
    def __init__(self, table: Table, *, now: Callable[[], datetime]) -> None:
        self._table = table
        self._now = now

    def try_acquire(self, key: str, *, ttl_s: float, owner: str | None = None) -> Lease | None:
        owner = owner or secrets.token_hex(8)
        expires = self._now() + timedelta(seconds=ttl_s)
        entity = {"PartitionKey": _PARTITION, "RowKey": key, "Owner": owner, "ExpiresAt": expires}
        try:
            return Lease(key, owner, self._table.insert(entity), expires)
        except Conflict:
            pass
        try:
            current, etag = self._table.get(_PARTITION, key)
        except NotFound:
            return None  # released in between: the caller simply tries again
        if current["ExpiresAt"] > self._now():
            return None
        try:
            return Lease(key, owner, self._table.replace(entity, etag=etag), expires)
        except PreconditionFailed:
            return None

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
        entity = {"PartitionKey": _PARTITION, "RowKey": lease.key, "Owner": lease.owner, "ExpiresAt": expires}
        try:
            return Lease(lease.key, lease.owner, self._table.replace(entity, etag=lease.etag), expires)
        except (PreconditionFailed, NotFound):
            raise LeaseBusy(lease.key) from None

    def release(self, lease: Lease) -> None:
        try:
            self._table.delete(_PARTITION, lease.key, etag=lease.etag)
        except (PreconditionFailed, NotFound):
            pass  # expired and taken over: nothing of ours to release

    @contextmanager
    def held(self, key: str, *, ttl_s: float, wait_s: float) -> Iterator[Lease]:
        lease = self.acquire(key, ttl_s=ttl_s, wait_s=wait_s)
        try:
            yield lease
        finally:
            self.release(lease)
