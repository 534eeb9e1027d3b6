"""The mapping family's lookups for the tenant portal (seed 000's geocoding, directions, static maps and places
search toggles) and its browser key. Each lookup needs an active mapping integration with the flag on; it
spends the monthly budget (past it: 429, and nothing reaches the provider) unless a cached answer serves.

| operationId       | Method | Path (under …/integrations/{id}/maps)                           |
|-------------------|--------|-----------------------------------------------------------------|
| geocodeAddress    | GET    | /geocode?address=&region=                                       |
| searchPlaces      | GET    | /places?query=                                                  |
| getDirections     | GET    | /directions?origin=lat,lng&destination=lat,lng&mode=            |
| getStaticMap      | GET    | /static?center=lat,lng&zoom=&width=&height= (image/png)         |
| getBrowserKey     | GET    | /browser-key?origin=https://www.example.se                      |
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from fastapi import Query, Response
from pydantic import BaseModel, Field

from integrations.api.deps import MapsDep, Reader, Ref
from integrations.api.problems import COMMON, P, Responses, problems
from integrations.api.routing import api_router

router = api_router(prefix="/api/v1/tenants/{tenant_id}/integrations/{integration_id}/maps", tags=["maps"])
MAPS: Responses = {
    409: {**P, "description": "Not an active mapping integration, or this lookup's capability flag is off."},
    422: {**P, "description": "Invalid query parameter."},
    429: {**P, "description": "Rate limited, or the monthly usage budget is spent (Retry-After: the next month)."},
    502: {**P, "description": "The provider refused or failed (detail names its answer)."},
}
LatLng = Annotated[
    str,
    Query(
        pattern=r"^-?\d{1,2}(\.\d+)?,\s*-?\d{1,3}(\.\d+)?$",
        description="`lat,lng` in decimal degrees (WGS 84).",
        examples=["59.3293,18.0686"],
    ),
]


class PlaceOut(BaseModel):
    name: str
    address: str
    lat: float
    lng: float
    place_id: str = Field(description="The provider's id for the place.")


class PlacesOut(BaseModel):
    items: list[PlaceOut]
    cached: bool = Field(description="Served from the hub's cache (no provider call, no budget spent).")


class RouteOut(BaseModel):
    distance_m: float
    duration_s: float
    summary: str


class RoutesOut(BaseModel):
    items: list[RouteOut]


class BrowserKey(BaseModel):
    origin: str
    key: str = Field(description="The referrer-restricted browser key, for this origin's map scripts.")


def _places(found: Any) -> PlacesOut:
    return PlacesOut(items=[PlaceOut(**vars(p)) for p in found.places], cached=found.cached)


@router.get("/geocode", response_model=PlacesOut, responses={**COMMON, **MAPS})
async def geocode_address(
    ref: Ref,
    principal: Reader,
    maps: MapsDep,
    address: Annotated[str, Query(min_length=1, max_length=300, examples=["Kungsholmsgatan 1, Stockholm"])],
    region: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$", description="ISO 3166 alpha-2 bias.")] = None,
) -> Any:
    """Geocode an address (a venue's) to coordinates"""
    return _places(await anyio.to_thread.run_sync(lambda: maps.geocode(ref, address, region=region)))


@router.get("/places", response_model=PlacesOut, responses={**COMMON, **MAPS})
async def search_places(
    ref: Ref,
    principal: Reader,
    maps: MapsDep,
    query: Annotated[str, Query(min_length=1, max_length=200, examples=["boulebana Stockholm"])],
) -> Any:
    """Search places (boule courts, clubs) by text"""
    return _places(await anyio.to_thread.run_sync(lambda: maps.places(ref, query)))


@router.get("/directions", response_model=RoutesOut, responses={**COMMON, **MAPS})
async def get_directions(
    ref: Ref,
    principal: Reader,
    maps: MapsDep,
    origin: LatLng,
    destination: LatLng,
    mode: Literal["driving", "walking", "cycling"] = "driving",
) -> Any:
    """Directions between two points"""
    routes = await anyio.to_thread.run_sync(lambda: maps.directions(ref, origin, destination, mode))
    return RoutesOut(items=[RouteOut(**vars(r)) for r in routes])


@router.get(
    "/static",
    response_class=Response,
    responses={
        **COMMON,
        **MAPS,
        200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}, "description": "The map image."},
    },
)
async def get_static_map(
    ref: Ref,
    principal: Reader,
    maps: MapsDep,
    center: LatLng,
    zoom: Annotated[int, Query(ge=0, le=20)] = 14,
    width: Annotated[int, Query(ge=16, le=640)] = 400,
    height: Annotated[int, Query(ge=16, le=640)] = 300,
) -> Response:
    """A static map image centred on a point"""
    image = await anyio.to_thread.run_sync(lambda: maps.static_map(ref, center, zoom, width, height))
    return Response(image.content, media_type=image.content_type, headers={"Cache-Control": "private, max-age=3600"})


@router.get(
    "/browser-key",
    response_model=BrowserKey,
    responses=problems(COMMON, own={409: MAPS[409], 422: MAPS[422], 403: "The origin is not allowlisted."}),
)
async def get_browser_key(
    ref: Ref,
    principal: Reader,
    maps: MapsDep,
    response: Response,
    origin: Annotated[str, Query(max_length=300, examples=["https://www.petanque.se"])],
) -> Any:
    """The browser key, for an origin on the domain allowlist only"""
    key = await anyio.to_thread.run_sync(lambda: maps.browser_key(ref, origin))
    response.headers["Cache-Control"] = "no-store"
    return BrowserKey(origin=origin, key=key)
