"""A small per-process memory of recent answers, each kept for a time and the oldest forgotten past a size: the
one place the hub trades a few seconds (or a provider-permitted while) of staleness for a storage or provider
round trip."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

MISSING = object()
K = TypeVar("K", bound=Hashable)


class Memo(Generic[K]):
    def __init__(self, ttl_s: float, *, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: OrderedDict[K, tuple[float, Any]] = OrderedDict()  # key → (expires at, value)

    def peek(self, key: K) -> Any:
        """The remembered value, or MISSING."""
        with self._lock:
            hit = self._seen.get(key)
        return hit[1] if hit is not None and self._clock() < hit[0] else MISSING

    def put(self, key: K, value: Any, *, ttl_s: float | None = None) -> None:
        ttl = self._ttl_s if ttl_s is None else ttl_s
        if ttl <= 0:
            return
        with self._lock:
            self._seen[key] = (self._clock() + ttl, value)
            self._seen.move_to_end(key)
            while len(self._seen) > self._max:
                self._seen.popitem(last=False)

    def forget(self, key: K) -> None:
        """Drop what is remembered for `key` (this process just changed it)."""
        with self._lock:
            self._seen.pop(key, None)

    def get(self, key: K, read: Callable[[K], Any]) -> Any:
        """The remembered value, else `read(key)` — remembered, whatever it is (a miss costs no more twice)."""
        value = self.peek(key)
        if value is MISSING:
            value = read(key)
            self.put(key, value)
        return value
