"""Google Maps Platform web services (Geocoding, Directions, Static Maps, Places Text Search). The server key
travels as `key=`; these services answer HTTP 200 with a `status` field, so a refusal is read from the body:
`REQUEST_DENIED` (a bad key, a key restricted by HTTP referrer — the browser key — or an API not enabled),
`OVER_QUERY_LIMIT` (per-minute rate or daily cap: retried later), `INVALID_REQUEST`; `ZERO_RESULTS` is no match,
not an error."""

from __future__ import annotations

from typing import Any

from adapters.maps import MapImage, MapsAdapter, Place, Route
from integrations.documents.document import ValidationCheck

MODES = {"driving": "driving", "walking": "walking", "cycling": "bicycling"}


class GoogleMapsAdapter(MapsAdapter):
    def _json(self, path: str, params: dict[str, Any], operation: str) -> dict[str, Any]:
        data: dict[str, Any] = self.request("GET", path, operation=operation, params=params).json()
        status = data.get("status", "")
        if status in ("OK", "ZERO_RESULTS"):
            return data
        message = data.get("error_message") or status
        if status == "OVER_QUERY_LIMIT":
            raise self.refused(f"over the query limit ({message})", retriable=True, status=429)
        raise self.refused(f"{status}: {message}", status=403 if status == "REQUEST_DENIED" else 400)

    def validate(self) -> list[ValidationCheck]:
        from adapters.checks import timed

        def geocode() -> str:
            self._json("/geocode/json", {"address": "Stockholm"}, "validate")
            return "GET /geocode/json → OK (server key accepted)"

        return [timed("provider.authenticate", geocode)]

    @staticmethod
    def _place(r: dict[str, Any]) -> Place:
        location = r["geometry"]["location"]
        address = r.get("formatted_address", "")
        return Place(
            r.get("name") or address, address, float(location["lat"]), float(location["lng"]), r.get("place_id", "")
        )

    def geocode(self, address: str, *, region: str | None = None) -> list[Place]:
        params = {"address": address, **({"region": region.lower()} if region else {})}
        return [self._place(r) for r in self._json("/geocode/json", params, "maps.geocode").get("results", [])]

    def directions(self, origin: str, destination: str, *, mode: str = "driving") -> list[Route]:
        params = {"origin": origin, "destination": destination, "mode": MODES[mode]}
        routes = self._json("/directions/json", params, "maps.directions").get("routes", [])
        out = []
        for r in routes:
            legs = r.get("legs", [])
            distance = sum(leg["distance"]["value"] for leg in legs)
            duration = sum(leg["duration"]["value"] for leg in legs)
            out.append(Route(float(distance), float(duration), r.get("summary", "")))
        return out

    def static_map(self, center: str, *, zoom: int, width: int, height: int) -> MapImage:
        params = {"center": center, "zoom": zoom, "size": f"{width}x{height}", "markers": center}
        response = self.request("GET", "/staticmap", operation="maps.static_map", params=params)
        kind = response.headers.get("content-type", "")
        if not kind.startswith("image/"):  # a refused key answers with an error text, not an image
            raise self.refused(f"no image ({response.text[:200]})", status=403)
        return MapImage(response.content, kind)

    def places_search(self, query: str) -> list[Place]:
        results = self._json("/place/textsearch/json", {"query": query}, "maps.places_search").get("results", [])
        return [self._place(r) for r in results]
