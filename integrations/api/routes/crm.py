"""The CRM settings screen of seed 003: which objects the connected CRM has ("member object", "order object"),
which fields an object has (the two field-mapping dropdowns), and the mapping itself, checked against them.
Read live from the CRM's metadata, so it works while the integration is still a draft (credentials set, not yet
active)."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import Path, Query, Response
from pydantic import BaseModel, Field

from integrations.api.deps import ClockDep, IfMatch, LiveDep, Reader, Ref, TenantUrlsDep, Writer
from integrations.api.live import LiveAdapters
from integrations.api.problems import COMMON, CONDITIONAL, WRITE, P, Responses, problems
from integrations.api.routing import api_router
from integrations.crm_mapping import FieldMapping, check_mapping
from integrations.documents.ref import IntegrationRef
from integrations.service import patch_integration
from shared.errors import Conflict, NotFound

router = api_router(prefix="/api/v1/tenants/{tenant_id}/integrations/{integration_id}/crm", tags=["crm"])
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
    writable: bool = Field(True, description="False: computed or system-owned at the CRM; a mapping may not write it.")


class CrmObjects(BaseModel):
    items: list[CrmObjectOut]


class CrmFields(BaseModel):
    object: str
    items: list[CrmFieldOut]


def _crm(live: LiveAdapters, ref: IntegrationRef) -> tuple[Any, Any]:
    """The CRM integration's document and its adapter (one read of the document)."""
    document = live.integrations.get(ref).document
    adapter = live.adapter_for(document)
    if document.family != "crm" or not hasattr(adapter, "objects"):
        raise Conflict(f"{document.provider} ({document.family}) offers no CRM metadata.", reason="no_crm_metadata")
    return document, adapter


@router.get("/objects", response_model=CrmObjects, responses={**COMMON, **CRM})
def list_crm_objects(ref: Ref, principal: Reader, live: LiveDep) -> Any:
    """The CRM's objects (for the member and order object dropdowns)"""
    return CrmObjects(items=[CrmObjectOut(**vars(o)) for o in _crm(live, ref)[1].objects()])


@router.get(
    "/objects/{object_name}/fields",
    response_model=CrmFields,
    responses=problems(COMMON, CRM, own={422: "Invalid object name."}),
)
def list_crm_fields(ref: Ref, object_name: ObjectName, principal: Reader, live: LiveDep) -> Any:
    """An object's fields (for the field-mapping dropdowns)"""
    _, adapter = _crm(live, ref)
    try:
        found = adapter.fields(object_name)
    except LookupError as exc:
        raise NotFound(str(exc)) from None
    return CrmFields(object=object_name, items=[CrmFieldOut(**vars(f)) for f in found])


class FieldMappingResult(BaseModel):
    mapping: FieldMapping
    applied: bool = Field(description="False on a dry run: the mapping was only checked.")
    warnings: list[FieldWarning] = Field(
        description="Fields that are accepted but whose types do not agree (e.g. a date into a number field)."
    )


class FieldWarning(BaseModel):
    pointer: str
    message: str


FieldMappingResult.model_rebuild()


def _mapping_of(document: Any) -> FieldMapping:
    return FieldMapping.model_validate({k: getattr(document.config, k) for k in FieldMapping.model_fields})


@router.get("/field-mapping", response_model=FieldMapping, responses={**COMMON, **CRM})
def get_crm_field_mapping(ref: Ref, principal: Reader, live: LiveDep) -> Any:
    """The integration's field mapping (canonical member fields → CRM fields, objects and tags)"""
    document = live.integrations.get(ref).document
    if document.family != "crm":
        raise Conflict(f"{document.provider} ({document.family}) has no CRM field mapping.", reason="no_crm_metadata")
    return _mapping_of(document)


@router.put("/field-mapping", response_model=FieldMappingResult, responses={**WRITE, **CRM, **CONDITIONAL})
async def put_crm_field_mapping(
    ref: Ref,
    principal: Writer,
    live: LiveDep,
    clock: ClockDep,
    tenant_urls: TenantUrlsDep,
    body: FieldMapping,
    response: Response,
    if_match: IfMatch = None,
    dry_run: Annotated[bool, Query(description="Only check the mapping against the CRM.")] = False,
) -> Any:
    """Set the field mapping, checked against the CRM's live schema (unknown or read-only fields refused)"""

    def apply() -> Any:  # the CRM's metadata and storage: on a worker thread
        document, adapter = _crm(live, ref)
        warnings = check_mapping(body, adapter.objects, adapter.fields)
        if not dry_run:
            stored = patch_integration(
                ref,
                body.patch(document.config),
                repo=live.integrations,
                if_match=if_match,
                actor=principal.actor,
                now=clock,
                urls=tenant_urls,
            )
            response.headers["ETag"] = stored.etag
        return FieldMappingResult(
            mapping=body,
            applied=not dry_run,
            warnings=[FieldWarning(pointer=w.pointer, message=w.message) for w in warnings],
        )

    return await anyio.to_thread.run_sync(apply)
