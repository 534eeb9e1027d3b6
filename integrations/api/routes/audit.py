"""The tenant's audit trail (secret access, OAuth grants, lifecycle, settings), newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, Field

from integrations.api.deps import AuditDep, Auditor, TenantId
from integrations.api.problems import PAGED
from integrations.api.routing import api_router

router = api_router()


class AuditEventOut(BaseModel):
    id: str
    at: datetime
    actor: str
    action: str = Field(
        description="secret.write, secret.read, secret.rotate, secret.disable, oauth.start, oauth.grant, oauth.refresh, …"
    )
    integration_id: str | None
    target: dict[str, Any]
    outcome: str
    reason: str


class AuditPage(BaseModel):
    items: list[AuditEventOut]
    next: str | None = None


@router.get(
    "/api/v1/tenants/{tenant_id}/audit",
    tags=["audit"],
    response_model=AuditPage,
    responses=PAGED,
)
def list_audit_events(
    tenant_id: TenantId,
    principal: Auditor,
    log: AuditDep,
    action: Annotated[str | None, Query(pattern=r"^[a-z_.]{3,40}$")] = None,
    integration_id: Annotated[str | None, Query(pattern=r"^int_[0-9a-f]{24}$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    continuation: Annotated[str | None, Query(max_length=2000)] = None,
) -> Any:
    """The tenant's audit trail, newest first"""
    events, nxt = log.query(tenant_id, action=action, integration_id=integration_id, size=limit, continuation=continuation)
    return AuditPage(
        items=[AuditEventOut(**{k: getattr(e, k) for k in AuditEventOut.model_fields}) for e in events], next=nxt
    )
