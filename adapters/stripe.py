"""Stripe (payments). Secret or restricted key as Bearer; `GET /balance` proves the key; restricted keys
lacking a permission get 403 naming it, which validation reports per capability.

Payments are PaymentIntents (form-encoded, amounts in minor units, lowercase currency) created with an
`Idempotency-Key`; the portal confirms them with Stripe.js using the returned client secret. Refunds name
the PaymentIntent."""

from __future__ import annotations

import functools
from typing import Any

from adapters.checks import timed
from adapters.payments import PaymentAdapter, PaymentRequest, PaymentStatus, ProviderPayment, ProviderRefund
from integrations.documents.document import ValidationCheck

# capability → a cheap read that needs the matching restricted-key permission
CAPABILITY_PROBES = {
    "payments": "/payment_intents?limit=1",
    "refunds": "/refunds?limit=1",
    "subscriptions": "/subscriptions?limit=1",
    "payouts": "/payouts?limit=1",
}
STATUSES = {
    "requires_payment_method": PaymentStatus.pending,
    "requires_confirmation": PaymentStatus.pending,
    "requires_action": PaymentStatus.pending,
    "processing": PaymentStatus.pending,
    "requires_capture": PaymentStatus.authorized,
    "succeeded": PaymentStatus.succeeded,
    "canceled": PaymentStatus.canceled,
}


class StripeAdapter(PaymentAdapter):
    def validate(self) -> list[ValidationCheck]:
        checks = [self.check_call("provider.authenticate", "GET", "/balance")]
        if not checks[0].passed:
            return checks
        key = self.ctx.resolve_secret("api_key_ref", "validate")
        mode = "test" if key.startswith(("sk_test_", "rk_test_")) else "live"
        checks.append(
            ValidationCheck(
                name="provider.mode",
                passed=(mode == "test") == self.document.sandbox,
                detail=f"{mode} key; sandbox={self.document.sandbox}",
            )
        )
        for capability, path in CAPABILITY_PROBES.items():
            if getattr(self.document.capabilities, capability):
                checks.append(timed(f"provider.scope.{capability}", functools.partial(self._probe, path)))
        return checks

    def _probe(self, path: str) -> str:
        response = self.request("GET", path, operation="validate", expect=frozenset({403}))
        if response.status_code == 403:
            raise PermissionError(response.json().get("error", {}).get("message", "permission missing"))
        return f"GET {path} → {response.status_code}"

    @staticmethod
    def _payment(intent: dict[str, Any]) -> ProviderPayment:
        secret = intent.get("client_secret")
        return ProviderPayment.said(
            intent["id"], intent["status"], STATUSES, client_token=secret, refundable_ref=intent["id"]
        )

    def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        form = {
            "amount": request.amount_minor,
            "currency": request.currency.lower(),
            "description": request.description,
            "metadata[hub_key]": request.key,
            "automatic_payment_methods[enabled]": "true",
        }
        intent = self.write_once("POST", "/payment_intents", "payments.create", ("pay", request.key), data=form)
        return self._payment(intent)

    def get_payment(self, provider_payment_id: str) -> ProviderPayment:
        return self._payment(self.request("GET", f"/payment_intents/{provider_payment_id}", operation="payments.get").json())

    def refund(self, payment: ProviderPayment, *, key: str, amount_minor: int, currency: str, reason: str) -> ProviderRefund:
        form = {"payment_intent": payment.refundable_ref, "amount": amount_minor, "metadata[hub_key]": key}
        if reason in ("duplicate", "fraudulent", "requested_by_customer"):
            form["reason"] = reason
        body = self.write_once("POST", "/refunds", "payments.refund", ("ref", key), data=form)
        return ProviderRefund(provider_refund_id=body["id"], status=body["status"])
