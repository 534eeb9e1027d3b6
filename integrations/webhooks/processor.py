"""processWebhookDelivery (the webhook-deliveries queue function): a stored delivery → its events → the
handlers that `process_webhook_event` routes to (payment re-fetch, the family's pull, coalesced).

At least once, and the same delivery may be queued more than once (a sender's retry while it is still
`received`): one delivery is processed under a lease, a processed one is a duplicate, and each event id is
processed once per integration (`process_webhook_event` remembers them). A failure is recorded on the
delivery and re-raised for the queue to retry; the last attempt leaves it `failed`, listed by the API and
replayable."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from integrations.documents.common import LifecycleStatus
from integrations.documents.ref import IntegrationRef
from integrations.payments import Payments
from integrations.sync.context import RunContext
from integrations.sync.webhook_events import WebhookEvent, process_webhook_event
from integrations.webhooks.deliveries import DeliveryStatus, WebhookDeliveries, WebhookDelivery
from integrations.webhooks.readers import read_events
from shared.errors import NotFound

log = logging.getLogger("hub.webhooks")
EXCLUSIVE_S = 60.0


class DeliveryMessage(BaseModel):
    """The webhook-deliveries queue contract."""

    model_config = ConfigDict(extra="ignore")  # traceparent rides along
    tenant_id: str = Field(min_length=1, max_length=64)
    integration_id: str = Field(min_length=1, max_length=64)
    delivery_id: str = Field(min_length=1, max_length=64)
    delivery: WebhookDelivery | None = Field(None, description="The delivery, when it rides in the message.")
    body: str | None = Field(None, description="Its raw body, base64, when it rides in the message.")


@dataclass(frozen=True)
class DeliveryProcessing:
    deliveries: WebhookDeliveries
    sync: RunContext
    payments: Payments
    max_attempts: int
    handle: Callable[[RunContext, Payments, WebhookEvent], Any] = process_webhook_event

    def process(self, body: bytes, *, dequeue_count: int) -> list[str]:
        message = DeliveryMessage.model_validate_json(body)
        try:
            return self._process(message)
        except Exception as exc:
            try:
                self.deliveries.attempt_failed(
                    IntegrationRef(message.tenant_id, message.integration_id),
                    message.delivery_id,
                    exc,
                    final=dequeue_count >= self.max_attempts,
                )
            except Exception:  # the storage that failed the work may fail this too: the queue still retries
                log.exception("could not record the failure of webhook delivery %s", message.delivery_id)
            raise

    def _process(self, message: DeliveryMessage) -> list[str]:
        ref = IntegrationRef(message.tenant_id, message.integration_id)
        with self.sync.leases.held(ref.lease("delivery", message.delivery_id), ttl_s=EXCLUSIVE_S, wait_s=EXCLUSIVE_S):
            inline = base64.b64decode(message.body) if message.body is not None else None
            if message.delivery is not None and inline is not None:
                self.deliveries.store(message.delivery, inline)  # the row, once (a provider's retry finds it)
            delivery, etag = self.deliveries.get(ref, message.delivery_id)
            if delivery.status != DeliveryStatus.received:
                return [f"duplicate: already {delivery.status}"]
            try:
                document = self.sync.integrations.get(ref).document
            except NotFound:
                document = None
            if document is None or document.status != LifecycleStatus.active:
                why = "the integration is gone" if document is None else f"the integration is {document.status}"
                self.deliveries.dropped(delivery, etag, why)
                return [why]
            outcomes = []
            body = inline if inline is not None else self.deliveries.body(ref, delivery.id)
            for event in read_events(delivery, body):
                outcome = self.handle(
                    self.sync,
                    self.payments,
                    WebhookEvent(
                        tenant_id=ref.tenant_id,
                        integration_id=ref.integration_id,
                        id=event.id[:200],
                        type=event.type[:200] or "notification",
                        received_at=delivery.received_at,
                        data=event.data,
                    ),
                )
                outcomes.append(f"{event.type}: {outcome.action} {outcome.detail}".strip())
            self.deliveries.processed(delivery, etag, outcomes)
        log.info("webhook delivery %s for %s: %s", delivery.id, ref.integration_id, json.dumps(outcomes))
        return outcomes
