"""Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`, v1 = hex(HMAC-SHA256(endpoint secret,
"{t}.{raw body}")). Any v1 may match (Stripe sends two while an endpoint secret rolls); the timestamp must be
within the tolerance (300 s), which is what makes a captured delivery useless later. Model: stripe-python's
`_webhook.py` (WebhookSignature.verify_header)."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.webhook_verifiers import base
from adapters.webhook_verifiers.base import Handshake, SignedDelivery, WebhookRejected


class StripeSignature(base.Scheme):
    default_header = "Stripe-Signature"

    def verify(self, delivery: SignedDelivery, secrets: Sequence[str]) -> Handshake | None:
        pairs = [part.split("=", 1) for part in base.required_header(delivery, self._header).split(",") if "=" in part]
        timestamp = next((value for key, value in pairs if key.strip() == "t"), None)
        signatures = [value.strip() for key, value in pairs if key.strip() == "v1"]
        if timestamp is None or not signatures:
            raise WebhookRejected(f"the {self._header} header has no timestamp or no v1 signature")
        signed = timestamp.strip().encode() + b"." + delivery.body
        if not base.matches_any(signatures, secrets, lambda secret: base.hmac_sha256(secret.encode(), signed).hex()):
            raise WebhookRejected("no v1 signature matches the endpoint secret")
        base.within(timestamp.strip(), delivery, self._tolerance_s)
        return None
