"""What every API-key fake shares: the good credentials, call counts, idempotency replays, one lock."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

GOOD = {
    "stripe": "sk_test_51GoodKeyForTheFake",
    "stripe_restricted": "rk_test_51RestrictedKeyNoRefunds",
    "mollie": "test_GoodMollieKeyForTheFake12345",
    "kobo": "good-kobo-token-0123456789",
    "twilio_sid": "AC" + "1" * 32,
    "twilio": "good-twilio-auth-token-0123",
    "espocrm": "good-espo-api-key-0123456789",
    "xledger": "good-xledger-token-0123456789",
    "paypal_client": "paypal-client-id-sandbox",
    "paypal": "paypal-client-secret-value",
    "partner": "partner-api-token-0123456789",
    "google_maps": "AIzaGoodServerKeyIpRestricted0123456",
    "google_maps_browser": "AIzaBrowserKeyReferrerRestricted0123",
    "mapbox": "sk.eyJ1IjoiZmVkIiwiYSI6Imdvb2Qtc2VjcmV0LXRva2VuIn0.fake",
    "mapbox_public": "pk.eyJ1IjoiZmVkIiwiYSI6InB1YmxpYy10b2tlbiJ9.fake",
}


@dataclass
class KeyedBase:
    calls: dict[str, int] = field(default_factory=dict)
    request_ids: dict[str, dict[str, Any]] = field(default_factory=dict)  # PayPal-Request-Id / Mollie Idempotency-Key → body
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _count(self, provider: str) -> None:
        with self.lock:
            self.calls[provider] = self.calls.get(provider, 0) + 1

    def _replay(self, request: Request, header: str) -> dict[str, Any] | None:
        key = request.headers.get(header)
        return self.request_ids.get(f"{request.url.path}|{key}") if key else None

    def _remember(self, request: Request, header: str, body: dict[str, Any]) -> None:
        if key := request.headers.get(header):
            self.request_ids[f"{request.url.path}|{key}"] = body


Fake = TypeVar("Fake", bound=KeyedBase)
Handler = Callable[[Fake, Request], Awaitable[Response]]


def guarded(provider: str, refused: Callable[[Fake, Request], Response | None]) -> Callable[[Handler[Fake]], Handler[Fake]]:
    """A provider endpoint: the call is counted, and a request the provider would refuse (its credentials) gets the
    provider's own refusal before the handler runs."""

    def decorate(handler: Handler[Fake]) -> Handler[Fake]:
        @wraps(handler)
        async def guarded_handler(fake: Fake, request: Request) -> Response:
            fake._count(provider)
            if (answer := refused(fake, request)) is not None:
                return answer
            return await handler(fake, request)

        return guarded_handler

    return decorate
