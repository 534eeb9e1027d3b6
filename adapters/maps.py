"""The mapping family's shapes (seed 000: geocoding, directions, static maps, places search) and what every
map provider's adapter shares. Coordinates are WGS 84 decimal degrees, distances metres, durations seconds."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.base import Adapter
from integrations.documents.document import MappingIntegration
from shared.errors import ProviderError


@dataclass(frozen=True)
class Place:
    name: str  # the place's name, or the formatted address for a geocoded address
    address: str
    lat: float
    lng: float
    place_id: str  # the provider's id (the only part some terms let us keep beyond the cache)


@dataclass(frozen=True)
class Route:
    distance_m: float
    duration_s: float
    summary: str


@dataclass(frozen=True)
class MapImage:
    content: bytes
    content_type: str


class MapsAdapter(Adapter[MappingIntegration]):
    def refused(self, detail: str, *, retriable: bool = False, status: int | None = None) -> ProviderError:
        return ProviderError(
            detail=f"{self.spec.display_name}: {detail}", provider=self.spec.id, retriable=retriable, status_code=status
        )
