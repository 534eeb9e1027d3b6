"""Schemes that prove a delivery with a shared token instead of a signature:
- Google Calendar push: `X-Goog-Channel-Token` echoes the token the hub gave the channel; the body is empty
  (a notification says only "something changed", `X-Goog-Resource-State: sync` on creation).
- Microsoft Graph: creating a subscription POSTs `?validationToken=…`, answered by echoing it as text/plain;
  each notification in `value[]` carries `clientState`, the hub's secret.
- KoboToolbox REST services: no signature; the hub's secret rides in the URL (`?token=`) or as the Basic
  auth password.
- Mollie and Swish callbacks: unsigned pointers. Accepted as a hint only: the processor re-fetches the payment
  through the API and never trusts the body."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Sequence

from adapters.webhook_verifiers import base
from adapters.webhook_verifiers.base import Handshake, SignedDelivery, WebhookRejected, required_header


def _known(value: str, secrets: Sequence[str]) -> bool:
    if not secrets:
        raise WebhookRejected("no webhook secret is configured for this integration")
    found = False
    for secret in secrets:
        found |= hmac.compare_digest(value.encode(), secret.encode())
    return found


class GoogleChannelToken(base.Scheme):
    default_header = "X-Goog-Channel-Token"

    def verify(self, delivery: SignedDelivery, secrets: Sequence[str]) -> Handshake | None:
        if not _known(required_header(delivery, self._header), secrets):
            raise WebhookRejected("the channel token is not ours")
        required_header(delivery, "X-Goog-Resource-State")
        return None


class GraphClientState(base.Scheme):
    def verify(self, delivery: SignedDelivery, secrets: Sequence[str]) -> Handshake | None:
        token = delivery.query.get("validationToken")
        if token is not None:
            return Handshake(token)  # Graph's handshake is unauthenticated by design: it only proves the URL answers
        try:
            notifications = json.loads(delivery.body)["value"]
            states = [str(item["clientState"]) for item in notifications]
        except (ValueError, KeyError, TypeError):
            raise WebhookRejected("the notification has no value[].clientState") from None
        if not states or not all(_known(state, secrets) for state in states):
            raise WebhookRejected("a clientState is not ours")
        return None


class SharedSecret(base.Scheme):
    def verify(self, delivery: SignedDelivery, secrets: Sequence[str]) -> Handshake | None:
        token = delivery.query.get("token")
        if token is None:
            authorization = delivery.header("Authorization") or ""
            if not authorization.startswith("Basic "):
                raise WebhookRejected("no token in the URL and no Basic credentials")
            try:
                token = base64.b64decode(authorization[6:], validate=True).decode().partition(":")[2]
            except (binascii.Error, UnicodeDecodeError):
                raise WebhookRejected("the Basic credentials are malformed") from None
        if not _known(token, secrets):
            raise WebhookRejected("the shared secret does not match")
        return None


class UnsignedPointer(base.Scheme):
    def verify(self, delivery: SignedDelivery, secrets: Sequence[str]) -> Handshake | None:
        return None  # nothing to check: the processor treats the body as a pointer and asks the provider
