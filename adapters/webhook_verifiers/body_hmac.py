"""A header holding HMAC-SHA256(secret, raw body), base64 (Xero `x-xero-signature`, QuickBooks
`intuit-signature`, X `x-twitter-webhooks-signature: sha256=…`) or hex (Meta `X-Hub-Signature-256: sha256=…`).
No timestamp is signed, so these schemes cannot refuse a replay by age: the processor's dedupe on the event
id (or the body's hash) is what makes a replayed delivery harmless."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence

from adapters.spec import WebhookSpec
from adapters.webhook_verifiers import base
from adapters.webhook_verifiers.base import Handshake, SignedDelivery, WebhookRejected

Encoding = Callable[[bytes], str]


def as_base64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def as_hex(digest: bytes) -> str:
    return digest.hex()


class BodyHmac:
    def __init__(self, spec: WebhookSpec, encode: Encoding) -> None:
        self._header = spec.header
        self._prefix = spec.prefix
        self._encode = encode

    def verify(self, delivery: SignedDelivery, secrets: Sequence[str]) -> Handshake | None:
        value = base.required_header(delivery, self._header).strip()
        if not value.startswith(self._prefix):
            raise WebhookRejected(f"the {self._header} header does not start with {self._prefix!r}")
        signature = value[len(self._prefix) :]
        if not base.matches_any(
            [signature], secrets, lambda secret: self._encode(base.hmac_sha256(secret.encode(), delivery.body))
        ):
            raise WebhookRejected(f"the {self._header} signature does not match")
        return None


def base64_body(spec: WebhookSpec) -> BodyHmac:
    return BodyHmac(spec, as_base64)


def hex_body(spec: WebhookSpec) -> BodyHmac:
    return BodyHmac(spec, as_hex)
