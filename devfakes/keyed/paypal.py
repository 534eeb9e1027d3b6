"""PayPal: OAuth client credentials, checkout orders, capture and refunds, PayPal-Request-Id replays."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
import zlib
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devfakes.keyed.base import GOOD, KeyedBase, guarded

PAYPAL_SIGNING_KEY = b"fake-paypal-certificate-key"  # stands in for PayPal's certificate


@dataclass
class PayPalFake(KeyedBase):
    paypal_tokens: set[str] = field(default_factory=set)
    paypal_orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    paypal_refunds: list[dict[str, Any]] = field(default_factory=list)

    def routes(self) -> list[Route]:
        return [
            Route("/paypal/v2/checkout/orders", self.paypal_orders_create, methods=["POST"]),
            Route("/paypal/v2/checkout/orders/{id}", self.paypal_order),
            Route("/paypal/v2/checkout/orders/{id}/capture", self.paypal_capture, methods=["POST"]),
            Route("/paypal/v2/payments/captures/{id}/refund", self.paypal_refund, methods=["POST"]),
            Route("/paypal/v1/oauth2/token", self.paypal_token, methods=["POST"]),
            Route("/paypal/v1/notifications/webhooks", self.paypal_webhooks),
            Route("/paypal/v1/notifications/verify-webhook-signature", self.paypal_verify, methods=["POST"]),
        ]

    def _paypal_refused(self, request: Request) -> Response | None:
        if request.headers.get("authorization", "").removeprefix("Bearer ") not in self.paypal_tokens:
            return JSONResponse({"name": "AUTHENTICATION_FAILURE", "message": "Authentication failed"}, 401)
        return None

    @guarded("paypal", _paypal_refused)
    async def paypal_orders_create(self, request: Request) -> Response:
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

    @guarded("paypal", _paypal_refused)
    async def paypal_order(self, request: Request) -> Response:
        order = self.paypal_orders.get(request.path_params["id"])
        if order is None:
            return JSONResponse({"name": "RESOURCE_NOT_FOUND"}, 404)
        return JSONResponse(order)

    @guarded("paypal", _paypal_refused)
    async def paypal_capture(self, request: Request) -> Response:
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

    @guarded("paypal", _paypal_refused)
    async def paypal_refund(self, request: Request) -> Response:
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

    # --- webhook signatures: the fake signs with its own key what real PayPal signs with its certificate -------
    def paypal_sign(self, event: dict[str, Any], webhook_id: str) -> dict[str, str]:
        """The headers of a delivery of `event` to the webhook `webhook_id`, as PayPal would send them."""
        transmission_id, at = str(uuid.uuid4()), "2026-12-03T10:00:00Z"
        return {
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": at,
            "PAYPAL-TRANSMISSION-SIG": self._paypal_signature(transmission_id, at, webhook_id, event),
            "PAYPAL-CERT-URL": "https://api-m.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594",
            "PAYPAL-AUTH-ALGO": "SHA256withRSA",
        }

    @staticmethod
    def _paypal_signature(transmission_id: str, at: str, webhook_id: str, event: dict[str, Any]) -> str:
        crc = zlib.crc32(json.dumps(event, sort_keys=True, separators=(",", ":")).encode())
        message = f"{transmission_id}|{at}|{webhook_id}|{crc}".encode()
        return base64.b64encode(hmac.new(PAYPAL_SIGNING_KEY, message, hashlib.sha256).digest()).decode()

    async def paypal_verify(self, request: Request) -> Response:
        self._count("paypal")
        if request.headers.get("authorization", "").removeprefix("Bearer ") not in self.paypal_tokens:
            return JSONResponse({"name": "AUTHENTICATION_FAILURE"}, status_code=401)
        q = await request.json()
        try:
            expected = self._paypal_signature(
                q["transmission_id"], q["transmission_time"], q["webhook_id"], q["webhook_event"]
            )
        except (KeyError, TypeError):
            return JSONResponse({"name": "VALIDATION_ERROR", "message": "Invalid request - see details"}, 400)
        ok = hmac.compare_digest(expected, str(q.get("transmission_sig", "")))
        return JSONResponse({"verification_status": "SUCCESS" if ok else "FAILURE"})
