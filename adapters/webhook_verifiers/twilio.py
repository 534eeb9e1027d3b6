"""Twilio: `X-Twilio-Signature` = base64(HMAC-SHA1(auth token, full URL + the POST parameters sorted by name,
each name then value, no separators)). A JSON body is signed through the URL instead: its `bodySHA256`
parameter is the SHA-256 of the raw body. Twilio may have signed the URL with or without the default port, so
both are tried (as twilio-python's RequestValidator does). The webhook secret holds the account's auth token."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from adapters.webhook_verifiers import base
from adapters.webhook_verifiers.base import Handshake, SignedDelivery, WebhookRejected, matches_any, required_header

DEFAULT_PORTS = {"https": 443, "http": 80}


def _url_variants(url: str) -> list[str]:
    parts = urlsplit(url)
    default = DEFAULT_PORTS.get(parts.scheme)
    host = parts.hostname or ""
    if parts.port is None and default:
        return [url, urlunsplit(parts._replace(netloc=f"{host}:{default}"))]
    if parts.port == default:
        return [url, urlunsplit(parts._replace(netloc=host))]
    return [url]


def signature(secret: str, url: str, params: Sequence[tuple[str, str]]) -> str:
    data = url + "".join(name + value for name, value in sorted(params))
    return base64.b64encode(hmac.new(secret.encode(), data.encode(), hashlib.sha1).digest()).decode()


class TwilioSignature(base.Scheme):
    default_header = "X-Twilio-Signature"

    def verify(self, delivery: SignedDelivery, secrets: Sequence[str]) -> Handshake | None:
        given = required_header(delivery, self._header)
        body_hash = delivery.query.get("bodySHA256")
        if body_hash is not None:
            params: list[tuple[str, str]] = []
            if not hmac.compare_digest(hashlib.sha256(delivery.body).hexdigest(), body_hash):
                raise WebhookRejected("bodySHA256 does not match the body")
        else:
            params = parse_qsl(delivery.body.decode("utf-8", "replace"), keep_blank_values=True)
        for url in _url_variants(delivery.url):
            if matches_any([given], secrets, lambda secret, url=url: signature(secret, url, params)):  # type: ignore[misc]
                return None
        raise WebhookRejected(f"the {self._header} signature does not match")
