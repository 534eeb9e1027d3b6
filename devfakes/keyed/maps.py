"""Google Maps Platform and Mapbox: each provider's key in the query string, its own refusals (Google: HTTP 200
with `status` REQUEST_DENIED for a bad key or a referrer-restricted browser key used server-side, and
OVER_QUERY_LIMIT past the per-minute limit; Mapbox: 401 for a bad token, 403 for a URL-restricted public token
without a matching Referer, 429 with X-Rate-Limit-* headers), and deterministic places so tests can compare."""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devfakes.keyed.base import GOOD, KeyedBase

# A 1×1 transparent PNG: what a static map "is" here.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000100"
    "05fe02fea7d6a5330000000049454e44ae426082"
)


def _point(text: str) -> tuple[float, float]:
    """A stable spot in Sweden for any address: the same text, the same place."""
    digest = hashlib.sha256(" ".join(text.lower().split()).encode()).digest()
    return 55.3 + digest[0] / 255 * 13.7, 11.1 + digest[1] / 255 * 12.9


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    (la1, lo1), (la2, lo2) = (tuple(map(math.radians, p)) for p in (a, b))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(h))


def _parse(point: str) -> tuple[float, float]:
    try:
        lat, lng = (float(p) for p in point.split(",", 1))
        return lat, lng
    except ValueError:
        return _point(point)


