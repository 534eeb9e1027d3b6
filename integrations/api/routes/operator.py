"""The hub operator's API: a tenant's API plan, read and changed (each change in that tenant's audit trail).
Only keys of the operator's own tenant (`hub-operator`, issued by `python -m tools.cli create-operator-key`)
with `operator:plans` get here; a federation's keys cannot hold that scope."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Path
from pydantic import BaseModel, Field

from integrations.api.body import Body
from integrations.api.deps import TenantPlansDep, require
from integrations.api.problems import COMMON, WRITE
from integrations.api.routing import api_router
from integrations.auth.principal import Principal, Scope
from integrations.secret_names import OPERATOR_TENANT, TENANT_PATTERN
from shared.errors import Forbidden

router = api_router(prefix="/api/v1/operator", tags=["operator"])

# The path names the tenant `tenant`, not `tenant_id`: the operator's key belongs to its own tenant, and the
# tenant check of `require` is for paths of the caller's own tenant.
Tenant = Annotated[str, Path(pattern=TENANT_PATTERN, max_length=64, description="The tenant whose plan it is.")]
PlanName = Literal["free", "standard", "dedicated"]


async def _operator(principal: Annotated[Principal, Depends(require(Scope.operator_plans))]) -> Principal:
    if principal.tenant_id != OPERATOR_TENANT:
        raise Forbidden("Only the hub operator's keys change plans.")
    return principal


Operator = Annotated[Principal, Depends(_operator)]


class PlanOut(BaseModel):
    tenant_id: str
    plan: PlanName


class PlanChange(Body):
    plan: PlanName = Field(description="Sizes the tenant's rate-limit buckets and its daily and monthly quota.")


@router.get("/plans/{tenant}", response_model=PlanOut, responses=COMMON)
def get_tenant_plan(tenant: Tenant, principal: Operator, plans: TenantPlansDep) -> Any:
    """A tenant's API plan"""
    return PlanOut.model_validate({"tenant_id": tenant, "plan": plans.plan_of(tenant)})


@router.put("/plans/{tenant}", response_model=PlanOut, responses=WRITE)
def set_tenant_plan(tenant: Tenant, principal: Operator, plans: TenantPlansDep, body: PlanChange) -> Any:
    """Change a tenant's API plan (in effect on every instance within 20 s; audited in its trail)"""
    plans.set(tenant, body.plan, actor=principal.actor)
    return PlanOut(tenant_id=tenant, plan=body.plan)
