"""Inbound webhook deliveries, stored raw before the receiver answers and kept as their processing log.

A delivery's id is a hash of what identifies it (provider, the message-id headers, the exact body), so a
provider's retry of one delivery lands on the same row: the receiver inserts it once and only re-enqueues it
while it is still `received` (a crash between the store and the enqueue is healed by the sender's retry).
The processor moves it to `processed`, or after the queue's last attempt to `failed` with its error; a replay
claims a failed row back to `received` (ETag-checked: two replays make one) and enqueues it again.

Rows: `PartitionKey = <tenant>|<integration>`, `RowKey = <delivery id>`; the body in binary properties of at
most 64 KiB each (the receiver's body limit keeps a row well inside an entity's 1 MiB).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from integrations.documents.ref import IntegrationRef, OfIntegration
from shared.errors import Conflict, NotFound, PreconditionFailed
from shared.redaction import REDACTOR
from shared.rows import ChunkedRow, ClockedStore, in_partition
from shared.tables import Page, until_written

CHUNK_BYTES = 60 * 1024
ERROR_LIMIT = 500
# Headers a processor needs, kept with the body. Everything else is dropped: signatures (never logged or
# stored) and tokens (X-Goog-Channel-Token is the channel's secret).
KEPT_HEADERS = frozenset(
    {
        "content-type",
        "webhook-id",
        "webhook-timestamp",
        "twitch-eventsub-message-id",
        "twitch-eventsub-message-type",
        "twitch-eventsub-subscription-type",
        "x-goog-channel-id",
        "x-goog-resource-id",
        "x-goog-resource-state",
        "x-goog-resource-uri",
        "x-goog-message-number",
        "paypal-transmission-id",
    }
)
IDENTIFYING = (
    "webhook-id",
    "twitch-eventsub-message-id",
    "x-goog-channel-id",
    "x-goog-message-number",
    "paypal-transmission-id",
)


class DeliveryStatus(StrEnum):
    received = "received"  # stored and queued, not processed yet
    processed = "processed"
    failed = "failed"  # the queue's attempts are spent: a dead letter until replayed
    dropped = "dropped"  # accepted and not processed (the integration is paused or decommissioned)


class WebhookDelivery(BaseModel, OfIntegration):
    id: str
    tenant_id: str
    integration_id: str
    provider: str
    status: DeliveryStatus
    received_at: datetime
    headers: dict[str, str] = Field(default_factory=dict, description="The headers processing needs (no signatures).")
    size: int = Field(description="Body size in bytes.")
    attempts: int = 0
    last_error: str | None = Field(None, description="Why the last attempt failed (redacted, bounded).")
    processed_at: datetime | None = None
    outcomes: list[str] = Field(default_factory=list, description="What each event in the delivery led to.")
    replayed_at: datetime | None = None


def kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items() if name.lower() in KEPT_HEADERS}


def delivery_id(provider: str, headers: Mapping[str, str], body: bytes, *, salt: str = "") -> str:
    digest = hashlib.sha256(provider.encode() + b"\0" + salt.encode())
    for name in IDENTIFYING:
        digest.update(b"\0" + headers.get(name, "").encode())
    digest.update(b"\0" + body)
    return "whd_" + digest.hexdigest()[:32]


class DeliveryRow(ChunkedRow):
    """The delivery's record in `Meta` (its status also in `Status`, for a property filter); the raw body in
    `Body0…BodyN` (binary properties), written once with the row and left alone by every later MERGE."""

    status: DeliveryStatus = Field(alias="Status")
    meta: str = Field(alias="Meta")

    @classmethod
    def of(cls, delivery: WebhookDelivery, body: bytes | None = None) -> DeliveryRow:
        row = cls(partition=delivery.ref.partition, row=delivery.id, status=delivery.status, meta=delivery.model_dump_json())
        if body is not None:
            row.put_parts([body[i : i + CHUNK_BYTES] for i in range(0, len(body), CHUNK_BYTES)])
        return row

    def delivery(self) -> WebhookDelivery:
        return WebhookDelivery.model_validate_json(self.meta)


class WebhookDeliveries(ClockedStore[DeliveryRow]):
    row_type = DeliveryRow

    def store(self, delivery: WebhookDelivery, body: bytes) -> tuple[WebhookDelivery, bool]:
        """(the stored delivery, whether it is new). One insert: the row is whole or absent."""
        try:
            self._rows.insert(DeliveryRow.of(delivery, body))
            return delivery, True
        except Conflict:
            return self.get(delivery.ref, delivery.id)[0], False

    def _find(self, ref: IntegrationRef, delivery: str) -> tuple[DeliveryRow, str]:
        found = self._rows.find(ref.partition, delivery)
        if found is None:
            raise NotFound(f"No webhook delivery {delivery} on this integration.")
        return found

    def get(self, ref: IntegrationRef, delivery: str) -> tuple[WebhookDelivery, str]:
        row, etag = self._find(ref, delivery)
        return row.delivery(), etag

    def body(self, ref: IntegrationRef, delivery: str) -> bytes:
        row, _ = self._find(ref, delivery)
        return b"".join(bytes(part) for part in row.parts())

    def _update(self, delivery: WebhookDelivery, etag: str) -> str:
        # MERGE keeps the body properties; the ETag makes each transition one writer's.
        return self._rows.table.merge(DeliveryRow.of(delivery).entity(), etag=etag)

    def processed(self, delivery: WebhookDelivery, etag: str, outcomes: list[str]) -> None:
        delivery.status, delivery.processed_at, delivery.outcomes = DeliveryStatus.processed, self._now(), outcomes
        delivery.attempts += 1
        self._update(delivery, etag)

    def dropped(self, delivery: WebhookDelivery, etag: str, why: str) -> None:
        delivery.status, delivery.processed_at, delivery.outcomes = DeliveryStatus.dropped, self._now(), [why]
        self._update(delivery, etag)

    def attempt_failed(self, ref: IntegrationRef, delivery_id: str, error: BaseException, *, final: bool) -> None:
        def record() -> None:
            delivery, etag = self.get(ref, delivery_id)
            delivery.attempts += 1
            delivery.last_error = REDACTOR.error(error, ERROR_LIMIT)
            if final:
                delivery.status = DeliveryStatus.failed
            self._update(delivery, etag)

        until_written(f"webhook delivery {delivery_id}", record)

    def list(
        self, ref: IntegrationRef, *, status: DeliveryStatus | None, size: int, continuation: str | None
    ) -> tuple[list[WebhookDelivery], str | None]:
        flt, params = in_partition(ref.partition, status=status and status.value)
        # Only `Meta`: the bodies stay on the server.
        page: Page = self._rows.table.page(flt, parameters=params, size=size, continuation=continuation, select=["Meta"])
        return [WebhookDelivery.model_validate_json(e["Meta"]) for e in page.items], page.continuation

    def claim_replay(self, ref: IntegrationRef, delivery_id: str) -> WebhookDelivery:
        """A failed delivery back to `received`, to be enqueued again. Anything else is a 409."""
        delivery, etag = self.get(ref, delivery_id)
        if delivery.status != DeliveryStatus.failed:
            raise Conflict(
                f"Webhook delivery {delivery_id} is {delivery.status}; only failed deliveries are replayed.",
                reason="not_failed",
            )
        delivery.status, delivery.replayed_at, delivery.attempts = DeliveryStatus.received, self._now(), 0
        try:
            self._update(delivery, etag)
        except PreconditionFailed:
            raise Conflict(f"Webhook delivery {delivery_id} is being replayed already.", reason="replaying") from None
        return delivery
