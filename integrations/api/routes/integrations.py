"""/api/v1/tenants/{tenant_id}/integrations: CRUD and lifecycle of integration documents."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import Body, Query, Request, Response
from pydantic import BaseModel

from integrations.api.deps import (
    Admin,
    ClockDep,
    IfMatch,
    IntegrationsDep,
    Reader,
    Ref,
    SchedulesDep,
    SubscriptionsDep,
    TenantId,
    TenantUrlsDep,
    ValidatorDep,
    Writer,
)
from integrations.api.paging import Page
from integrations.api.problems import COMMON, CONDITIONAL, PAGED, WRITE
from integrations.api.routing import api_router
from integrations.documents.common import LifecycleStatus
from integrations.documents.document import Integration, ValidationResult
from integrations.documents.families import FamilyName, IntegrationCreate
from integrations.documents.lifecycle import Transition
from integrations.repository import IntegrationRepository, ListFilter, Stored
from integrations.service import create_integration, list_integrations, patch_integration, transition_integration
from integrations.sync.registry import follow_reporting_schedule
from integrations.sync.schedules import Schedules
from integrations.validation import validate_integration
from integrations.webhooks.subscriptions import ChangeSubscriptions

router = api_router(prefix="/api/v1/tenants/{tenant_id}/integrations", tags=["integrations"])


class IntegrationPage(Page[Integration]): ...


class ValidationResponse(BaseModel):
    result: ValidationResult
    integration: Integration


def _respond(response: Response, stored: Stored) -> Any:
    response.headers["ETag"] = stored.etag
    return stored.document


EXAMPLE = {
    "family": "accounting",
    "provider": "fortnox",
    "display_name": "Fortnox (finance)",
    "sandbox": True,
    "oauth_client_id": "the-federations-fortnox-app-client-id",
    "config": {
        "fiscal_year": {"year": 2026, "start_month": 1},
        "sync_direction": "push",
        "chart_of_accounts": {"license_fees": "3010", "tournament_fees": "3020"},
    },
}


@router.post("", status_code=201, operation_id="createIntegration", response_model=Integration, responses=WRITE)
def create(
    tenant_id: TenantId,
    principal: Writer,
    integrations: IntegrationsDep,
    clock: ClockDep,
    tenant_urls: TenantUrlsDep,
    request: Request,
    response: Response,
    body: Annotated[IntegrationCreate, Body(examples=[EXAMPLE])],
) -> Any:
    # FastAPI validated the shape for the docs; the service validates again with tenant rules (secret namespace).
    """Create an integration (in draft)"""
    stored = create_integration(
        tenant_id,
        body.model_dump(mode="json"),
        repo=integrations,
        actor=principal.actor,
        now=clock,
        urls=tenant_urls,
    )
    response.headers["Location"] = f"{request.url.path}/{stored.document.id}"
    return _respond(response, stored)


@router.get(
    "",
    operation_id="listIntegrations",
    response_model=IntegrationPage,
    responses=PAGED,
)
def list_(
    tenant_id: TenantId,
    principal: Reader,
    integrations: IntegrationsDep,
    family: Annotated[FamilyName | None, Query(description="Only this family.")] = None,
    provider: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{0,40}$")] = None,
    status: Annotated[LifecycleStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    continuation: Annotated[str | None, Query(max_length=2000)] = None,
) -> Any:
    """List integrations"""
    items, nxt = list_integrations(
        tenant_id,
        ListFilter(family, provider, status.value if status else None),
        repo=integrations,
        size=limit,
        continuation=continuation,
    )
    return IntegrationPage(items=items, next=nxt)


@router.get("/{integration_id}", response_model=Integration, responses=COMMON)
def get_integration(ref: Ref, principal: Reader, integrations: IntegrationsDep) -> Any:
    """Read one integration"""
    stored = integrations.get(ref)
    # Read means validated (`from_entity`): serialised as it is, without FastAPI validating it against the
    # family union a second time (a sixth of this route's CPU on the most frequent call).
    body = stored.document.model_dump_json()
    return Response(body, media_type="application/json", headers={"ETag": stored.etag})


@router.patch(
    "/{integration_id}",
    operation_id="patchIntegration",
    response_model=Integration,
    responses={**WRITE, **CONDITIONAL},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/merge-patch+json": {
                    "schema": {"type": "object", "additionalProperties": True},
                    "example": {"config": {"chart_of_accounts": {"tournament_fees": "3021"}}},
                }
            },
        }
    },
)
async def patch(
    ref: Ref,
    principal: Writer,
    integrations: IntegrationsDep,
    clock: ClockDep,
    tenant_urls: TenantUrlsDep,
    schedules: SchedulesDep,
    subscriptions: SubscriptionsDep,
    request: Request,
    response: Response,
    if_match: IfMatch = None,
) -> Any:
    """Change an integration (JSON Merge Patch, RFC 7396)"""
    from integrations.api.body import read_json

    body = await read_json(request)

    def apply() -> Any:  # storage I/O: on a worker thread, never on the event loop
        stored = patch_integration(
            ref,
            body,
            repo=integrations,
            if_match=if_match,
            actor=principal.actor,
            now=clock,
            urls=tenant_urls,
        )
        return _respond(response, _follow(stored, schedules, subscriptions, integrations))

    return await anyio.to_thread.run_sync(apply)


@router.post(
    "/{integration_id}:validate",
    operation_id="validateIntegration",
    response_model=ValidationResponse,
    responses={**COMMON, 409: CONDITIONAL[409]},
)
def validate(
    ref: Ref, principal: Writer, integrations: IntegrationsDep, clock: ClockDep, validator: ValidatorDep, response: Response
) -> Any:
    """Validate the current configuration (exercises credentials against the sandbox)"""
    stored, result = validate_integration(ref, repo=integrations, validator=validator, actor=principal.actor, now=clock)
    response.headers["ETag"] = stored.etag
    return ValidationResponse(result=result, integration=stored.document)


def _follow(
    stored: Stored, schedules: Schedules, subscriptions: ChangeSubscriptions, integrations: IntegrationRepository
) -> Stored:
    """What follows a document's state after every write: its reporting schedule, and its change subscription
    at the provider (a failure is recorded on the subscription, never raised: the write happened). Making a
    webhook secret for the subscription changes the document, so the latest version is answered."""
    follow_reporting_schedule(schedules, stored.document)
    if subscriptions.follow(stored.document) is not None:
        return integrations.get(stored.document.ref)
    return stored


def _transition_route(
    transition: Transition, summary: str, *, method: str = "POST", path: str | None = None, operation_id: str | None = None
) -> None:
    def handler(
        ref: Ref,
        principal: Admin,
        integrations: IntegrationsDep,
        clock: ClockDep,
        schedules: SchedulesDep,
        subscriptions: SubscriptionsDep,
        response: Response,
        if_match: IfMatch = None,
    ) -> Any:
        stored = transition_integration(
            ref,
            transition,
            repo=integrations,
            if_match=if_match,
            actor=principal.actor,
            now=clock,
        )
        return _respond(response, _follow(stored, schedules, subscriptions, integrations))

    router.add_api_route(
        path or f"/{{integration_id}}:{transition.value}",
        handler,
        methods=[method],
        operation_id=operation_id or f"{transition.value}Integration",
        summary=summary,
        response_model=Integration,
        responses={**COMMON, **CONDITIONAL},
    )


_transition_route(
    Transition.decommission,
    "Decommission an integration (idempotent; the document stays, read-only)",
    method="DELETE",
    path="/{integration_id}",
    operation_id="decommissionIntegration",
)
_transition_route(Transition.activate, "Activate (needs a passing validation of the current configuration)")
_transition_route(Transition.pause, "Pause an active integration")
_transition_route(Transition.resume, "Resume a paused integration (needs a passing validation)")
