"""Mollie (iDEAL): Bearer `test_` keys, payments and refunds, Idempotency-Key replays."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devfakes.keyed.base import GOOD, KeyedBase, guarded


@dataclass
class MollieFake(KeyedBase):
    mollie_store: dict[str, dict[str, Any]] = field(default_factory=dict)
    mollie_refunds: list[dict[str, Any]] = field(default_factory=list)

    def routes(self) -> list[Route]:
        return [
            Route("/mollie/v2/payments", self.mollie_payments, methods=["POST"]),
            Route("/mollie/v2/payments/{id}", self.mollie_payment),
            Route("/mollie/v2/payments/{id}/refunds", self.mollie_refund, methods=["POST"]),
            Route("/mollie/v2/methods", self.mollie),
        ]

    def _mollie_refused(self, request: Request) -> Response | None:
        if request.headers.get("authorization") != f"Bearer {GOOD['mollie']}":
            return JSONResponse({"status": 401, "title": "Unauthorized Request", "detail": "Missing authentication"}, 401)
        return None

    @guarded("ideal", _mollie_refused)
    async def mollie_payments(self, request: Request) -> Response:
        with self.lock:
            if replay := self._replay(request, "idempotency-key"):
                return JSONResponse(replay, status_code=201)
            body = await request.json()
            amount = body.get("amount") or {}
            if body.get("method") == "ideal" and amount.get("currency") != "EUR":
                return JSONResponse(
                    {"status": 422, "title": "Unprocessable Entity", "detail": "iDEAL only supports EUR", "field": "amount"},
                    422,
                )
            tr = f"tr_{uuid.uuid4().hex[:10]}"
            payment = {
                "resource": "payment",
                "id": tr,
                "status": "open",
                "amount": amount,
                "method": body.get("method"),
                "metadata": body.get("metadata"),
                "_links": {"checkout": {"href": f"https://www.mollie.com/checkout/select-issuer/ideal/{tr[3:]}"}},
            }
            self.mollie_store[tr] = payment
            self._remember(request, "idempotency-key", payment)
        return JSONResponse(payment, status_code=201)

    @guarded("ideal", _mollie_refused)
    async def mollie_payment(self, request: Request) -> Response:
        payment = self.mollie_store.get(request.path_params["id"])
        if payment is None:
            return JSONResponse({"status": 404, "title": "Not Found", "detail": "No payment exists with token"}, 404)
        return JSONResponse(payment)

    @guarded("ideal", _mollie_refused)
    async def mollie_refund(self, request: Request) -> Response:
        with self.lock:
            if replay := self._replay(request, "idempotency-key"):
                return JSONResponse(replay, status_code=201)
            payment = self.mollie_store.get(request.path_params["id"])
            if payment is None or payment["status"] != "paid":
                return JSONResponse(
                    {"status": 422, "title": "Unprocessable Entity", "detail": "The payment has not been paid"}, 422
                )
            body = await request.json()
            refund = {
                "resource": "refund",
                "id": f"re_{uuid.uuid4().hex[:10]}",
                "status": "pending",
                "amount": body["amount"],
            }
            self.mollie_refunds.append(refund)
            self._remember(request, "idempotency-key", refund)
        return JSONResponse(refund, status_code=201)

    # --- PayPal orders -----------------------------------------------------------------------------------------
    async def mollie(self, request: Request) -> Response:
        self._count("ideal")
        if request.headers.get("authorization") != f"Bearer {GOOD['mollie']}":
            return JSONResponse(
                {
                    "status": 401,
                    "title": "Unauthorized Request",
                    "detail": "Missing authentication, or failed to authenticate",
                },
                status_code=401,
            )
        return JSONResponse({"count": 1, "_embedded": {"methods": [{"id": "ideal", "description": "iDEAL"}]}})
