"""Twitch EventSub: `Twitch-Eventsub-Message-Signature: sha256=<hex HMAC-SHA256(secret, message id + timestamp
+ raw body)>`, the timestamp RFC 3339 and no older than 10 minutes. A `webhook_callback_verification` message
is answered by echoing its `challenge` as text/plain (after its signature checks out); `revocation` messages
are deliveries like any other (the processor marks the subscription gone)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from adapters.webhook_verifiers import base
from adapters.webhook_verifiers.base import Handshake, SignedDelivery, WebhookRejected


def _epoch(rfc3339: str) -> float:
    head, dot, rest = rfc3339.rstrip("Z").partition(".")
    fraction = "." + rest[:6] if dot else ""  # Twitch sends nanoseconds; Python parses microseconds
    try:
        return datetime.fromisoformat(head + fraction + "+00:00").timestamp()
    except ValueError:
        raise WebhookRejected("the message timestamp is not RFC 3339") from None


class TwitchSignature(base.Scheme):
    default_tolerance_s = 600

    def verify(self, delivery: SignedDelivery, secrets: Sequence[str]) -> Handshake | None:
        message_id = base.required_header(delivery, "Twitch-Eventsub-Message-Id")
        timestamp = base.required_header(delivery, "Twitch-Eventsub-Message-Timestamp")
        given = base.required_header(delivery, "Twitch-Eventsub-Message-Signature").removeprefix("sha256=")
        signed = (message_id + timestamp).encode() + delivery.body
        if not base.matches_any([given], secrets, lambda secret: base.hmac_sha256(secret.encode(), signed).hex()):
            raise WebhookRejected("the EventSub signature does not match")
        if abs(delivery.received_at - _epoch(timestamp)) > self._tolerance_s:
            raise WebhookRejected("the message timestamp is outside the tolerance")
        if delivery.header("Twitch-Eventsub-Message-Type") == "webhook_callback_verification":
            try:
                challenge = json.loads(delivery.body)["challenge"]
            except (ValueError, KeyError, TypeError):
                raise WebhookRejected("the verification message has no challenge") from None
            return Handshake(str(challenge))
        return None
