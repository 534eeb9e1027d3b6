"""PayPal: a delivery carries `PAYPAL-TRANSMISSION-ID`, `-TRANSMISSION-TIME`, `-TRANSMISSION-SIG`,
`-CERT-URL` and `-AUTH-ALGO`; PayPal's verify endpoint (`POST /v1/notifications/verify-webhook-signature`,
with the webhook id the hub registered) says whether they sign this body. The hub asks it rather than fetching
certificates itself: one authenticated call to a PayPal host, no certificate URL taken from the request.

The verifier builds the question; the PayPal adapter asks it (`remote`). The integration's webhook secret holds
the webhook id(s) — two during a re-registration."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from adapters.spec import WebhookSpec
from adapters.webhook_verifiers.base import Handshake, SignedDelivery, WebhookRejected, required_header

HEADERS = {
    "transmission_id": "PAYPAL-TRANSMISSION-ID",
    "transmission_time": "PAYPAL-TRANSMISSION-TIME",
    "transmission_sig": "PAYPAL-TRANSMISSION-SIG",
    "cert_url": "PAYPAL-CERT-URL",
    "auth_algo": "PAYPAL-AUTH-ALGO",
}
RemoteCheck = Callable[[dict[str, Any]], bool]  # the verify request's body → PayPal said SUCCESS


class PayPalSignature:
    def __init__(self, spec: WebhookSpec, remote: RemoteCheck | None = None) -> None:
        self._remote = remote

    def verify(self, delivery: SignedDelivery, secrets: Sequence[str]) -> Handshake | None:
        if self._remote is None:
            raise WebhookRejected("PayPal deliveries are verified through PayPal, which is not reachable here")
        question: dict[str, Any] = {field: required_header(delivery, header) for field, header in HEADERS.items()}
        try:
            question["webhook_event"] = json.loads(delivery.body)
        except ValueError:
            raise WebhookRejected("the body is not JSON") from None
        if not secrets:
            raise WebhookRejected("no webhook id is configured for this integration")
        if not any(self._remote({**question, "webhook_id": webhook_id}) for webhook_id in secrets):
            raise WebhookRejected("PayPal does not recognise the transmission signature")
        return None
