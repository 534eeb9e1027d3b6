"""Inbound webhook verification, keyed by the catalog's `webhook.scheme`: one small pure module per scheme,
built from the entry's header, prefix and tolerance, so a provider that signs the way another does is a
catalog line, not code.

A scheme without a verifier here (`none`) has no receiver: deliveries for it are refused rather than accepted
unverified. PayPal's verifier asks PayPal (`remote`, the adapter's call); every other one is pure."""

from __future__ import annotations

from adapters.spec import WebhookSpec
from adapters.webhook_verifiers.base import Handshake, SignedDelivery, VerifierFactory, WebhookRejected, WebhookVerifier
from adapters.webhook_verifiers.body_hmac import base64_body, hex_body
from adapters.webhook_verifiers.espocrm import EspoSignature
from adapters.webhook_verifiers.meta import MetaSignature
from adapters.webhook_verifiers.paypal import PayPalSignature, RemoteCheck
from adapters.webhook_verifiers.standard_webhooks import StandardSignature
from adapters.webhook_verifiers.stripe import StripeSignature
from adapters.webhook_verifiers.tokens import GoogleChannelToken, GraphClientState, SharedSecret, UnsignedPointer
from adapters.webhook_verifiers.twilio import TwilioSignature
from adapters.webhook_verifiers.twitch import TwitchSignature
from adapters.webhook_verifiers.x_crc import XSignature

__all__ = ["VERIFIERS", "Handshake", "SignedDelivery", "WebhookRejected", "WebhookVerifier", "verifier_for"]

VERIFIERS: dict[str, VerifierFactory] = {
    "stripe": StripeSignature,
    "hmac_sha256_base64": base64_body,
    "hmac_sha256_hex": hex_body,
    "standard_webhooks": StandardSignature,
    "twilio": TwilioSignature,
    "espocrm": EspoSignature,
    "twitch_eventsub": TwitchSignature,
    "meta": MetaSignature,
    "x_crc": XSignature,
    "google_channel": GoogleChannelToken,
    "graph_client_state": GraphClientState,
    "shared_secret": SharedSecret,
    "unsigned_refetch": UnsignedPointer,
}


def verifier_for(webhook: WebhookSpec, *, remote: RemoteCheck | None = None) -> WebhookVerifier | None:
    """The verifier of a catalog entry's scheme, or None where the hub has none (refuse the delivery).
    `remote`: how a scheme verified by the provider asks it (PayPal)."""
    if webhook.scheme == "paypal":
        return PayPalSignature(webhook, remote)
    factory = VERIFIERS.get(webhook.scheme)
    return factory(webhook) if factory else None
