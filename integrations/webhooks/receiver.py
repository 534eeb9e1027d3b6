"""receiveWebhook: a provider's delivery to `/api/v1/webhooks/{provider}/{integration}`, answered fast and
never 2xx without a durable copy.

1. Resolve the integration from the URL (one index read; an unknown provider costs the same reads as an
   unknown integration, so the answer's timing does not say which ids exist) → 404.
2. Verify over the raw bytes with the catalog's scheme and every secret valid now (two during a rotation)
   → the scheme's reject status (401; Xero's intent-to-receive expects exactly that). A verification handshake
   (Graph's validationToken, Meta's hub.challenge, Twitch's challenge, X's CRC) is answered here and stored
   nowhere.
3. A paused (or draft) integration answers 200 and drops the delivery (the provider keeps the subscription);
   a decommissioned one answers the catalog's `gone_status` (410: stop sending). Neither stores anything.
4. Make the delivery durable (raw body + the headers processing needs, never a signature or token) — in the
   queue message itself when it fits (one storage write: the processor writes the delivery's row), else as a
   row and then a message pointing to it — and only then answer 2xx. Storage down → StorageUnavailable → 503,
   and the sender retries; nothing is half-written (one message, or a whole row without a message, which the
   sender's retry queues).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.catalog import Catalog
from adapters.webhook_verifiers import SignedDelivery, WebhookRejected, verifier_for
from integrations.credentials import Credentials
from integrations.documents.common import LifecycleStatus
from integrations.documents.document import IntegrationDocument
from integrations.documents.ref import IntegrationRef
from integrations.repository import IntegrationRepository
from integrations.webhooks.deliveries import DeliveryStatus, WebhookDeliveries, WebhookDelivery, delivery_id, kept_headers
from shared.errors import NotFound, PayloadTooLarge
from shared.memo import Memo
from shared.queues import Queues

log = logging.getLogger("hub.webhooks")
SECRET_SLOT = "webhook_secret_ref"
# Unsigned pointers carry nothing that tells two deliveries apart (Mollie posts the same `id=tr_…` on every
# status change), so each receipt is its own delivery: processing them is a re-fetch, harmless to repeat.
EACH_RECEIPT_DISTINCT = frozenset({"unsigned_refetch"})
# A queue message holds 64 KiB after the queue's base64, and the body rides base64 in JSON inside it.
INLINE_MAX_BYTES = 24 * 1024


# The receiver's short memory of integrations it looked up — found or not, so a repeated unknown id costs no
# more than a known one — for a few seconds: a provider's burst reads storage once, not per delivery. The
# processor re-reads the document, so a pause within the window still stops processing.
RecentIntegrations = Memo[str]


@dataclass(frozen=True)
class Inbound:
    provider: str
    integration_id: str
    method: str
    url: str
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Reply:
    status: int
    body: str = ""
    media_type: str = "text/plain"
    delivery_id: str | None = None


class Unverified(Exception):
    def __init__(self, status: int, reason: str, *, empty: bool) -> None:
        super().__init__(reason)
        self.status, self.reason, self.empty = status, reason, empty


@dataclass(frozen=True)
class Receiver:
    integrations: IntegrationRepository
    catalog: Catalog
    credentials: Credentials
    deliveries: WebhookDeliveries
    queues: Queues
    queue: str
    now: Callable[[], datetime]
    admit: Callable[[str], None]  # the per-integration ingest limit: raises RateLimited
    adapter_for: Callable[[Any], Any]
    recent: RecentIntegrations

    def receive(self, inbound: Inbound) -> Reply:
        document = self._integration(inbound)
        webhook = self.catalog.get(document.provider).webhook
        # PayPal's deliveries are verified by PayPal: the adapter asks (a provider error → 502, PayPal retries).
        verifier = verifier_for(
            webhook, remote=lambda question: self.adapter_for(document).verify_webhook_signature(question)
        )
        if verifier is None:
            raise NotFound("No webhook receiver here.")
        if len(inbound.body) > webhook.max_body_bytes:
            raise PayloadTooLarge(f"{document.provider} deliveries are limited to {webhook.max_body_bytes} bytes.")
        self.admit(document.id)
        received_at = self.now()
        signed = SignedDelivery(
            headers=inbound.headers,
            body=inbound.body,
            received_at=received_at.timestamp(),
            url=inbound.url,
            method=inbound.method,
            query=inbound.query,
        )
        try:
            secrets = self.credentials.accepted_values(document, SECRET_SLOT, operation="webhook.verify")
            handshake = verifier.verify(signed, secrets)
        except WebhookRejected as exc:
            # The reason is ours (never the presented signature); it goes to the log, not to the caller.
            log.warning("webhook for %s/%s rejected: %s", document.provider, document.id, exc)
            raise Unverified(webhook.reject_status, str(exc), empty=webhook.empty_replies) from None
        if handshake is not None:
            return Reply(handshake.status, handshake.body, handshake.media_type)
        if document.status != LifecycleStatus.active:
            log.info("webhook for %s/%s dropped: the integration is %s", document.provider, document.id, document.status)
            gone = document.status == LifecycleStatus.decommissioned
            return Reply(webhook.gone_status if gone else 200)
        return self._store_and_enqueue(document, inbound, received_at, webhook.scheme)

    def _integration(self, inbound: Inbound) -> Any:
        document = self.recent.get(inbound.integration_id, self._read)
        # A document's provider is always a catalog one: an unknown provider in the URL fails this same check.
        if document is None or document.provider != inbound.provider:
            raise NotFound("No webhook receiver here.")
        return document

    def _read(self, integration_id: str) -> Any:
        tenant = self.integrations.tenant_of(integration_id)
        try:
            # Read on every path (a miss reads a key no tenant has): existence does not show in the timing.
            return self.integrations.get(IntegrationRef(tenant or "~", integration_id)).document
        except NotFound:
            return None

    def _store_and_enqueue(
        self, document: IntegrationDocument, inbound: Inbound, received_at: datetime, scheme: str
    ) -> Reply:
        headers = kept_headers(inbound.headers)
        salt = received_at.isoformat() if scheme in EACH_RECEIPT_DISTINCT else ""
        delivery = WebhookDelivery(
            id=delivery_id(document.provider, headers, inbound.body, salt=salt),
            tenant_id=document.tenant_id,
            integration_id=document.id,
            provider=document.provider,
            status=DeliveryStatus.received,
            received_at=received_at,
            headers=headers,
            size=len(inbound.body),
        )
        message: dict[str, Any] = {
            "tenant_id": document.tenant_id,
            "integration_id": document.id,
            "delivery_id": delivery.id,
        }
        if len(inbound.body) <= INLINE_MAX_BYTES:
            # The queue message is the durable copy (one storage write); the processor writes the delivery's row.
            message |= {"delivery": delivery.model_dump(mode="json"), "body": base64.b64encode(inbound.body).decode()}
        else:
            # Too large for a queue message: the row first (whole or absent), then a message pointing to it.
            self.deliveries.store(delivery, inbound.body)
        self.queues.send(self.queue, message)
        return Reply(200, delivery_id=delivery.id)  # 200, not 202: Xero's intent-to-receive checks for it
