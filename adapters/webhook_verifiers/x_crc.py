"""X (Twitter) Account Activity: the challenge-response check `GET ?crc_token=…` is answered with
`{"response_token": "sha256=" + base64(HMAC-SHA256(consumer secret, crc_token))}`; deliveries are signed
`x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256(consumer secret, raw body)>`."""

from __future__ import annotations

import json
from collections.abc import Sequence

from adapters.spec import WebhookSpec
from adapters.webhook_verifiers.base import Handshake, SignedDelivery, WebhookRejected, hmac_sha256
from adapters.webhook_verifiers.body_hmac import as_base64, base64_body


class XSignature:
    def __init__(self, spec: WebhookSpec) -> None:
        header = spec.header or "x-twitter-webhooks-signature"
        self._deliveries = base64_body(spec.model_copy(update={"header": header, "prefix": "sha256="}))

    def verify(self, delivery: SignedDelivery, secrets: Sequence[str]) -> Handshake | None:
        if delivery.method == "GET":
            token = delivery.query.get("crc_token", "")
            if not token or not secrets:
                raise WebhookRejected("the challenge-response check has no crc_token")
            answer = "sha256=" + as_base64(hmac_sha256(secrets[0].encode(), token.encode()))
            return Handshake(json.dumps({"response_token": answer}), media_type="application/json")
        return self._deliveries.verify(delivery, secrets)
