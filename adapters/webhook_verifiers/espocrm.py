"""EspoCRM (v9+): `Signature: base64(webhookId + ':' + hex HMAC-SHA256(secretKey, raw body))` (PHP's
hash_hmac returns hex by default). The secret key is per webhook, so the id beside it needs no check."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

from adapters.webhook_verifiers import base
from adapters.webhook_verifiers.base import Handshake, SignedDelivery, WebhookRejected


class EspoSignature(base.Scheme):
    default_header = "Signature"

    def verify(self, delivery: SignedDelivery, secrets: Sequence[str]) -> Handshake | None:
        try:
            decoded = base64.b64decode(base.required_header(delivery, self._header), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise WebhookRejected(f"the {self._header} header is not base64") from None
        _webhook_id, sep, digest = decoded.rpartition(":")
        if not sep:
            raise WebhookRejected(f"the {self._header} header is not webhookId:signature")
        if not base.matches_any([digest], secrets, lambda secret: base.hmac_sha256(secret.encode(), delivery.body).hex()):
            raise WebhookRejected(f"the {self._header} signature does not match")
        return None
