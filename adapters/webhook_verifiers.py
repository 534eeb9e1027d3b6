"""Inbound webhook verification, keyed by the catalog's `webhook.scheme`: one verifier per scheme (Stripe's
signed timestamp, base64 or hex HMAC, PayPal's verify call, Standard Webhooks…), built from the entry's header
and tolerance, so a provider that signs the way another does is a catalog line, not code.

The registry is empty until the receivers land (the webhooks issue registers one verifier per scheme); a
provider whose scheme has none is refused at the receiver rather than accepted unverified."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from adapters.spec import WebhookSpec


@dataclass(frozen=True)
class SignedDelivery:
    headers: Mapping[str, str]  # as received, case-insensitive lookups are the verifier's job
    body: bytes  # the exact bytes: a signature covers them, not a re-serialisation
    received_at: float  # epoch seconds (the tolerance is measured against it)


class WebhookRejected(Exception):
    """The delivery is not provably from the provider (missing, malformed or wrong signature; too old)."""


class WebhookVerifier(Protocol):
    def verify(self, delivery: SignedDelivery, secret: str) -> None:
        """Return if the delivery is authentic; raise WebhookRejected otherwise."""


VerifierFactory = Callable[[str | None, int | None], WebhookVerifier]  # (header, tolerance_s) → verifier

VERIFIERS: dict[str, VerifierFactory] = {}


def register(scheme: str) -> Callable[[VerifierFactory], VerifierFactory]:
    def add(factory: VerifierFactory) -> VerifierFactory:
        if scheme in VERIFIERS:
            raise ValueError(f"webhook scheme {scheme!r} already has a verifier")
        VERIFIERS[scheme] = factory
        return factory

    return add


def verifier_for(webhook: WebhookSpec) -> WebhookVerifier | None:
    """The verifier of a catalog entry's scheme, or None where the hub has none yet (refuse the delivery)."""
    factory = VERIFIERS.get(webhook.scheme)
    return factory(webhook.header, webhook.tolerance_s) if factory else None
