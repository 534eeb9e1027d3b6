"""Every CloudEvent the hub emits for a tenant, delivered to each of its endpoints that wants it: signed per
Standard Webhooks, at least once, retried on a schedule, logged per endpoint, replayable.

- `publish(event)`: the platform's feed (`integration-events`) and one fan-out message (`event-fanout`).
- `fan_out(event)` (queue function): one delivery row and one message (`event-deliveries`) per wanting endpoint,
  so a slow or failing endpoint delays no other.
- `deliver(message)` (queue function): POST the event's exact bytes with `webhook-id` (the message id — the
  receiver's dedupe key), `webhook-timestamp` and `webhook-signature` (`v1,<sig>`, two during a rotation).
  A 2xx ends it. Anything else is re-queued with the next delay of RETRY_DELAYS_S (the message completes: the
  schedule is ours, not the queue's); after the last attempt the delivery is `exhausted`, and an endpoint whose
  deliveries are exhausted with no success since it was created or re-enabled is disabled, with an
  `endpoint.disabled` event (to the platform's feed and the tenant's other endpoints).

The schedule (after the first attempt): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — 8 attempts over about
27.6 h, Svix's. Rows: `PartitionKey = <tenant>|<endpoint>`, `RowKey = <message id>`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from adapters.webhook_verifiers.standard_webhooks import sign
from integrations.events import cloud_event
from integrations.events_out.endpoints import EndpointStatus, EventEndpoint, EventEndpoints
from shared.egress import EgressRefused
from shared.errors import Conflict, NotFound, PreconditionFailed
from shared.http import Call, OutboundClient, Policy
from shared.queues import Queues
from shared.redaction import REDACTOR
from shared.tables import Table

log = logging.getLogger("hub.events_out")
RETRY_DELAYS_S = (5, 300, 1800, 7200, 18000, 36000, 36000)
ATTEMPTS = len(RETRY_DELAYS_S) + 1
TIMEOUT_S = 15.0


class DeliveryState(StrEnum):
    pending = "pending"  # queued, or waiting for its next attempt
    succeeded = "succeeded"
    exhausted = "exhausted"  # every attempt failed


class Attempt(BaseModel):
    at: datetime
    status_code: int | None = Field(None, description="The endpoint's answer (none: no answer).")
    error: str = ""


class EventDelivery(BaseModel):
    message_id: str = Field(description="`webhook-id`: the same for every attempt and replay of this event.")
    endpoint_id: str
    tenant_id: str
    event_type: str
    state: DeliveryState
    attempts: list[Attempt] = Field(default_factory=list)
    next_attempt_at: datetime | None = None
    replays: int = Field(0, description="How often it was replayed (a replay starts a fresh schedule).")
    created_at: datetime
    event: dict[str, Any] = Field(description="The CloudEvent, as delivered.")


def message_id(event: dict[str, Any]) -> str:
    return "msg_" + hashlib.sha256(str(event.get("id", "")).encode()).hexdigest()[:24]


def tenant_of(event: dict[str, Any]) -> str | None:
    source = str(event.get("source", ""))  # /tenants/{tenant}/integrations/{integration}
    parts = source.split("/")
    return parts[2] if len(parts) > 2 and parts[1] == "tenants" else None


@dataclass(frozen=True)
class EventSender:
    endpoints: EventEndpoints
    log_table: Table
    queues: Queues
    outbound: OutboundClient
    events_queue: str  # the platform's feed
    fanout_queue: str
    deliveries_queue: str
    now: Callable[[], datetime]
    ca_bundle: str | None = None

    # --- emitting -------------------------------------------------------------------------------------------
    def publish(self, event: dict[str, Any]) -> None:
        self.queues.send(self.events_queue, event)
        if tenant_of(event):
            self.queues.send(self.fanout_queue, {"event": event})

    def fan_out(self, message: dict[str, Any]) -> int:
        event = message["event"]
        tenant = tenant_of(event)
        if tenant is None:
            return 0
        count = 0
        for endpoint in self.endpoints.of_tenant(tenant):
            if endpoint.status == EndpointStatus.enabled and endpoint.wants(str(event.get("type", ""))):
                self._queue_new(endpoint, event)
                count += 1
        return count

    def _queue_new(self, endpoint: EventEndpoint, event: dict[str, Any]) -> None:
        delivery = EventDelivery(
            message_id=message_id(event),
            endpoint_id=endpoint.id,
            tenant_id=endpoint.tenant_id,
            event_type=str(event.get("type", "")),
            state=DeliveryState.pending,
            created_at=self.now(),
            event=event,
        )
        try:
            self.log_table.insert(self._entity(delivery))
        except Conflict:
            return  # fanned out before (the fan-out message came twice): that delivery is under way
        self._enqueue(delivery, delay_s=0)

    @staticmethod
    def _entity(delivery: EventDelivery) -> dict[str, Any]:
        return {
            "PartitionKey": f"{delivery.tenant_id}|{delivery.endpoint_id}",
            "RowKey": delivery.message_id,
            "State": delivery.state.value,
            "CreatedAt": delivery.created_at,
            "Body": delivery.model_dump_json(),
        }

    def _enqueue(self, delivery: EventDelivery, *, delay_s: int) -> None:
        message = {
            "tenant_id": delivery.tenant_id,
            "endpoint_id": delivery.endpoint_id,
            "message_id": delivery.message_id,
            # Which attempt of which schedule this message is: a replay's fresh schedule ignores the old one's.
            "attempt": len(delivery.attempts),
            "replays": delivery.replays,
        }
        self.queues.send(self.deliveries_queue, message, delay_s=delay_s)

    # --- delivering -----------------------------------------------------------------------------------------
    def _load(self, tenant_id: str, endpoint_id: str, msg: str) -> tuple[EventDelivery, str]:
        found = self.log_table.find(f"{tenant_id}|{endpoint_id}", msg)
        if found is None:
            raise NotFound(f"No delivery {msg} to endpoint {endpoint_id}.")
        return EventDelivery.model_validate_json(found[0]["Body"]), found[1]

    def deliver(self, message: dict[str, Any]) -> DeliveryState:
        tenant, endpoint_id, msg = message["tenant_id"], message["endpoint_id"], message["message_id"]
        delivery, etag = self._load(tenant, endpoint_id, msg)
        if delivery.state != DeliveryState.pending:
            return delivery.state  # a duplicate message: already settled
        if (message.get("attempt", 0), message.get("replays", 0)) != (len(delivery.attempts), delivery.replays):
            return delivery.state  # a message of an attempt already made, or of a schedule a replay replaced
        try:
            endpoint = self.endpoints.get(tenant, endpoint_id)
        except NotFound:
            return delivery.state  # the endpoint was deleted: nothing to send to
        if endpoint.status != EndpointStatus.enabled:
            return delivery.state  # kept pending: a replay after re-enabling sends it
        attempt = self._attempt(endpoint, delivery)
        delivery.attempts.append(attempt)
        succeeded = attempt.status_code is not None and 200 <= attempt.status_code < 300
        if succeeded:
            delivery.state, delivery.next_attempt_at = DeliveryState.succeeded, None
        elif len(delivery.attempts) >= ATTEMPTS:
            delivery.state, delivery.next_attempt_at = DeliveryState.exhausted, None
        else:
            delay = RETRY_DELAYS_S[len(delivery.attempts) - 1]
            delivery.next_attempt_at = attempt.at + timedelta(seconds=delay)
        try:
            self.log_table.replace(self._entity(delivery), etag=etag)
        except PreconditionFailed:
            return delivery.state  # a replay took it over meanwhile; it schedules its own attempts
        if delivery.state == DeliveryState.pending and delivery.next_attempt_at is not None:
            self._enqueue(delivery, delay_s=RETRY_DELAYS_S[len(delivery.attempts) - 1])
        if delivery.state == DeliveryState.exhausted:
            self._maybe_disable(endpoint)
        return delivery.state

    def _attempt(self, endpoint: EventEndpoint, delivery: EventDelivery) -> Attempt:
        at = self.now()
        body = json.dumps(delivery.event, separators=(",", ":")).encode()
        timestamp = int(at.timestamp())
        signatures = " ".join(
            sign(s, delivery.message_id, timestamp, body) for s in self.endpoints.signing_secrets(endpoint)
        )
        headers = {
            "Content-Type": "application/json",
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signatures,
        }
        try:
            self.outbound.egress.check_static(endpoint.url, schemes=("https",))
            response = self.outbound.send(
                Call(
                    "POST",
                    endpoint.url,
                    headers=headers,
                    data=body,
                    timeout_s=TIMEOUT_S,
                    verify=self.ca_bundle or True,
                    expect=frozenset(range(300, 600)),
                ),
                Policy(provider="event-endpoint", max_attempts=1),
            )
            return Attempt(at=at, status_code=response.status_code)
        except EgressRefused as exc:
            return Attempt(at=at, error=f"refused by the egress policy: {exc}")
        except Exception as exc:  # noqa: BLE001 - a failing receiver is recorded, never raised into the queue
            return Attempt(at=at, error=REDACTOR.excerpt(f"{type(exc).__name__}: {exc}", 300))

    def _maybe_disable(self, endpoint: EventEndpoint) -> None:
        """Sustained failure: no delivery succeeded since the endpoint was created or re-enabled."""
        since = endpoint.disabled_at or endpoint.created_at
        rows = self.log_table.query(
            "PartitionKey eq @pk and State eq 'succeeded'", parameters={"pk": f"{endpoint.tenant_id}|{endpoint.id}"}
        )
        if any(EventDelivery.model_validate_json(r["Body"]).created_at >= since for r in rows):
            return
        reason = f"every attempt of a delivery failed over {sum(RETRY_DELAYS_S) / 3600:.1f} h and none succeeded"
        disabled = self.endpoints.set_status(endpoint.tenant_id, endpoint.id, EndpointStatus.disabled, reason)
        log.warning("event endpoint %s of %s disabled: %s", endpoint.id, endpoint.tenant_id, reason)
        self.publish(
            cloud_event(
                "endpoint.disabled",
                id=f"endpoint-disabled:{endpoint.id}:{disabled.disabled_at.isoformat() if disabled.disabled_at else ''}",
                tenant_id=endpoint.tenant_id,
                integration_id="-",
                subject=f"event-endpoints/{endpoint.id}",
                data={"endpoint_id": endpoint.id, "url": endpoint.url, "reason": reason},
            )
        )

    # --- the log and replays --------------------------------------------------------------------------------
    def log(self, tenant_id: str, endpoint_id: str, *, state: DeliveryState | None = None) -> list[EventDelivery]:
        flt, params = "PartitionKey eq @pk", {"pk": f"{tenant_id}|{endpoint_id}"}
        if state is not None:
            flt += " and State eq @state"
            params["state"] = state.value
        items = [EventDelivery.model_validate_json(r["Body"]) for r in self.log_table.query(flt, parameters=params)]
        return sorted(items, key=lambda d: d.created_at)

    def replay(self, tenant_id: str, endpoint_id: str, msg: str) -> EventDelivery:
        """Send one delivery again: a fresh schedule of attempts, the same `webhook-id` (receivers dedupe)."""
        self.endpoints.get(tenant_id, endpoint_id)
        delivery, etag = self._load(tenant_id, endpoint_id, msg)
        delivery.state, delivery.attempts, delivery.next_attempt_at = DeliveryState.pending, [], None
        delivery.replays += 1
        try:
            self.log_table.replace(self._entity(delivery), etag=etag)
        except PreconditionFailed:
            raise Conflict(f"Delivery {msg} changed meanwhile; retry.") from None
        self._enqueue(delivery, delay_s=0)
        return delivery

    def replay_since(self, tenant_id: str, endpoint_id: str, since: datetime) -> int:
        """Every delivery to the endpoint created at or after `since`, sent again."""
        count = 0
        for delivery in self.log(tenant_id, endpoint_id):
            if delivery.created_at >= since:
                self.replay(tenant_id, endpoint_id, delivery.message_id)
                count += 1
        return count
