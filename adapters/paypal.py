"""PayPal (Orders v2). Client-credentials token (see integrations/machine_tokens.py); every write carries
`PayPal-Request-Id`. A payment is an order with intent CAPTURE: the payer approves it at the `payer-action`
/ `approve` link, and the hub captures it the next time it looks at an approved order (what a merchant does
when the payer comes back). Refunds name the capture."""

from __future__ import annotations

from typing import Any

from adapters.payments import PaymentAdapter, PaymentRequest, PaymentStatus, ProviderPayment, ProviderRefund, decimal_amount

STATUSES = {
    "CREATED": PaymentStatus.pending,
    "SAVED": PaymentStatus.pending,
    "PAYER_ACTION_REQUIRED": PaymentStatus.pending,
    "APPROVED": PaymentStatus.authorized,
    "COMPLETED": PaymentStatus.succeeded,
    "VOIDED": PaymentStatus.canceled,
}


class PayPalAdapter(PaymentAdapter):
    @staticmethod
    def _payment(order: dict[str, Any]) -> ProviderPayment:
        link = next((x["href"] for x in order.get("links", []) if x.get("rel") in ("payer-action", "approve")), None)
        captures = [c for unit in order.get("purchase_units", []) for c in (unit.get("payments") or {}).get("captures", [])]
        capture = captures[0]["id"] if captures else None
        return ProviderPayment.said(order["id"], order["status"], STATUSES, checkout_url=link, refundable_ref=capture)

    def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        body: dict[str, Any] = {
            "intent": "CAPTURE",
            "purchase_units": [
                {
                    "reference_id": request.key[:256],
                    "custom_id": request.key[:127],
                    "description": request.description[:127],
                    "amount": {
                        "currency_code": request.currency,
                        "value": decimal_amount(request.amount_minor, request.currency),
                    },
                }
            ],
        }
        if request.return_url:
            body["application_context"] = {"return_url": request.return_url, "cancel_url": request.return_url}
        order = self.write_once("POST", "/v2/checkout/orders", "payments.create", ("pay", request.key), json=body)
        return self._payment(order)

    def verify_webhook_signature(self, question: dict[str, Any]) -> bool:
        """PayPal's own check of a delivery's transmission signature (the webhook verifier asks through this)."""
        data = self.request(
            "POST", "/v1/notifications/verify-webhook-signature", operation="webhooks.verify", json=question
        ).json()
        return bool(data.get("verification_status") == "SUCCESS")

    def get_payment(self, provider_payment_id: str) -> ProviderPayment:
        order = self.request("GET", f"/v2/checkout/orders/{provider_payment_id}", operation="payments.get").json()
        if order["status"] == "APPROVED":  # the payer approved: capture now (idempotent per order)
            order = self.write_once(
                "POST",
                f"/v2/checkout/orders/{provider_payment_id}/capture",
                "payments.capture",
                ("cap", provider_payment_id),
                json={},
            )
        return self._payment(order)

    def refund(self, payment: ProviderPayment, *, key: str, amount_minor: int, currency: str, reason: str) -> ProviderRefund:
        body = {
            "amount": {"currency_code": currency, "value": decimal_amount(amount_minor, currency)},
            "note_to_payer": reason[:255] or "Refund",
        }
        data = self.write_once(
            "POST", f"/v2/payments/captures/{payment.refundable_ref}/refund", "payments.refund", ("ref", key), json=body
        )
        return ProviderRefund(provider_refund_id=data["id"], status=data["status"])
