"""Shared set-up for benchmarks: a hub on a fresh table prefix, p50 helpers."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from integrations.wiring import Hub, build_hub, set_hub
from tests.conftest import make_settings


def fresh_hub(conn: str, **overrides: object) -> Hub:
    hub = build_hub(make_settings(conn, **overrides))
    set_hub(hub)
    return hub


def p50_ms(fn: Callable[[], object], *, n: int, warmup: int = 20) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def interleaved_p50(a: Callable[[], object], b: Callable[[], object], *, n: int, rounds: int = 5) -> tuple[float, float]:
    """Alternate rounds of a and b so machine noise hits both alike; p50 of all samples of each."""
    sa, sb = [], []
    for fn in (a, b):
        for _ in range(20):
            fn()
    for _ in range(rounds):
        for fn, out in ((a, sa), (b, sb)):
            for _ in range(n // rounds):
                t = time.perf_counter()
                fn()
                out.append((time.perf_counter() - t) * 1000)
    return statistics.median(sa), statistics.median(sb)
