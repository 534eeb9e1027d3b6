"""What every webhook verifier shares: the delivery as received, the answer to a handshake, the rejection,
and the few primitives (header lookup, HMAC, constant-time match against several secrets, timestamp window)
the scheme modules are built from. Pure: no I/O, no clock (the receipt time is part of the delivery)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from adapters.spec import WebhookSpec


@dataclass(frozen=True)
class SignedDelivery:
    headers: Mapping[str, str]  # as received; `header()` looks them up case-insensitively
    body: bytes  # the exact bytes: a signature covers them, not a re-serialisation
    received_at: float  # epoch seconds (the tolerance is measured against it)
    url: str = ""  # the full URL the sender posted to, query included (Twilio signs it)
    method: str = "POST"
    query: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


@dataclass(frozen=True)
class Handshake:
    """A verification request the receiver answers directly (nothing is stored or processed)."""

    body: str
    media_type: str = "text/plain"
    status: int = 200


class WebhookRejected(Exception):
    """The delivery is not provably from the provider (missing, malformed or wrong signature; too old). The
    message says which, without echoing what was sent."""


class WebhookVerifier(Protocol):
    def verify(self, delivery: SignedDelivery, secrets: Sequence[str]) -> Handshake | None:
        """Return None if the delivery is authentic, a Handshake to answer a verification request; raise
        WebhookRejected otherwise. `secrets` holds every secret valid now (two during a rotation)."""


def required_header(delivery: SignedDelivery, name: str | None) -> str:
    value = delivery.header(name or "")
    if not value:
        raise WebhookRejected(f"the {name} header is missing")
    return value


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def matches_any(given: Iterable[str], secrets: Sequence[str], expected: Callable[[str], str]) -> bool:
    """Whether any given signature equals the expected one for any secret, compared in constant time (all
    pairs are compared, so the time does not tell which secret or which signature came close)."""
    if not secrets:
        raise WebhookRejected("no webhook secret is configured for this integration")
    candidates = [signature.encode() for signature in given]
    found = False
    for secret in secrets:
        want = expected(secret).encode()
        for candidate in candidates:
            found |= hmac.compare_digest(want, candidate)
    return found


def within(timestamp: str, delivery: SignedDelivery, tolerance_s: int) -> None:
    """The signed timestamp (epoch seconds) is no further than the tolerance from the receipt, either way."""
    try:
        at = int(timestamp)
    except ValueError:
        raise WebhookRejected("the signed timestamp is not a number") from None
    if abs(delivery.received_at - at) > tolerance_s:
        raise WebhookRejected("the signed timestamp is outside the tolerance")


VerifierFactory = Callable[[WebhookSpec], WebhookVerifier]


class Scheme:
    """What a scheme reads of its catalog entry: the header carrying the signature or token (the scheme's own
    name for it unless the entry names another) and how old a signed timestamp may be."""

    default_header: ClassVar[str | None] = None
    default_tolerance_s: ClassVar[int] = 300

    def __init__(self, spec: WebhookSpec) -> None:
        self._header = spec.header or self.default_header
        self._tolerance_s = spec.tolerance_s or self.default_tolerance_s
