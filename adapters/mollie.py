"""iDEAL through Mollie (the PSP we chose for the Netherlands: API-key auth, no merchant contract with
each bank, refunds over the same API). iDEAL is EUR only. Payments are created with `method: ideal` and an
`Idempotency-Key`; the payer is sent to `_links.checkout.href`. Mollie's webhook only posts the payment id,
so the hub always learns the status by fetching the payment."""

from __future__ import annotations

from typing import Any

from adapters.payments import PaymentAdapter, PaymentRequest, PaymentStatus, ProviderPayment, ProviderRefund, decimal_amount
from integrations.documents.document import ValidationCheck

STATUSES = {
    "open": PaymentStatus.pending,
    "pending": PaymentStatus.pending,
    "authorized": PaymentStatus.authorized,
    "paid": PaymentStatus.succeeded,
    "failed": PaymentStatus.failed,
    "expired": PaymentStatus.failed,
    "canceled": PaymentStatus.canceled,
}


class MollieAdapter(PaymentAdapter):
    CURRENCIES = frozenset({"EUR"})

    def validate(self) -> list[ValidationCheck]:
        if self.document.config.psp != "mollie":
            return [
                ValidationCheck(
                    name="provider.psp",
                    passed=False,
                    detail=f"config.psp is {self.document.config.psp}: the hub reaches iDEAL through Mollie "
                    "(no Adyen adapter yet)",
                )
            ]
        return super().validate()

    @staticmethod
    def _payment(body: dict[str, Any]) -> ProviderPayment:
        checkout = (body.get("_links", {}).get("checkout") or {}).get("href")
        return ProviderPayment.said(body["id"], body["status"], STATUSES, checkout_url=checkout, refundable_ref=body["id"])

    def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        body = {
            "amount": {"currency": request.currency, "value": decimal_amount(request.amount_minor, request.currency)},
            "description": request.description,
            "redirectUrl": request.return_url,
            "method": "ideal",
            "metadata": {"hub_key": request.key},
        }
        data = self.write_once("POST", "/payments", "payments.create", ("pay", request.key), json=body)
        return self._payment(data)

    def get_payment(self, provider_payment_id: str) -> ProviderPayment:
        return self._payment(self.request("GET", f"/payments/{provider_payment_id}", operation="payments.get").json())

    def refund(self, payment: ProviderPayment, *, key: str, amount_minor: int, currency: str, reason: str) -> ProviderRefund:
        body = {
            "amount": {"currency": currency, "value": decimal_amount(amount_minor, currency)},
            "description": reason[:140] or "Refund",
            "metadata": {"hub_key": key},
        }
        data = self.write_once(
            "POST", f"/payments/{payment.refundable_ref}/refunds", "payments.refund", ("ref", key), json=body
        )
        return ProviderRefund(provider_refund_id=data["id"], status=data["status"])
