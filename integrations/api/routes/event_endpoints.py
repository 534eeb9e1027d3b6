"""A tenant's event endpoints: where the hub sends every event it emits for the tenant, signed per Standard
Webhooks (`integrations/events_out/`).

| operationId                  | method | path                                                          |
|------------------------------|--------|---------------------------------------------------------------|
| createEventEndpoint          | POST   | /api/v1/tenants/{t}/event-endpoints (the secret: shown once)  |
| listEventEndpoints           | GET    | /api/v1/tenants/{t}/event-endpoints                           |
| deleteEventEndpoint          | DELETE | …/event-endpoints/{id}                                        |
| rotateEventEndpointSecret    | POST   | …/event-endpoints/{id}:rotate-secret (overlap_seconds)        |
| enableEventEndpoint          | POST   | …/event-endpoints/{id}:enable                                 |
| listEventDeliveries          | GET    | …/event-endpoints/{id}/deliveries?state=exhausted             |
| replayEventDelivery          | POST   | …/event-endpoints/{id}/deliveries/{message_id}:replay         |
| replayEventDeliveriesSince   | POST   | …/event-endpoints/{id}:replay {"since": …}                    |
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Path, Query, Response
from pydantic import BaseModel, Field

from integrations.api.body import Body
from integrations.api.deps import Admin, EgressDep, EndpointsDep, Reader, SenderDep, TenantId
from integrations.api.problems import COMMON, WRITE, problems
from integrations.api.routing import api_router
from integrations.events_out.delivery import DeliveryState, EventDelivery
from integrations.events_out.endpoints import EndpointStatus, EventEndpoint
from shared.egress import EgressPolicy, EgressRefused
from shared.errors import FieldError, ValidationFailed

router = api_router(prefix="/api/v1/tenants/{tenant_id}/event-endpoints", tags=["events"])
EndpointId = Annotated[str, Path(pattern=r"^ep_[0-9a-f]{24}$", description="Event endpoint id.")]
MessageId = Annotated[str, Path(pattern=r"^msg_[0-9a-f]{24}$", description="A delivery's `webhook-id`.")]
EVENT_TYPE = r"^[a-z_*]+(\.[a-z_*]+)*$"


class EndpointIn(Body):
    url: str = Field(max_length=2000, description="HTTPS, a public address (the egress policy applies).")
    event_types: list[Annotated[str, Field(pattern=EVENT_TYPE, max_length=100)]] = Field(
        default_factory=list, max_length=50, description="`payment.succeeded`, `sync.*`…; empty: every event."
    )
    description: str = Field("", max_length=500)


class EndpointCreated(BaseModel):
    endpoint: EventEndpoint
    secret: str = Field(description="The signing secret (`whsec_…`): shown this once, never again.")


class RotateIn(Body):
    overlap_seconds: int = Field(86400, ge=0, le=7 * 86400, description="How long the old secret keeps signing too.")


class ReplayIn(Body):
    since: datetime = Field(description="Replay every delivery to this endpoint created at or after this time.")


class Replayed(BaseModel):
    replayed: int


def _checked_url(egress: EgressPolicy, url: str) -> str:
    try:
        egress.check_static(url, schemes=("https",))
    except EgressRefused as exc:
        raise ValidationFailed("The endpoint URL is not allowed.", [FieldError("/url", str(exc))]) from None
    return url


@router.post("", status_code=201, response_model=EndpointCreated, responses=WRITE)
def create_event_endpoint(
    tenant_id: TenantId, principal: Admin, endpoints: EndpointsDep, egress: EgressDep, body: EndpointIn
) -> Any:
    """Register an endpoint for the tenant's events (its signing secret is in this response only)"""
    endpoint, secret = endpoints.create(tenant_id, _checked_url(egress, body.url), body.event_types, body.description)
    return EndpointCreated(endpoint=endpoint, secret=secret)


class EndpointList(BaseModel):
    items: list[EventEndpoint]


@router.get("", response_model=EndpointList, responses=COMMON)
def list_event_endpoints(tenant_id: TenantId, principal: Reader, endpoints: EndpointsDep) -> Any:
    """The tenant's event endpoints"""
    return EndpointList(items=endpoints.of_tenant(tenant_id))


@router.delete("/{endpoint_id}", status_code=204, responses=COMMON)
def delete_event_endpoint(
    tenant_id: TenantId, endpoint_id: EndpointId, principal: Admin, endpoints: EndpointsDep
) -> Response:
    """Remove an endpoint"""
    endpoints.delete(tenant_id, endpoint_id)
    return Response(status_code=204)


@router.post("/{endpoint_id}:rotate-secret", response_model=EndpointCreated, responses=WRITE)
def rotate_event_endpoint_secret(
    tenant_id: TenantId, endpoint_id: EndpointId, principal: Admin, endpoints: EndpointsDep, body: RotateIn
) -> Any:
    """A new signing secret (shown once); the old one keeps signing beside it for the overlap"""
    endpoint, secret = endpoints.rotate(tenant_id, endpoint_id, timedelta(seconds=body.overlap_seconds))
    return EndpointCreated(endpoint=endpoint, secret=secret)


@router.post("/{endpoint_id}:enable", response_model=EventEndpoint, responses=COMMON)
def enable_event_endpoint(tenant_id: TenantId, endpoint_id: EndpointId, principal: Admin, endpoints: EndpointsDep) -> Any:
    """Re-enable an endpoint the hub disabled after sustained failure"""
    return endpoints.set_status(tenant_id, endpoint_id, EndpointStatus.enabled, None)


class DeliveryList(BaseModel):
    items: list[EventDelivery]


@router.get(
    "/{endpoint_id}/deliveries",
    response_model=DeliveryList,
    responses=problems(COMMON, own={422: "Invalid query parameter."}),
)
def list_event_deliveries(
    tenant_id: TenantId,
    endpoint_id: EndpointId,
    principal: Reader,
    endpoints: EndpointsDep,
    sender: SenderDep,
    state: Annotated[DeliveryState | None, Query(description="Only deliveries in this state.")] = None,
) -> Any:
    """The endpoint's delivery log: each event, its attempts and their answers"""
    endpoints.get(tenant_id, endpoint_id)
    return DeliveryList(items=sender.log(tenant_id, endpoint_id, state=state))


@router.post(
    "/{endpoint_id}/deliveries/{message_id}:replay",
    status_code=202,
    response_model=EventDelivery,
    responses=problems(WRITE, own={409: "The delivery changed meanwhile."}),
)
def replay_event_delivery(
    tenant_id: TenantId, endpoint_id: EndpointId, message_id: MessageId, principal: Admin, sender: SenderDep
) -> Any:
    """Send one event to the endpoint again (a fresh schedule of attempts, the same webhook-id)"""
    return sender.replay(tenant_id, endpoint_id, message_id)


@router.post("/{endpoint_id}:replay", status_code=202, response_model=Replayed, responses=WRITE)
def replay_event_deliveries_since(
    tenant_id: TenantId, endpoint_id: EndpointId, principal: Admin, sender: SenderDep, body: ReplayIn
) -> Any:
    """Send every event delivered to the endpoint since a time again"""
    return Replayed(replayed=sender.replay_since(tenant_id, endpoint_id, body.since))
