"""Mapping geocode through the hub's lookup use case (the route's work, in process) against a bare call to the
Google Maps fake, same run:

- warm: an address the integration looked up before — served from the cache Google's terms allow (no provider
  call, no budget spent, no storage: the document is remembered too). Target ≤ 0.1× the bare call.
- cold: a new address each time — the budget taken (in blocks), the adapter's authenticated, rate-limited,
  counted call, the result kept. Target ≤ 1.2× the bare call.
"""

from __future__ import annotations

import itertools

import requests

from bench.common import activated, fresh_hub, integration_with, interleaved_p50, row
from devfakes.keyed import GOOD
from devfakes.launcher import start_fakes

N = 300


def run(conn: str) -> list[dict[str, object]]:
    fakes = start_fakes()
    try:
        hub = fresh_hub(conn, **fakes.hub_settings())
        tenant = "bench-fed"
        body = {
            "family": "mapping",
            "provider": "google_maps",
            "display_name": "Kartor",
            "capabilities": {"geocoding": True},
            "config": {"domain_allowlist": ["www.petanque.se"], "monthly_usage_budget": 1_000_000},
        }
        doc = integration_with(hub, tenant, body, {"api_key_ref": GOOD["google_maps"]})
        activated(hub, doc.ref)
        maps, session = hub.map_lookups, requests.Session()
        url = f"{fakes.provider_urls['google_maps']['base_url']}/geocode/json"
        fresh = (f"Boulevägen {n}, Stockholm" for n in itertools.count())

        def bare() -> None:
            r = session.get(url, params={"address": next(fresh), "key": GOOD["google_maps"]}, timeout=10)
            assert r.json()["status"] == "OK"

        def cold() -> None:
            assert not maps.geocode(doc.ref, next(fresh)).cached

        def warm() -> None:
            assert maps.geocode(doc.ref, "Kungsholmsgatan 1, Stockholm").cached

        maps.geocode(doc.ref, "Kungsholmsgatan 1, Stockholm")
        warm_ms, bare_ms = interleaved_p50(warm, bare, n=N)
        cold_ms, bare2_ms = interleaved_p50(cold, bare, n=N)
    finally:
        fakes.stop()
    return [
        row(
            "maps geocode, warm cache vs a bare call to the fake (p50)",
            f"{bare_ms:.3f} ms",
            f"{warm_ms:.3f} ms",
            warm_ms / bare_ms,
            "≤ 0.1",
            "no provider call, no storage",
        ),
        row(
            "maps geocode, cold vs a bare call to the fake (p50)",
            f"{bare2_ms:.3f} ms",
            f"{cold_ms:.3f} ms",
            cold_ms / bare2_ms,
            "≤ 1.2",
            "budget in blocks, rate window shared by instances, usage counted, result kept",
        ),
    ]
