"""The provider catalog, as the portal's wizard reads it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from adapters.spec import ProviderSpec
from integrations.api.deps import Authenticated, CatalogDep
from integrations.api.problems import COMMON
from shared.errors import NotFound

router = APIRouter()


@router.get(
    "/api/v1/providers",
    tags=["providers"],
    operation_id="listProviders",
    summary="The provider catalog (what the portal's wizard offers)",
    response_model=list[ProviderSpec],
    responses={401: COMMON[401], 429: COMMON[429]},
)
def providers(
    principal: Authenticated, catalog: CatalogDep, family: Annotated[str | None, Query(max_length=40)] = None
) -> Any:
    return [s for s in catalog.all() if family is None or family in s.families]


@router.get(
    "/api/v1/providers/{provider_id}",
    tags=["providers"],
    operation_id="getProvider",
    summary="One provider's catalog entry",
    response_model=ProviderSpec,
    responses={401: COMMON[401], 404: COMMON[404], 429: COMMON[429]},
)
def provider(provider_id: str, principal: Authenticated, catalog: CatalogDep) -> Any:
    try:
        return catalog.get(provider_id)
    except NotFound:
        raise NotFound(f"Unknown provider {provider_id!r}.") from None
