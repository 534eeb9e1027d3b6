"""Mapbox (Geocoding v5, Directions v5, Static Images, POI search through the geocoder). The secret token
travels as `access_token=`; refusals are HTTP statuses with a `message` (401 an invalid token, 403 a token
without the scope or a URL-restricted public token used server-side, 429 with `X-Rate-Limit-Reset`).
Mapbox orders coordinates longitude first."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from adapters.maps import MapImage, MapsAdapter, Place, Route
from integrations.documents.document import ValidationCheck

PROFILES = {"driving": "driving", "walking": "walking", "cycling": "cycling"}


def lng_lat(point: str) -> str:
    """`lat,lng` (our order, Google's) → `lng,lat` (Mapbox's)."""
    lat, lng = (p.strip() for p in point.split(",", 1))
    return f"{lng},{lat}"


class MapboxAdapter(MapsAdapter):
    def _get(self, path: str, params: dict[str, Any], operation: str) -> Any:
        response = self.request("GET", path, operation=operation, params=params, expect=frozenset({401, 403, 422}))
        if response.status_code in (401, 403, 422):
            message = response.json().get("message", "") if response.content else ""
            raise self.refused(f"{response.status_code} {message}".strip(), status=response.status_code)
        return response

    def validate(self) -> list[ValidationCheck]:
        from adapters.checks import timed

        def geocode() -> str:
            self._get("/geocoding/v5/mapbox.places/Stockholm.json", {"limit": 1}, "validate")
            return "GET /geocoding/v5/mapbox.places → 200 (token accepted)"

        return [timed("provider.authenticate", geocode)]

    @staticmethod
    def _place(f: dict[str, Any]) -> Place:
        lng, lat = f["center"]
        return Place(
            f.get("text") or f.get("place_name", ""), f.get("place_name", ""), float(lat), float(lng), f.get("id", "")
        )

    def _features(self, query: str, params: dict[str, Any], operation: str) -> list[Place]:
        path = f"/geocoding/v5/mapbox.places/{quote(query, safe='')}.json"
        return [self._place(f) for f in self._get(path, params, operation).json().get("features", [])]

    def geocode(self, address: str, *, region: str | None = None) -> list[Place]:
        return self._features(address, {"limit": 5, **({"country": region.lower()} if region else {})}, "maps.geocode")

    def directions(self, origin: str, destination: str, *, mode: str = "driving") -> list[Route]:
        path = f"/directions/v5/mapbox/{PROFILES[mode]}/{lng_lat(origin)};{lng_lat(destination)}"
        routes = self._get(path, {}, "maps.directions").json().get("routes", [])
        return [Route(float(r["distance"]), float(r["duration"]), r.get("weight_name", "")) for r in routes]

    def static_map(self, center: str, *, zoom: int, width: int, height: int) -> MapImage:
        path = f"/styles/v1/mapbox/streets-v12/static/{lng_lat(center)},{zoom}/{width}x{height}"
        response = self._get(path, {}, "maps.static_map")
        return MapImage(response.content, response.headers.get("content-type", "image/png"))

    def places_search(self, query: str) -> list[Place]:
        return self._features(query, {"types": "poi", "limit": 10}, "maps.places_search")