@dataclass
class MapsFake(KeyedBase):
    maps_per_minute: int = 3000  # Google's default; tests lower it
    maps_recent: dict[str, list[float]] = field(default_factory=dict)

    def routes(self) -> list[Route]:
        return [
            Route("/gmaps/maps/api/geocode/json", self.g_geocode),
            Route("/gmaps/maps/api/directions/json", self.g_directions),
            Route("/gmaps/maps/api/staticmap", self.g_static),
            Route("/gmaps/maps/api/place/textsearch/json", self.g_places),
            Route("/mapbox/geocoding/v5/mapbox.places/{query}.json", self.m_geocode),
            Route("/mapbox/directions/v5/mapbox/{profile}/{coords}", self.m_directions),
            Route("/mapbox/styles/v1/mapbox/{style}/static/{spec}/{size}", self.m_static),
        ]

    def _over(self, provider: str) -> float | None:
        """Seconds until a slot frees when this minute's limit is spent, else None (and the call is counted)."""
        now = time.monotonic()
        with self.lock:
            recent = [t for t in self.maps_recent.get(provider, []) if now - t < 60]
            if len(recent) >= self.maps_per_minute:
                self.maps_recent[provider] = recent
                return 60 - (now - recent[0]) if recent else 60.0
            recent.append(now)
            self.maps_recent[provider] = recent
        return None

    # --- Google ------------------------------------------------------------------------------------------------
    def _g_denied(self, request: Request) -> Response | None:
        self._count("google_maps")
        key = request.query_params.get("key", "")
        if key == GOOD["google_maps_browser"]:
            message = "API keys with referer restrictions cannot be used with this API."
            return JSONResponse({"status": "REQUEST_DENIED", "error_message": message, "results": []})
        if key != GOOD["google_maps"]:
            message = "The provided API key is invalid." if key else "You must use an API key to authenticate."
            return JSONResponse({"status": "REQUEST_DENIED", "error_message": message, "results": []})
        if self._over("google_maps") is not None:
            message = "You have exceeded your rate-limit for this API."
            return JSONResponse({"status": "OVER_QUERY_LIMIT", "error_message": message, "results": []})
        return None

    @staticmethod
    def _g_result(text: str, name: str | None = None) -> dict[str, Any]:
        lat, lng = _point(text)
        result = {
            "formatted_address": f"{text.strip().title()}, Sverige",
            "geometry": {"location": {"lat": round(lat, 6), "lng": round(lng, 6)}, "location_type": "ROOFTOP"},
            "place_id": "ChIJ" + hashlib.sha256(text.lower().encode()).hexdigest()[:23],
        }
        return {**result, "name": name} if name else result

    async def g_geocode(self, request: Request) -> Response:
        if denied := self._g_denied(request):
            return denied
        address = request.query_params.get("address", "")
        if not address:
            return JSONResponse({"status": "INVALID_REQUEST", "error_message": "Missing address.", "results": []})
        if "nowhere" in address.lower():
            return JSONResponse({"status": "ZERO_RESULTS", "results": []})
        return JSONResponse({"status": "OK", "results": [self._g_result(address)]})

    async def g_directions(self, request: Request) -> Response:
        if denied := self._g_denied(request):
            return denied
        q = request.query_params
        a, b = _parse(q.get("origin", "")), _parse(q.get("destination", ""))
        km = _km(a, b) * 1.3
        speed = {"walking": 5, "bicycling": 15}.get(q.get("mode", "driving"), 70)
        leg = {"distance": {"value": round(km * 1000)}, "duration": {"value": round(km / speed * 3600)}}
        return JSONResponse({"status": "OK", "routes": [{"summary": "E4", "legs": [leg]}]})

    async def g_static(self, request: Request) -> Response:
        self._count("google_maps")
        if (
            request.query_params.get("key") != GOOD["google_maps"]
            and request.query_params.get("key") != GOOD["google_maps_browser"]
        ):
            return Response(b"The Google Maps Platform server rejected your request.", 403, media_type="text/plain")
        return Response(PNG, media_type="image/png")

    async def g_places(self, request: Request) -> Response:
        if denied := self._g_denied(request):
            return denied
        query = request.query_params.get("query", "")
        names = [f"{query.title()} Boulebana", f"{query.title()} Bouleklubb"]
        return JSONResponse({"status": "OK", "results": [self._g_result(f"{n} {query}", n) for n in names]})

    # --- Mapbox ------------------------------------------------------------------------------------------------
    def _m_denied(self, request: Request) -> Response | None:
        self._count("mapbox")
        token = request.query_params.get("access_token", "")
        if token == GOOD["mapbox_public"] and "petanque.se" not in request.headers.get("referer", ""):
            return JSONResponse({"message": "Forbidden"}, status_code=403)  # a URL-restricted pk. token
        if token not in (GOOD["mapbox"], GOOD["mapbox_public"]):
            return JSONResponse({"message": "Not Authorized - Invalid Token"}, status_code=401)
        if (wait := self._over("mapbox")) is not None:
            reset = str(int(time.time() + wait))
            headers = {
                "X-Rate-Limit-Interval": "60",
                "X-Rate-Limit-Limit": str(self.maps_per_minute),
                "X-Rate-Limit-Reset": reset,
            }
            return JSONResponse({"message": "Too Many Requests"}, status_code=429, headers=headers)
        return None

    async def m_geocode(self, request: Request) -> Response:
        if denied := self._m_denied(request):
            return denied
        query = request.path_params["query"]
        poi = request.query_params.get("types") == "poi"
        texts = [f"{query.title()} Boulebana", f"{query.title()} Bouleklubb"] if poi else [query]
        features = []
        for text in texts:
            lat, lng = _point(text if poi else query)
            features.append(
                {
                    "id": "poi." + hashlib.sha256(text.encode()).hexdigest()[:12] if poi else "address.1",
                    "text": text,
                    "place_name": f"{text.title()}, Sverige",
                    "center": [round(lng, 6), round(lat, 6)],
                }
            )
        return JSONResponse({"type": "FeatureCollection", "features": [] if "nowhere" in query.lower() else features})

    async def m_directions(self, request: Request) -> Response:
        if denied := self._m_denied(request):
            return denied
        try:
            (lng1, lat1), (lng2, lat2) = (map(float, c.split(",")) for c in request.path_params["coords"].split(";"))
        except ValueError:
            return JSONResponse({"message": "Invalid coordinates", "code": "InvalidInput"}, status_code=422)
        km = _km((lat1, lng1), (lat2, lng2)) * 1.3
        return JSONResponse(
            {"code": "Ok", "routes": [{"distance": km * 1000, "duration": km / 70 * 3600, "weight_name": "auto"}]}
        )

    async def m_static(self, request: Request) -> Response:
        if denied := self._m_denied(request):
            return denied
        return Response(PNG, media_type="image/png")
