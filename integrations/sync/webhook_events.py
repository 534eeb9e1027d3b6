"""processWebhookEvent (seed 002): what an inbound provider event means for an integration's syncs.

Providers' notifications mostly say "something changed" (Google's push carries no body, Graph sends ids,
Mollie only a payment id), so the hub answers each with the read that learns what: a pull of the family's
changes, or a re-fetch of the payment. Events arrive on the webhook-events queue — from the verified
receivers of the next round, or from a trusted relay through `POST …/webhook-events` — at least once, so each
event id is processed once, and a burst of notifications coalesces into the one pull already queued."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from adapters.twilio import status_rank
from integrations.documents.common import LifecycleStatus
from integrations.documents.document import IntegrationDocument
from integrations.documents.ref import IntegrationRef
from integrations.events import cloud_event
from integrations.payments import GatewayPayment, Payments
from integrations.sync.context import RunContext
from integrations.sync.jobs import trigger_sync
from integrations.sync.operations import offered
from integrations.sync.runs import RunStatus
from shared.errors import NotFound

log = logging.getLogger("hub.webhooks")


class WebhookEvent(BaseModel):
    """The webhook-events queue contract."""

    model_config = ConfigDict(extra="forbid")
    tenant_id: str = Field(min_length=1, max_length=64)
    integration_id: str = Field(min_length=1, max_length=64)
    id: str = Field(min_length=1, max_length=200, description="The provider's event/notification id (dedupe key).")
    type: str = Field(min_length=1, max_length=200, description="The provider's event type, as it names it.")
    received_at: datetime | None = None
    data: dict[str, Any] = Field(default_factory=dict)


EXCLUSIVE_S = 30.0  # an event's processing (at most a payment re-fetch) is far shorter


@dataclass(frozen=True)
class Outcome:
    action: str  # triggered, coalesced, refreshed, duplicate, ignored
    detail: str = ""
    run_id: str | None = None


def process_webhook_event(sync: RunContext, payments: Payments, event: WebhookEvent) -> Outcome:
    """One integration's events are processed one at a time (a lease): the host runs a queue batch
    concurrently, and "seen already?" and "a pull already queued?" are check-then-act."""
    ref = IntegrationRef(event.tenant_id, event.integration_id)
    seen_id = event.id.replace("|", "_")
    with sync.leases.held(ref.lease("webhook"), ttl_s=EXCLUSIVE_S, wait_s=EXCLUSIVE_S):
        if sync.sync_state.seen(ref, "webhook", seen_id):
            return Outcome("duplicate", "already processed")
        try:
            document = sync.integrations.get(ref).document
        except NotFound:
            return Outcome("ignored", "no such integration")
        outcome = _act(sync, payments, document, event)
        sync.sync_state.mark_seen(ref, "webhook", [seen_id])
    log.info("webhook event %s (%s) for %s: %s %s", event.id, event.type, ref.integration_id, outcome.action, outcome.detail)
    return outcome


def _message_status(sync: RunContext, document: IntegrationDocument, event: WebhookEvent) -> Outcome:
    sid, status = str(event.data.get("message_sid") or ""), str(event.data.get("status") or "")
    key = sync.outbox.record_provider_status(document.ref, "message", sid, status, rank=status_rank)
    if key is None:
        return Outcome("ignored", f"no message {sid} on this integration")
    sync.publish(
        cloud_event(
            f"message.{status}",
            id=f"message:{key}:{status}",
            ref=document.ref,
            subject=f"messages/{key}",
            data={"key": key, "status": status, "provider_message_id": sid},
        ),
    )
    return Outcome("recorded", f"message {key} is {status}")


# Provider events that are facts for the platform as they are (nothing to read back): announced on its feed.
# A revoked subscription is announced at once; the subscription timer replaces it at its next look.
STREAM_EVENTS = frozenset({"stream.online", "stream.offline", "subscription.revoked"})


def _announced(sync: RunContext, document: IntegrationDocument, event: WebhookEvent) -> Outcome:
    sync.publish(
        cloud_event(
            event.type,
            id=f"{document.provider}:{event.id}",
            ref=document.ref,
            subject=f"{document.provider}/{event.data.get('broadcaster_user_login') or document.id}",
            data={"provider": document.provider, **event.data},
        ),
    )
    return Outcome("announced", event.type)


def payment_event(document: IntegrationDocument, payment: GatewayPayment) -> dict[str, Any]:
    """`payment.<status>`, with an id stable for (payment, status): re-fetching again emits the same fact."""
    return cloud_event(
        f"payment.{payment.status}",
        id=f"payment:{payment.key}:{payment.status}",
        ref=document.ref,
        subject=f"payments/{payment.key}",
        data={"key": payment.key, "status": payment.status, "amount": payment.amount, "currency": payment.currency},
        time=payment.updated_at.isoformat(),
    )


def _act(sync: RunContext, payments: Payments, document: IntegrationDocument, event: WebhookEvent) -> Outcome:
    if document.status != LifecycleStatus.active:
        return Outcome("ignored", f"integration is {document.status}")
    if document.family == "payment_gateway":
        key = event.data.get("payment_key")
        provider_id = event.data.get("provider_payment_id")
        if not isinstance(key, str) and isinstance(provider_id, str):
            key = payments.key_for_provider_id(document.ref, provider_id)
        if not isinstance(key, str):
            return Outcome("ignored", "the event names no payment of this integration")
        try:
            payment = payments.get(document.ref, key, refresh=True)
        except NotFound as exc:
            return Outcome("ignored", exc.detail)
        # A provider or storage failure propagates: the queue retries, and after its last attempt the delivery
        # is a dead letter to replay, rather than an event lost with the payment left pending.
        sync.publish(payment_event(document, payment))
        return Outcome("refreshed", f"payment {key} is {payment.status}")
    if event.type == "message.status":
        return _message_status(sync, document, event)
    if event.type in STREAM_EVENTS:
        return _announced(sync, document, event)
    reads = [op.name for op in offered(document, sync.catalog.get(document.provider).capabilities) if op.on_change]
    if not reads:
        return Outcome("ignored", f"nothing to read for a {document.family} event")
    operation = reads[0]
    for run in sync.runs.latest(document.ref, limit=10):
        if run.operation == operation and run.status == RunStatus.queued:
            return Outcome("coalesced", f"{operation} already queued", run.id)
    run = trigger_sync(sync, document.ref, operation, trigger="webhook")
    return Outcome("triggered", operation, run.id)
