"""The provider catalog, as the portal's wizard reads it, and the API's own versions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, Field

from adapters.spec import ProviderSpec
from integrations.api.deps import Authenticated, CatalogDep
from integrations.api.problems import ANY_CREDENTIAL, COMMON
from integrations.api.routing import api_router
from integrations.api_versions import HEADER, LATEST, VERSIONS
from shared.errors import NotFound

router = api_router()


@router.get(
    "/api/v1/providers",
    tags=["providers"],
    response_model=list[ProviderSpec],
    responses=ANY_CREDENTIAL,
)
def list_providers(
    principal: Authenticated, catalog: CatalogDep, family: Annotated[str | None, Query(max_length=40)] = None
) -> Any:
    """The provider catalog (what the portal's wizard offers)"""
    return [s for s in catalog.all() if family is None or family in s.families]


@router.get(
    "/api/v1/providers/{provider_id}",
    tags=["providers"],
    response_model=ProviderSpec,
    responses={401: COMMON[401], 404: COMMON[404], 429: COMMON[429]},
)
def get_provider(provider_id: str, principal: Authenticated, catalog: CatalogDep) -> Any:
    """One provider's catalog entry"""
    try:
        return catalog.get(provider_id)
    except NotFound:
        raise NotFound(f"Unknown provider {provider_id!r}.") from None


class VersionOut(BaseModel):
    name: str = Field(examples=["1.1"])
    released: datetime
    deprecated: bool
    sunset: datetime | None = Field(description="When a deprecated version stops being served.")
    changes: list[str] = Field(description="What this version changed from the one before.")


class VersionList(BaseModel):
    latest: str
    header: str = Field(description="The request header that asks for a version other than the client's pin.")
    items: list[VersionOut]


@router.get("/api/v1/versions", tags=["providers"], response_model=VersionList, responses=ANY_CREDENTIAL)
def list_api_versions(principal: Authenticated) -> Any:
    """The API's versions, their changes and sunsets (the deprecation cycle)"""
    items = [
        VersionOut(name=v.name, released=v.released, deprecated=v.deprecated, sunset=v.sunset, changes=list(v.changes))
        for v in VERSIONS.values()
    ]
    return VersionList(latest=LATEST, header=HEADER, items=items)
