"""Meta (Facebook Pages, Instagram): deliveries signed `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret,
raw body)>`; subscribing sends `GET ?hub.mode=subscribe&hub.verify_token=<ours>&hub.challenge=<n>`, answered by
echoing the challenge when the token is ours. The integration's webhook secret lists the app secret and the
verify token (both are ours and private; either may be matched against either check)."""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from adapters.spec import WebhookSpec
from adapters.webhook_verifiers.base import Handshake, SignedDelivery, WebhookRejected
from adapters.webhook_verifiers.body_hmac import hex_body


class MetaSignature:
    def __init__(self, spec: WebhookSpec) -> None:
        self._deliveries = hex_body(
            spec.model_copy(update={"header": spec.header or "X-Hub-Signature-256", "prefix": "sha256="})
        )

    def verify(self, delivery: SignedDelivery, secrets: Sequence[str]) -> Handshake | None:
        if delivery.method == "GET":
            token = delivery.query.get("hub.verify_token", "")
            challenge = delivery.query.get("hub.challenge", "")
            known = any(hmac.compare_digest(token.encode(), secret.encode()) for secret in secrets)
            if delivery.query.get("hub.mode") != "subscribe" or not challenge or not known:
                raise WebhookRejected("the subscription request does not carry our verify token")
            return Handshake(challenge)
        return self._deliveries.verify(delivery, secrets)
