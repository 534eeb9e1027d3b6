"""Swish (Sweden). Mutual TLS with the merchant's Swish certificate (a PKCS#12 bundle kept in the secret
store under signing_certificate_ref). The key leaves the store only for the duration of a call: it is
written to a private temporary folder (0700) that is removed afterwards, because `requests` reads client
certificates from files. Callbacks are unsigned, so the hub re-fetches a payment request by id.

Payment requests and refunds are PUTs to an instruction UUID we derive from the integration and the
platform's key (32 uppercase hex): the same request twice names the same instruction, which Swish refuses
to create again (we then read the existing one). Amounts are SEK only, as decimal strings."""

from __future__ import annotations

import base64
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from adapters.checks import timed
from adapters.payments import PaymentAdapter, PaymentRequest, PaymentStatus, ProviderPayment, ProviderRefund, decimal_amount
from integrations.documents.document import ValidationCheck
from shared.errors import ProviderError
from shared.http import Call

PROBE_ID = "0" * 32  # a payment request id that does not exist: 404 proves the TLS handshake and the route
STATUSES = {
    "CREATED": PaymentStatus.pending,
    "PAID": PaymentStatus.succeeded,
    "DECLINED": PaymentStatus.failed,
    "ERROR": PaymentStatus.failed,
    "CANCELLED": PaymentStatus.canceled,
}


class SwishAdapter(PaymentAdapter):
    CURRENCIES = frozenset({"SEK"})

    @contextmanager
    def client_certificate(self, operation: str) -> Iterator[tuple[str, str]]:
        bundle = base64.b64decode(self.ctx.resolve_secret("signing_certificate_ref", operation))
        key, cert, chain = pkcs12.load_key_and_certificates(bundle, None)
        if key is None or cert is None:
            raise ProviderError(detail="swish: the certificate bundle has no key or certificate", provider="swish")
        with tempfile.TemporaryDirectory(prefix="swish-") as folder:
            os.chmod(folder, 0o700)
            cert_path, key_path = Path(folder, "cert.pem"), Path(folder, "key.pem")
            pem = serialization.Encoding.PEM
            cert_path.write_bytes(cert.public_bytes(pem) + b"".join(c.public_bytes(pem) for c in chain or []))
            key_path.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
            yield str(cert_path), str(key_path)

    def call(
        self, method: str, path: str, *, operation: str, json: object = None, expect: frozenset[int] = frozenset()
    ) -> requests.Response:
        with self.client_certificate(operation) as cert:
            return self.ctx.outbound.send(
                Call(
                    method,
                    f"{self.base_url}{path}",
                    json=json,
                    cert=cert,
                    expect=expect,
                    verify=self.ctx.url_overrides.get("ca_bundle", True),
                ),
                self.policy(operation),
            )

    def validate(self) -> list[ValidationCheck]:
        def handshake() -> str:
            try:
                response = self.call("GET", f"/v1/paymentrequests/{PROBE_ID}", operation="validate", expect=frozenset({404}))
            except ProviderError as exc:
                raise ConnectionError(
                    f"swish refused the client certificate or could not be reached ({exc.detail})"
                ) from None
            return f"mutual TLS accepted (probe → {response.status_code})"

        merchant = self.document.config.merchant_id or ""
        return [
            ValidationCheck(
                name="config.merchant_id",
                passed=merchant.isdigit() and len(merchant) == 10,
                detail=f"Swish number {merchant}"
                if merchant.isdigit() and len(merchant) == 10
                else "config.merchant_id must be the merchant's 10-digit Swish number (123…): payments name it",
            ),
            timed("provider.authenticate", handshake),
        ]

    def instruction_id(self, kind: str, key: str) -> str:
        return uuid.uuid5(uuid.NAMESPACE_URL, f"{self.document.tenant_id}/{self.document.id}/{kind}/{key}").hex.upper()

    @staticmethod
    def _payment(body: dict[str, Any], token: str | None = None) -> ProviderPayment:
        reference = body.get("paymentReference")
        return ProviderPayment.said(body["id"], body["status"], STATUSES, client_token=token, refundable_ref=reference)

    def _callback(self) -> str:
        if not (self.ctx.callback_url or "").startswith("https://"):
            raise ProviderError(
                detail=f"swish calls back over HTTPS only; the hub's public URL gives {self.ctx.callback_url!r} "
                "(set HUB_PUBLIC_BASE_URL)",
                provider="swish",
            )
        return self.ctx.callback_url or ""

    def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        instruction = self.instruction_id("payment", request.key)
        body = {
            "payeePaymentReference": request.key[:35],
            "callbackUrl": self._callback(),
            "payeeAlias": self.document.config.merchant_id,
            "amount": decimal_amount(request.amount_minor, request.currency),
            "currency": request.currency,
            "message": request.description[:50],
        }
        if request.payer_alias:
            body["payerAlias"] = request.payer_alias.lstrip("+")
        response = self.call(
            "PUT",
            f"/v2/paymentrequests/{instruction}",
            operation="payments.create",
            json=body,
            expect=frozenset({409}),
        )
        if response.status_code == 409:
            return self.get_payment(instruction)  # created by an earlier attempt
        token = response.headers.get("PaymentRequestToken")
        return ProviderPayment(
            provider_payment_id=instruction,
            status=PaymentStatus.pending,
            provider_status="CREATED",
            client_token=token,
        )

    def get_payment(self, provider_payment_id: str) -> ProviderPayment:
        return self._payment(self.call("GET", f"/v1/paymentrequests/{provider_payment_id}", operation="payments.get").json())

    def refund(self, payment: ProviderPayment, *, key: str, amount_minor: int, currency: str, reason: str) -> ProviderRefund:
        instruction = self.instruction_id("refund", key)
        body = {
            "originalPaymentReference": payment.refundable_ref,
            "callbackUrl": self._callback(),
            "payerAlias": self.document.config.merchant_id,
            "amount": decimal_amount(amount_minor, currency),
            "currency": currency,
            "message": reason[:50] or "Refund",
        }
        response = self.call(
            "PUT", f"/v2/refunds/{instruction}", operation="payments.refund", json=body, expect=frozenset({409})
        )
        if response.status_code == 409:
            current = self.call("GET", f"/v1/refunds/{instruction}", operation="payments.refund").json()
            return ProviderRefund(provider_refund_id=instruction, status=current["status"])
        return ProviderRefund(provider_refund_id=instruction, status="CREATED")
