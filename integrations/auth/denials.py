"""Refusals of callers who proved no credential: counted, never written to a tenant's audit trail.

Anyone can send a request naming any tenant in its path; writing an audit row per such request would let
anonymous callers fill (and drown) a tenant's trail. So these are aggregated: a metric per reason, and one
log line per reason and minute with the count of the minute before. Denials of callers who did prove a
credential (a revoked or expired key whose secret matched, a wrong tenant, a missing scope) are audited in
the credential's own tenant.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable

from shared import telemetry

log = logging.getLogger("hub.auth")
MAX_REASONS = 32  # reasons are ours, but bound the table anyway


class AnonymousDenials:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic, window_s: float = 60.0) -> None:
        self._clock = clock
        self._window_s = window_s
        self._counts: Counter[str] = Counter()
        self._since = clock()
        self._lock = threading.Lock()

    def record(self, reason: str) -> None:
        telemetry.anonymous_denials.add(1, {"reason": reason})
        with self._lock:
            if reason in self._counts or len(self._counts) < MAX_REASONS:
                self._counts[reason] += 1
            else:
                self._counts["other"] += 1
            if self._clock() - self._since < self._window_s:
                return
            counts, self._counts, self._since = dict(self._counts), Counter(), self._clock()
        log.warning("anonymous requests refused in the last %.0f s: %s", self._window_s, counts)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)
