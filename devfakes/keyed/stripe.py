"""Stripe: Bearer secret or restricted keys (permission errors), 25 req/s in test mode, idempotency keys
compared by parameters (400 `idempotency_error`, 409 while the first request is in flight)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devfakes.keyed.base import GOOD, KeyedBase, guarded

RESTRICTED_PERMISSIONS = {"balance", "payment_intents"}  # no refunds, subscriptions, payouts


@dataclass
class StripeFake(KeyedBase):
    stripe_window: deque[float] = field(default_factory=deque)
    stripe_throttled: int = 0
    stripe_intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    stripe_refunds: list[dict[str, Any]] = field(default_factory=list)
    stripe_idempotency: dict[str, tuple[str, dict[str, Any]]] = field(
        default_factory=dict
    )  # key → (params digest, response)
    stripe_in_flight: set[str] = field(default_factory=set)  # keys whose first request is still being processed
    stripe_write_delay_s: float = 0.0  # how long a write takes (a real one takes a few hundred ms)

    def routes(self) -> list[Route]:
        return [
            Route("/stripe/v1/payment_intents", self.stripe_payment_intents, methods=["POST"]),
            Route("/stripe/v1/payment_intents/{id}", self.stripe_payment_intent),
            Route("/stripe/v1/payment_intents/{id}/confirm", self.stripe_confirm, methods=["POST"]),
            Route("/stripe/v1/refunds", self.stripe_refunds_create, methods=["POST"]),
            Route("/stripe/v1/{resource}", self.stripe),
        ]

    async def stripe(self, request: Request) -> Response:
        self._count("stripe")
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        if key not in (GOOD["stripe"], GOOD["stripe_restricted"]):
            masked = f"{key[:8]}****{key[-4:]}" if len(key) > 12 else "****"
            return JSONResponse(
                {"error": {"type": "invalid_request_error", "message": f"Invalid API Key provided: {masked}"}},
                status_code=401,
            )
        with self.lock:
            now = time.monotonic()
            while self.stripe_window and now - self.stripe_window[0] >= 1.0:
                self.stripe_window.popleft()
            if len(self.stripe_window) >= 25:
                self.stripe_throttled += 1
                return JSONResponse({"error": {"type": "rate_limit_error", "message": "Too many requests"}}, status_code=429)
            self.stripe_window.append(now)
        resource = request.path_params["resource"]
        if key == GOOD["stripe_restricted"] and resource not in RESTRICTED_PERMISSIONS:
            return JSONResponse(
                {
                    "error": {
                        "type": "invalid_request_error",
                        "message": (
                            "The provided key 'rk_test_***' does not have the required permissions for this endpoint. "
                            "Having "
                            f"the 'rak_{resource.rstrip('s')}_read' permission would allow this request to continue."
                        ),
                    }
                },
                status_code=403,
            )
        if resource == "balance":
            return JSONResponse({"object": "balance", "livemode": False, "available": [{"amount": 0, "currency": "sek"}]})
        return JSONResponse({"object": "list", "data": [], "has_more": False})

    # --- Stripe payments (form-encoded, Idempotency-Key remembered with its parameters) -------------------------
    def _stripe_key_ok(self, request: Request) -> Response | None:
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        if key not in (GOOD["stripe"], GOOD["stripe_restricted"]):
            return JSONResponse({"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}, 401)
        if key == GOOD["stripe_restricted"] and "refunds" in request.url.path:
            return JSONResponse(
                {"error": {"type": "invalid_request_error", "message": "missing the 'rak_refund_write' permission"}},
                403,
            )
        return None

    async def _stripe_idempotent(self, request: Request, create) -> Response:  # type: ignore[no-untyped-def]
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        key = request.headers.get("idempotency-key")
        with self.lock:
            if key and key in self.stripe_in_flight:  # Stripe: 409 while the key's first request is in progress
                return JSONResponse(
                    {
                        "error": {
                            "type": "idempotency_error",
                            "code": "idempotency_key_in_use",
                            "message": "There is currently another in-progress request using this Idempotent Key; "
                            "please try again later.",
                        }
                    },
                    409,
                )
            if key and key not in self.stripe_idempotency:
                self.stripe_in_flight.add(key)
        if key and self.stripe_write_delay_s:
            await asyncio.sleep(self.stripe_write_delay_s)
        try:
            return self._stripe_once(key, form, create)
        finally:
            with self.lock:
                self.stripe_in_flight.discard(key or "")

    def _stripe_once(self, key: str | None, form: dict[str, Any], create) -> Response:  # type: ignore[no-untyped-def]
        with self.lock:
            if key and key in self.stripe_idempotency:
                params, body = self.stripe_idempotency[key]
                if params != repr(sorted(form.items())):
                    return JSONResponse(
                        {
                            "error": {
                                "type": "idempotency_error",
                                "message": "Keys for idempotent requests can only be used with the same parameters "
                                "they were first used with.",
                            }
                        },
                        400,
                    )
                return JSONResponse(body, headers={"Idempotent-Replayed": "true"})
            body = create(form)
            if isinstance(body, Response):
                return body
            if key:
                self.stripe_idempotency[key] = (repr(sorted(form.items())), body)
        return JSONResponse(body)

    @guarded("stripe", _stripe_key_ok)
    async def stripe_payment_intents(self, request: Request) -> Response:

        def create(form: dict[str, Any]) -> dict[str, Any] | Response:
            if not str(form.get("amount", "")).isdigit() or int(form["amount"]) < 1:
                return JSONResponse({"error": {"type": "invalid_request_error", "param": "amount"}}, 400)
            pi_id = f"pi_{uuid.uuid4().hex[:24]}"
            intent = {
                "id": pi_id,
                "object": "payment_intent",
                "amount": int(form["amount"]),
                "currency": form["currency"],
                "status": "requires_payment_method",
                "client_secret": f"{pi_id}_secret_{uuid.uuid4().hex[:16]}",
                "metadata": {"hub_key": form.get("metadata[hub_key]")},
                "amount_refunded": 0,
            }
            self.stripe_intents[pi_id] = intent
            return intent

        return await self._stripe_idempotent(request, create)

    def _stripe_intent(self, request: Request) -> dict[str, Any] | Response:
        """The path's payment intent, or Stripe's refusal (bad key, no such intent)."""
        self._count("stripe")
        if refused := self._stripe_key_ok(request):
            return refused
        intent = self.stripe_intents.get(request.path_params["id"])
        if intent is None:
            return JSONResponse({"error": {"type": "invalid_request_error", "code": "resource_missing"}}, 404)
        return intent

    async def stripe_payment_intent(self, request: Request) -> Response:
        intent = self._stripe_intent(request)
        return intent if isinstance(intent, Response) else JSONResponse(intent)

    @guarded("stripe", _stripe_key_ok)
    async def stripe_refunds_create(self, request: Request) -> Response:

        def create(form: dict[str, Any]) -> dict[str, Any] | Response:
            intent = self.stripe_intents.get(form.get("payment_intent", ""))
            if intent is None or intent["status"] != "succeeded":
                return JSONResponse({"error": {"type": "invalid_request_error", "code": "charge_not_refundable"}}, 400)
            amount = int(form.get("amount", intent["amount"] - intent["amount_refunded"]))
            if amount > intent["amount"] - intent["amount_refunded"]:
                return JSONResponse({"error": {"type": "invalid_request_error", "code": "amount_too_large"}}, 400)
            intent["amount_refunded"] += amount
            refund = {"id": f"re_{uuid.uuid4().hex[:24]}", "amount": amount, "status": "succeeded"}
            self.stripe_refunds.append(refund)
            return refund

        return await self._stripe_idempotent(request, create)

    async def stripe_confirm(self, request: Request) -> Response:
        """Test mode's confirm with a test card: `pm_card_visa` succeeds, `pm_card_chargeDeclined` is declined."""
        intent = self._stripe_intent(request)
        if isinstance(intent, Response):
            return intent
        method = parse_qs((await request.body()).decode()).get("payment_method", [""])[0]
        if method == "pm_card_chargeDeclined":
            return JSONResponse({"error": {"type": "card_error", "code": "card_declined"}}, 402)
        if method != "pm_card_visa":
            return JSONResponse({"error": {"type": "invalid_request_error", "param": "payment_method"}}, 400)
        intent["status"] = "succeeded"
        return JSONResponse(intent)

    def stripe_succeed(self, pi_id: str) -> None:
        self.stripe_intents[pi_id]["status"] = "succeeded"

    # --- Mollie payments ---------------------------------------------------------------------------------------
