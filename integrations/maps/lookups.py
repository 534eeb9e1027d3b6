"""The mapping family's lookups (seed 000: geocoding, directions, static maps, places search, each behind its
capability flag) and the browser key handed to allowlisted origins.

A lookup needs an active mapping integration with the flag on; it spends one call of the monthly budget
before it leaves (`budget.py`) and is counted in usage by the adapter. Geocoding and places results are kept
per integration for as long as the provider's terms allow (`cache_ttl_s` in the catalog: Google 30 days,
Mapbox not at all); a cached answer spends nothing. The document itself is remembered for DOCUMENT_TTL_S, so
a warm lookup touches no storage: a pause or a flag switched off stops lookups on every instance within that.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from adapters import capabilities as can
from adapters.base import Adapter
from adapters.catalog import Catalog
from adapters.maps import MapImage, Place, Route
from integrations.credentials import Credentials
from integrations.documents.common import LifecycleStatus
from integrations.documents.document import IntegrationDocument, require_in_service
from integrations.documents.ref import IntegrationRef
from integrations.maps.budget import MonthlyBudget
from integrations.repository import IntegrationRepository
from shared.errors import Conflict, Forbidden
from shared.memo import MISSING, Memo

DOCUMENT_TTL_S = 5.0
# Each lookup: the catalog capability naming it, the adapter Protocol it needs, the document flag switching it on.
LOOKUPS: dict[str, tuple[type, str]] = {
    "geocode": (can.Geocoding, "geocoding"),
    "directions": (can.Directions, "directions"),
    "static_map": (can.StaticMaps, "static_maps"),
    "places_search": (can.PlacesSearch, "places_search"),
}


@dataclass(frozen=True)
class Found:
    places: list[Place]
    cached: bool


@dataclass(frozen=True)
class MapLookups:
    integrations: IntegrationRepository
    catalog: Catalog
    credentials: Credentials
    budget: MonthlyBudget
    adapter_for: Callable[[Any], Adapter[Any]]
    documents: Memo[IntegrationRef]
    results: Memo[tuple[str, ...]]

    def _document(self, ref: IntegrationRef) -> Any:
        def read(key: IntegrationRef) -> Any:
            return self.integrations.get(key).document

        document = self.documents.get(ref, read)
        if document.family != "mapping":
            raise Conflict(f"{document.provider} ({document.family}) is not a mapping integration.", reason="not_mapping")
        return document

    def _ready(self, ref: IntegrationRef, lookup: str) -> Any:
        document = self._document(ref)
        _, flag = LOOKUPS[lookup]
        if lookup not in self.catalog.get(document.provider).capabilities:
            raise Conflict(f"{document.provider} offers no {lookup}.", reason="not_offered")
        require_in_service(document, flag, service="lookups")
        return document

    def _adapter(self, document: IntegrationDocument) -> Any:
        self.budget.take(document)  # before the call leaves: past the budget, nothing reaches the provider
        return self.adapter_for(document)

    def _remembered(
        self, document: IntegrationDocument, key: tuple[str, ...], lookup: Callable[[Any], list[Place]]
    ) -> Found:
        scoped = (document.tenant_id, document.id, *key)
        hit = self.results.peek(scoped)
        if hit is not MISSING:
            return Found(hit, cached=True)
        places = lookup(self._adapter(document))
        self.results.put(scoped, places, ttl_s=self.catalog.get(document.provider).cache_ttl_s)
        return Found(places, cached=False)

    def geocode(self, ref: IntegrationRef, address: str, *, region: str | None = None) -> Found:
        document = self._ready(ref, "geocode")
        normal = " ".join(address.lower().split())
        return self._remembered(
            document, ("geocode", normal, region or ""), lambda adapter: adapter.geocode(address, region=region)
        )

    def places(self, ref: IntegrationRef, query: str) -> Found:
        document = self._ready(ref, "places_search")
        normal = " ".join(query.lower().split())
        return self._remembered(document, ("places", normal), lambda adapter: adapter.places_search(query))

    def directions(self, ref: IntegrationRef, origin: str, destination: str, mode: str) -> list[Route]:
        document = self._ready(ref, "directions")
        routes: list[Route] = self._adapter(document).directions(origin, destination, mode=mode)
        return routes

    def static_map(self, ref: IntegrationRef, center: str, zoom: int, width: int, height: int) -> MapImage:
        document = self._ready(ref, "static_map")
        image: MapImage = self._adapter(document).static_map(center, zoom=zoom, width=width, height=height)
        return image

    def browser_key(self, ref: IntegrationRef, origin: str) -> str:
        """The browser key, only for an origin whose host is on the domain allowlist (`*.` covers subdomains)."""
        document = self._document(ref)
        parts = urlsplit(origin)
        host = (parts.hostname or "").lower()
        if parts.scheme != "https" or not host or parts.path not in ("", "/") or parts.query:
            raise Forbidden(f"{origin!r} is not an origin (https://host[:port]).")
        if not any(host == pattern or fnmatch.fnmatchcase(host, pattern) for pattern in document.config.domain_allowlist):
            raise Forbidden(f"{host} is not on this integration's domain allowlist (config.domain_allowlist).")
        if document.status != LifecycleStatus.active:
            raise Conflict(f"The integration is {document.status.value}.", reason="not_active")
        if not document.credentials.browser_key_ref:
            raise Conflict("No browser key is set (credentials/browser_key_ref).", reason="no_browser_key")
        value: str = self.credentials.resolve(document, "browser_key_ref", operation="maps.browser_key")
        return value
