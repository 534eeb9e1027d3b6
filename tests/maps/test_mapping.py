"""The mapping family against loopback Google Maps and Mapbox fakes: validation green, and precisely red for a
bad key and for the browser key used server-side; every lookup behind its flag; Google's geocoding cached
(Mapbox's never); the monthly budget stops calls before they reach the provider and alerts once at 80 %;
the browser key goes only to allowlisted origins; the server key never shows in a response or a log."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from devfakes.keyed import GOOD
from devfakes.launcher import Fakes
from integrations.wiring import Hub
from tests.helpers import ApiClient, take_events

KEYS = {"google_maps": ("google_maps", "google_maps_browser"), "mapbox": ("mapbox", "mapbox_public")}


def mapping(admin: ApiClient, provider: str, *, key: str | None = None, off: tuple[str, ...] = (), **config: Any) -> str:
    body = {
        "family": "mapping",
        "provider": provider,
        "display_name": f"Kartor ({provider})",
        "capabilities": {f: f not in off for f in ("geocoding", "places_search", "static_maps", "directions")},
        "config": {"domain_allowlist": ["www.petanque.se", "*.boule.se"], **config},
    }
    path = f"{admin.integrations}/{admin.create(body)['id']}"
    server, browser = KEYS[provider]
    for slot, value in (("api_key_ref", key or GOOD[server]), ("browser_key_ref", GOOD[browser])):
        r = admin.request("PUT", f"{path}/credentials/{slot}", json={"value": value})
        assert r.status_code == 200, r.text
    return path


def provider_check(result: dict[str, Any]) -> str:
    return str(next(c["detail"] for c in result["checks"] if c["name"] == "provider.authenticate"))


def active(admin: ApiClient, provider: str, *, off: tuple[str, ...] = (), **config: Any) -> str:
    path = mapping(admin, provider, off=off, **config)
    result = admin.post(f"{path}:validate").json()["result"]
    assert result["passed"], result
    assert admin.post(f"{path}:activate").status_code == 200
    return path


@pytest.mark.parametrize("provider", ["google_maps", "mapbox"])
def test_validation_is_green_or_precisely_red(admin: ApiClient, fakes: Fakes, provider: str) -> None:
    server, browser = KEYS[provider]
    green = admin.post(f"{mapping(admin, provider)}:validate").json()["result"]
    assert green["passed"], green
    wrong = admin.post(f"{mapping(admin, provider, key='not-a-key')}:validate").json()["result"]
    assert not wrong["passed"] and ("invalid" in provider_check(wrong).lower()), wrong
    # The referrer/URL-restricted browser key cannot make server calls: said so, not a generic failure.
    restricted = admin.post(f"{mapping(admin, provider, key=GOOD[browser])}:validate").json()["result"]
    detail = provider_check(restricted)
    assert not restricted["passed"] and ("referer restrictions" in detail or "403 Forbidden" in detail), detail
    assert GOOD[browser] not in detail and GOOD[server] not in str(green)


@pytest.mark.parametrize("provider", ["google_maps", "mapbox"])
def test_every_lookup_against_the_fake(admin: ApiClient, fakes: Fakes, hub: Hub, provider: str) -> None:
    path = active(admin, provider)
    calls = lambda: fakes.keyed.calls.get(provider, 0)  # noqa: E731
    before = calls()
    first = admin.get(f"{path}/maps/geocode", params={"address": "Kungsholmsgatan 1, Stockholm"})
    assert first.status_code == 200, first.text
    place = first.json()["items"][0]
    assert 55 < place["lat"] < 69 and 11 < place["lng"] < 24 and first.json()["cached"] is False
    again = admin.get(f"{path}/maps/geocode", params={"address": "  kungsholmsgatan 1,  STOCKHOLM "}).json()
    # Google's terms let lat/lng be kept 30 days; Mapbox's temporary results may not be stored.
    assert again["cached"] is (provider == "google_maps")
    assert [(p["lat"], p["lng"]) for p in again["items"]] == [(place["lat"], place["lng"])]
    assert calls() - before == (1 if provider == "google_maps" else 2)
    assert admin.get(f"{path}/maps/geocode", params={"address": "Nowhere at all"}).json()["items"] == []

    places = admin.get(f"{path}/maps/places", params={"query": "boule Stockholm"}).json()["items"]
    assert len(places) == 2 and all(p["place_id"] for p in places)
    route = admin.get(
        f"{path}/maps/directions", params={"origin": "59.3293,18.0686", "destination": "57.7089,11.9746"}
    ).json()["items"][0]
    assert 300_000 < route["distance_m"] < 800_000 and route["duration_s"] > 0
    image = admin.get(f"{path}/maps/static", params={"center": "59.3293,18.0686", "zoom": 12})
    assert image.status_code == 200 and image.headers["content-type"] == "image/png" and image.content[:4] == b"\x89PNG"
    bad = admin.get(f"{path}/maps/directions", params={"origin": "Stockholm", "destination": "57.7,11.9"})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"

    usage = admin.get(f"{path}/usage").json()
    assert usage["by_operation"]["maps.geocode"]["requests"] == (2 if provider == "google_maps" else 3), usage


def test_a_switched_off_lookup_is_refused_and_never_sent(admin: ApiClient, fakes: Fakes) -> None:
    path = active(admin, "google_maps", off=("directions",))
    before = fakes.keyed.calls.get("google_maps", 0)
    r = admin.get(f"{path}/maps/directions", params={"origin": "59.3,18.0", "destination": "57.7,11.9"})
    assert r.status_code == 409 and "capabilities.directions" in r.json()["detail"], r.text
    assert fakes.keyed.calls.get("google_maps", 0) == before
    paused = active(admin, "mapbox")
    assert admin.post(f"{paused}:pause").status_code == 200
    r = admin.get(f"{paused}/maps/geocode", params={"address": "Stockholm"})
    assert r.status_code == 409 and "paused" in r.json()["detail"]


def test_the_budget_stops_calls_before_the_provider_and_alerts_once(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    path = active(admin, "mapbox", monthly_usage_budget=5)  # Mapbox: nothing cached, every lookup would call
    take_events(hub)
    before = fakes.keyed.calls.get("mapbox", 0)
    answers = [admin.get(f"{path}/maps/geocode", params={"address": f"Gata {n}"}) for n in range(8)]
    assert [a.status_code for a in answers] == [200] * 5 + [429] * 3
    assert fakes.keyed.calls.get("mapbox", 0) - before == 5  # the refused three never left the hub
    refused = answers[-1]
    assert "budget" in refused.json()["detail"] and int(refused.headers["Retry-After"]) > 0
    alerts = take_events(hub, "mapping.budget_threshold")
    assert len(alerts) == 1 and alerts[0]["data"]["budget"] == 5


def test_the_browser_key_goes_only_to_allowlisted_origins(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    path = active(admin, "google_maps")
    for origin in ("https://www.petanque.se", "https://klubb.boule.se"):
        r = admin.get(f"{path}/maps/browser-key", params={"origin": origin})
        assert r.status_code == 200 and r.json()["key"] == GOOD["google_maps_browser"], r.text
        assert r.headers["Cache-Control"] == "no-store"
    for origin in ("https://evil.example", "http://www.petanque.se", "https://boule.se.evil.example", "www.petanque.se"):
        r = admin.get(f"{path}/maps/browser-key", params={"origin": origin})
        assert r.status_code == 403 and GOOD["google_maps_browser"] not in r.text, (origin, r.text)
    audit = admin.get(f"/api/v1/tenants/{admin.tenant}/audit", params={"action": "secret.read"}).json()["items"]
    assert any(a["target"].get("operation") == "maps.browser_key" for a in audit)


def test_the_server_key_never_shows_in_logs(
    admin: ApiClient, fakes: Fakes, hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    path = active(admin, "google_maps")
    fakes.keyed.maps_per_minute = 0  # every call over the limit: retried, logged, then a 502 naming Google's answer
    r = admin.get(f"{path}/maps/geocode", params={"address": "Stockholm C"})
    fakes.keyed.maps_per_minute = 3000
    assert r.status_code == 502 and "over the query limit" in r.json()["detail"], r.text
    logged = "\n".join(rec.getMessage() for rec in caplog.records)
    assert GOOD["google_maps"] not in logged and GOOD["google_maps"] not in r.text
