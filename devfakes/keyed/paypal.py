"""PayPal: OAuth client credentials, checkout orders, capture and refunds, PayPal-Request-Id replays."""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devfakes.keyed.base import GOOD, KeyedBase


@dataclass
class PayPalFake(KeyedBase):
    paypal_tokens: set[str] = field(default_factory=set)
    paypal_orders: dict[str, dict] = field(default_factory=dict)
    paypal_refunds: list[dict] = field(default_factory=list)

    def routes(self) -> list[Route]:
        return [
            Route("/paypal/v2/checkout/orders", self.paypal_orders_create, methods=["POST"]),
            Route("/paypal/v2/checkout/orders/{id}", self.paypal_order),
            Route("/paypal/v2/checkout/orders/{id}/capture", self.paypal_capture, methods=["POST"]),
            Route("/paypal/v2/payments/captures/{id}/refund", self.paypal_refund, methods=["POST"]),
            Route("/paypal/v1/oauth2/token", self.paypal_token, methods=["POST"]),
            Route("/paypal/v1/notifications/webhooks", self.paypal_webhooks),
        ]

    def _paypal_refused(self, request: Request) -> Response | None:
        if request.headers.get("authorization", "").removeprefix("Bearer ") not in self.paypal_tokens:
            return JSONResponse({"name": "AUTHENTICATION_FAILURE", "message": "Authentication failed"}, 401)
        return None

    async def paypal_orders_create(self, request: Request) -> Response:
        self._count("paypal")
        if refused := self._paypal_refused(request):
            return refused
        with self.lock:
            if replay := self._replay(request, "paypal-request-id"):
                return JSONResponse(replay, status_code=200)
            body = await request.json()
            order_id = uuid.uuid4().hex[:17].upper()
            order = {
                "id": order_id,
                "status": "PAYER_ACTION_REQUIRED",
                "purchase_units": body["purchase_units"],
                "links": [{"rel": "payer-action", "href": f"https://www.sandbox.paypal.com/checkoutnow?token={order_id}"}],
            }
            self.paypal_orders[order_id] = order
            self._remember(request, "paypal-request-id", order)
        return JSONResponse(order, status_code=201)

    async def paypal_order(self, request: Request) -> Response:
        self._count("paypal")
        if refused := self._paypal_refused(request):
            return refused
        order = self.paypal_orders.get(request.path_params["id"])
        if order is None:
            return JSONResponse({"name": "RESOURCE_NOT_FOUND"}, 404)
        return JSONResponse(order)

    async def paypal_capture(self, request: Request) -> Response:
        self._count("paypal")
        if refused := self._paypal_refused(request):
            return refused
        with self.lock:
            if replay := self._replay(request, "paypal-request-id"):
                return JSONResponse(replay, status_code=201)
            order = self.paypal_orders.get(request.path_params["id"])
            if order is None or order["status"] != "APPROVED":
                return JSONResponse({"name": "UNPROCESSABLE_ENTITY", "details": [{"issue": "ORDER_NOT_APPROVED"}]}, 422)
            order["status"] = "COMPLETED"
            unit = order["purchase_units"][0]
            unit["payments"] = {"captures": [{"id": f"CAP{uuid.uuid4().hex[:13].upper()}", "amount": unit["amount"]}]}
            self._remember(request, "paypal-request-id", order)
        return JSONResponse(order, status_code=201)

    async def paypal_refund(self, request: Request) -> Response:
        self._count("paypal")
        if refused := self._paypal_refused(request):
            return refused
        with self.lock:
            if replay := self._replay(request, "paypal-request-id"):
                return JSONResponse(replay, status_code=201)
            capture = request.path_params["id"]
            known = any(
                c["id"] == capture
                for o in self.paypal_orders.values()
                for u in o["purchase_units"]
                for c in (u.get("payments") or {}).get("captures", [])
            )
            if not known:
                return JSONResponse({"name": "RESOURCE_NOT_FOUND", "message": "capture not found"}, 404)
            body = await request.json()
            refund = {"id": f"RF{uuid.uuid4().hex[:14].upper()}", "status": "COMPLETED", "amount": body["amount"]}
            self.paypal_refunds.append(refund)
            self._remember(request, "paypal-request-id", refund)
        return JSONResponse(refund, status_code=201)

    def paypal_approve(self, order_id: str) -> None:
        self.paypal_orders[order_id]["status"] = "APPROVED"

    async def paypal_token(self, request: Request) -> Response:
        self._count("paypal")
        expected = base64.b64encode(f"{GOOD['paypal_client']}:{GOOD['paypal']}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return JSONResponse(
                {"error": "invalid_client", "error_description": "Client Authentication failed"}, status_code=401
            )
        token = "A21AA" + base64.urlsafe_b64encode(time.time_ns().to_bytes(8, "big")).decode()
        with self.lock:
            self.paypal_tokens.add(token)
        return JSONResponse(
            {
                "scope": "https://uri.paypal.com/services/payments/payment",
                "access_token": token,
                "token_type": "Bearer",
                "app_id": "APP-80W284485P519543T",
                "expires_in": 32400,
            }
        )

    async def paypal_webhooks(self, request: Request) -> Response:
        self._count("paypal")
        if request.headers.get("authorization", "").removeprefix("Bearer ") not in self.paypal_tokens:
            return JSONResponse(
                {
                    "name": "AUTHENTICATION_FAILURE",
                    "message": "Authentication failed due to invalid "
                    "authentication credentials or a missing Authorization header.",
                },
                status_code=401,
            )
        return JSONResponse({"webhooks": []})
