"""Provider webhooks: the public receivers (no API key: the signature authenticates the sender) and, for the
tenant, the deliveries they stored — listed with their processing outcome, a failed one replayed.

| operationId                | method | path                                                            |
|----------------------------|--------|-----------------------------------------------------------------|
| receiveWebhook             | POST   | /api/v1/webhooks/{provider}/{integration_id}                    |
| answerWebhookChallenge     | GET    | /api/v1/webhooks/{provider}/{integration_id} (Meta, X handshakes)|
| getWebhookSubscription     | GET    | …/integrations/{id}/webhook-subscription                        |
| listWebhookDeliveries      | GET    | …/integrations/{id}/webhook-deliveries?status=failed            |
| replayWebhookDelivery      | POST   | …/integrations/{id}/webhook-deliveries/{delivery_id}:replay     |
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import Path, Query, Request
from fastapi.responses import Response

from integrations.api.deps import (
    DeliveriesDep,
    IntegrationsDep,
    QueuesDep,
    Reader,
    ReceiverDep,
    Ref,
    Runner,
    SettingsDep,
    SubscriptionsDep,
)
from integrations.api.paging import Page
from integrations.api.problems import COMMON, PAGED, WRITE, P, Responses, problem, problems
from integrations.api.routing import api_router
from integrations.webhooks.deliveries import DeliveryStatus, WebhookDelivery
from integrations.webhooks.receiver import Inbound, Unverified
from integrations.webhooks.subscriptions import ChangeSubscription
from shared.errors import NotFound

receivers = api_router(prefix="/api/v1/webhooks", tags=["webhooks"])
router = api_router(prefix="/api/v1/tenants/{tenant_id}/integrations/{integration_id}", tags=["webhooks"])

Provider = Annotated[str, Path(max_length=40, description="The provider's catalog id (stripe, xero, twilio…).")]
# Any id up to 64 characters: a malformed one is a 404 like an unknown one (the receiver says nothing more).
ReceiverIntegration = Annotated[str, Path(max_length=64, description="The integration the provider was given.")]
DeliveryId = Annotated[str, Path(pattern=r"^whd_[0-9a-f]{32}$", description="A stored delivery's id.")]

RECEIVER_RESPONSES: Responses = {
    200: {"description": "Stored and queued (or a handshake answered, or a paused integration's delivery dropped)."},
    401: {**P, "description": "The signature (or token) does not verify (Xero's intent-to-receive: an empty body)."},
    404: {**P, "description": "No receiver at this URL."},
    410: {"description": "The integration is decommissioned: stop sending."},
    413: {**P, "description": "The body is over the provider's limit."},
    422: {**P, "description": "A path segment is too long."},
    429: {**P, "description": "Too many deliveries for this integration; the provider retries."},
    503: {**P, "description": "Storage is unavailable: nothing was stored, the provider retries."},
}


async def receive_webhook(
    request: Request,
    provider: Provider,
    integration_id: ReceiverIntegration,
    receiver: ReceiverDep,
    settings: SettingsDep,
) -> Response:
    body = await request.body()  # the exact bytes the sender signed (the edge has bounded them)
    base = settings.public_base_url.rstrip("/")
    query = request.url.query
    inbound = Inbound(
        provider=provider,
        integration_id=integration_id,
        method=request.method,
        # The URL the provider was given (and signed, for Twilio): the public base, not the host we were reached on.
        url=f"{base}{request.url.path}" + (f"?{query}" if query else ""),
        headers=dict(request.headers),
        query=dict(request.query_params),
        body=body,
    )
    try:
        reply = await anyio.to_thread.run_sync(receiver.receive, inbound)
    except Unverified as exc:
        if exc.empty:
            return Response(status_code=exc.status)
        detail = "The delivery's signature does not verify."
        return problem(exc.status, detail, instance=request.url.path, slug="webhook-unverified", title="Unauthorized")
    return Response(reply.body, status_code=reply.status, media_type=reply.media_type)


# One receiver for both methods: a delivery is a POST; Meta's hub.challenge and X's CRC check are GETs.
receivers.add_api_route(
    "/{provider}/{integration_id}",
    receive_webhook,
    methods=["POST"],
    operation_id="receiveWebhook",
    summary="A provider's webhook delivery (authenticated by its signature; stored, then processed from a queue)",
    responses=RECEIVER_RESPONSES,
    openapi_extra={
        "requestBody": {
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The provider's payload, as it sends it.",
        }
    },
)
receivers.add_api_route(
    "/{provider}/{integration_id}",
    receive_webhook,
    methods=["GET"],
    operation_id="answerWebhookChallenge",
    summary="A provider's subscription check (Meta's hub.challenge, X's crc_token)",
    responses=RECEIVER_RESPONSES,
)


@router.get("/webhook-subscription", response_model=ChangeSubscription, responses=COMMON)
def get_webhook_subscription(
    ref: Ref, principal: Reader, integrations: IntegrationsDep, subscriptions: SubscriptionsDep
) -> Any:
    """The change subscription the hub keeps at the provider (calendars that pull: Google channel, Graph)"""
    integrations.get(ref)
    found = subscriptions.get(ref)
    if found is None:
        raise NotFound("This integration has no change subscription (not an active calendar that pulls events).")
    return found


class DeliveryPage(Page[WebhookDelivery]): ...


@router.get("/webhook-deliveries", response_model=DeliveryPage, responses=PAGED)
def list_webhook_deliveries(
    ref: Ref,
    principal: Reader,
    integrations: IntegrationsDep,
    deliveries: DeliveriesDep,
    status: Annotated[
        DeliveryStatus | None, Query(description="Only deliveries in this state (failed: dead letters).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    continuation: Annotated[str | None, Query(max_length=2000)] = None,
) -> Any:
    """Provider deliveries this integration received, with what processing made of them"""
    integrations.get(ref)
    items, nxt = deliveries.list(ref, status=status, size=limit, continuation=continuation)
    return DeliveryPage(items=items, next=nxt)


@router.post(
    "/webhook-deliveries/{delivery_id}:replay",
    status_code=202,
    response_model=WebhookDelivery,
    responses=problems(WRITE, own={409: "The delivery is not failed, or a replay of it is under way."}),
)
def replay_webhook_delivery(
    ref: Ref,
    delivery_id: DeliveryId,
    principal: Runner,
    integrations: IntegrationsDep,
    deliveries: DeliveriesDep,
    queues: QueuesDep,
    settings: SettingsDep,
) -> Any:
    """Process a failed delivery again (once: a second replay is a 409)"""
    integrations.get(ref)
    delivery = deliveries.claim_replay(ref, delivery_id)
    message = {"tenant_id": ref.tenant_id, "integration_id": ref.integration_id, "delivery_id": delivery.id}
    queues.send(settings.queue_webhook_deliveries, message)
    return delivery
