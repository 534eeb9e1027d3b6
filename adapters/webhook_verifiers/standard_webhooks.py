"""Standard Webhooks (the contract of the hub's own families: registry, insurer, ADAMS — and of the events the
hub sends out): `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256(key,
"{id}.{timestamp}.{body}")>` (space-separated, several during a rotation). The key is the base64 after
`whsec_`. Tolerance 5 minutes. Model: the standardwebhooks package's `webhooks.py`."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

from adapters.webhook_verifiers import base
from adapters.webhook_verifiers.base import Handshake, SignedDelivery, WebhookRejected

PREFIX = "whsec_"


def signing_key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except binascii.Error:
        raise WebhookRejected("the webhook secret is not a whsec_ key") from None


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value for one secret (what the hub's own deliveries carry)."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(base.hmac_sha256(signing_key(secret), signed)).decode()


class StandardSignature(base.Scheme):
    def verify(self, delivery: SignedDelivery, secrets: Sequence[str]) -> Handshake | None:
        message_id = base.required_header(delivery, "webhook-id")
        timestamp = base.required_header(delivery, "webhook-timestamp")
        given = [part for part in base.required_header(delivery, "webhook-signature").split() if part.startswith("v1,")]
        try:
            at = int(timestamp)
        except ValueError:
            raise WebhookRejected("webhook-timestamp is not a number") from None
        if not base.matches_any(given, secrets, lambda secret: sign(secret, message_id, at, delivery.body)):
            raise WebhookRejected("no v1 signature matches")
        base.within(timestamp, delivery, self._tolerance_s)
        return None
