"""The CRM settings screen of seed 003: which objects the connected CRM has ("member object", "order object")
and which fields an object has (the two field-mapping dropdowns). Read live from the CRM's metadata, so it
works while the integration is still a draft (credentials set, not yet active)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel

from integrations.api.deps import IntegrationId, LiveDep, Reader, TenantId
from integrations.api.live import LiveAdapters
from integrations.api.problems import COMMON, P, Responses
from shared.errors import Conflict, NotFound

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/integrations/{integration_id}/crm", tags=["crm"])
ObjectName = Annotated[str, Path(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,99}$", description="A CRM object's name.")]
CRM: Responses = {
    409: {**P, "description": "Not a CRM integration with a metadata-capable adapter."},
    502: {**P, "description": "The CRM refused or failed (detail names its answer)."},
}


class CrmObjectOut(BaseModel):
    name: str
    label: str


class CrmFieldOut(BaseModel):
    name: str
    label: str
    type: str


class CrmObjects(BaseModel):
    items: list[CrmObjectOut]


class CrmFields(BaseModel):
    object: str
    items: list[CrmFieldOut]


def _adapter(live: LiveAdapters, tenant_id: str, integration_id: str) -> Any:
    document = live.integrations.get(tenant_id, integration_id).document
    adapter = live.adapter_for(document)
    if document.family != "crm" or not hasattr(adapter, "objects"):
        raise Conflict(f"{document.provider} ({document.family}) offers no CRM metadata.", reason="no_crm_metadata")
    return adapter


@router.get(
    "/objects",
    operation_id="listCrmObjects",
    summary="The CRM's objects (for the member and order object dropdowns)",
    response_model=CrmObjects,
    responses={**COMMON, **CRM},
)
def objects(tenant_id: TenantId, integration_id: IntegrationId, principal: Reader, live: LiveDep) -> Any:
    return CrmObjects(items=[CrmObjectOut(**vars(o)) for o in _adapter(live, tenant_id, integration_id).objects()])


@router.get(
    "/objects/{object_name}/fields",
    operation_id="listCrmFields",
    summary="An object's fields (for the field-mapping dropdowns)",
    response_model=CrmFields,
    responses={**COMMON, **CRM, 422: {**P, "description": "Invalid object name."}},
)
def fields(
    tenant_id: TenantId, integration_id: IntegrationId, object_name: ObjectName, principal: Reader, live: LiveDep
) -> Any:
    adapter = _adapter(live, tenant_id, integration_id)
    try:
        found = adapter.fields(object_name)
    except LookupError as exc:
        raise NotFound(str(exc)) from None
    return CrmFields(object=object_name, items=[CrmFieldOut(**vars(f)) for f in found])
