"""Payments through a payment-gateway integration (Stripe, PayPal, Swish, iDEAL via Mollie): create, look
up (re-fetched from the provider: callbacks are pointers or unsigned), refund.

Never charge twice, never refund more than was paid:
- The platform's `key` identifies a payment. The row is written (`creating`) before the provider call and the
  provider gets an idempotency key derived from it, so a retry after a timeout or a crash finds the payment
  the first attempt made. The same key with a different body is a 409.
- A refund is reserved in the payment row (ETag-checked) before the provider call, so concurrent refunds
  cannot together exceed the amount paid. The reserving request owns the refund: a duplicate arriving while
  it is in flight gets 409 `in_progress`, only the owner settles it, and a refusal releases the reservation
  exactly once. Provider idempotency keys are scoped to (tenant, integration, payment, refund).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from pydantic import BaseModel, Field

from adapters.payments import PaymentAdapter, PaymentRequest, PaymentStatus, ProviderPayment, decimal_amount
from integrations.documents.document import require_in_service
from integrations.documents.ref import IntegrationRef
from shared.errors import Conflict, FieldError, NotFound, PreconditionFailed, ProviderError, ValidationFailed
from shared.rows import Row, Rows
from shared.tables import Table

TERMINAL = frozenset({PaymentStatus.succeeded, PaymentStatus.failed, PaymentStatus.canceled})
# A refund reservation younger than this belongs to a live request (the outbound client gives up on a provider
# well within it); an older one whose owner never settled it was left by a crash and may be taken over.
IN_FLIGHT = timedelta(seconds=120)


class Refund(BaseModel):
    key: str = Field(description="The platform's refund id (idempotency key).")
    amount_minor: int
    amount: str = Field(description="The amount as a decimal string in the payment's currency.")
    status: str = Field(description="creating, then the provider's refund status (e.g. succeeded, pending).")
    provider_refund_id: str | None = None
    reason: str = ""
    created_at: datetime


class GatewayPayment(BaseModel):
    key: str = Field(description="The platform's payment id (idempotency key).")
    integration_id: str
    provider: str
    status: str = Field(description="creating, pending, authorized, succeeded, failed or canceled.")
    provider_status: str | None = Field(None, description="The provider's own status word.")
    provider_payment_id: str | None = None
    amount_minor: int = Field(description="Amount in minor units of the currency (öre, cents; yen as is).")
    amount: str = Field(description="The amount as a decimal string.")
    currency: str
    description: str
    checkout_url: str | None = Field(None, description="Redirect the payer here (PayPal, iDEAL).")
    client_token: str | None = Field(
        None,
        description="For the payer's device: Stripe.js client secret or Swish PaymentRequestToken (shown only to "
        "principals with payments:write).",
    )
    refunded_minor: int = Field(0, description="Sum of refunds not refused by the provider.")
    refunds: list[Refund] = Field(default_factory=list)
    error: str | None = None
    created_at: datetime
    updated_at: datetime


def _digest(request: PaymentRequest) -> str:
    body = [request.amount_minor, request.currency, request.description, request.return_url, request.payer_alias]
    return hashlib.sha256(json.dumps(body).encode()).hexdigest()[:16]


class PaymentRow(Row):
    """`PartitionKey = <tenant>|<integration>`, `RowKey = <payment key>`; the payment as JSON in `Body`. Beside
    it: the request's digest (a reused key must match it), the provider's id (a callback that names only its own
    id finds the row), the reference some providers refund against, and each in-flight refund's owner."""

    digest: str = Field(alias="Digest")
    body: str = Field(alias="Body")
    provider_payment_id: str = Field("", alias="ProviderPaymentId")
    refundable_ref: str = Field("", alias="RefundableRef")
    refund_owners: str = Field("{}", alias="RefundOwners")  # JSON: refund key → {attempt, at}

    def payment(self) -> GatewayPayment:
        return GatewayPayment.model_validate_json(self.body)

    def owners(self) -> dict[str, dict[str, str]]:
        owners: dict[str, dict[str, str]] = json.loads(self.refund_owners or "{}")
        return owners


class Payments:
    """Rows `PartitionKey = <tenant>|<integration>`, `RowKey = <key>`; the provider's refundable reference is
    kept beside the public body (it is not part of the API)."""

    def __init__(
        self,
        table: Table,
        *,
        adapter_for: Callable[[Any], Any],
        get_document: Callable[[IntegrationRef], Any],
        now: Callable[[], datetime],
    ) -> None:
        self._rows = Rows(table, PaymentRow)
        self._adapter_for = adapter_for
        self._get_document = get_document
        self._now = now

    # --- storage ---------------------------------------------------------------------------------------------
    def _load(self, ref: IntegrationRef, key: str) -> tuple[GatewayPayment, PaymentRow, str]:
        found = self._rows.find(ref.partition, key)
        if not found:
            raise NotFound(f"No payment {key} on this integration.")
        row, etag = found
        return row.payment(), row, etag

    def _save(self, payment: GatewayPayment, row: PaymentRow, etag: str) -> str:
        payment.updated_at = self._now()
        row.body, row.provider_payment_id = payment.model_dump_json(), payment.provider_payment_id or ""
        return self._rows.replace(row, etag=etag)

    def key_for_provider_id(self, ref: IntegrationRef, provider_payment_id: str) -> str | None:
        """The platform's key of the payment the provider calls `provider_payment_id` (one integration's rows)."""
        rows = self._rows.query(
            "PartitionKey eq @pk and ProviderPaymentId eq @id",
            parameters={"pk": ref.partition, "id": provider_payment_id},
        )
        return next((row.row for row in rows), None)

    def list(self, ref: IntegrationRef, *, size: int, continuation: str | None) -> tuple[list[GatewayPayment], str | None]:
        """Payments of one integration in key order, a page at a time."""
        self._get_document(ref)  # 404 for an unknown integration
        rows, continuation = self._rows.page(
            "PartitionKey eq @pk", parameters={"pk": ref.partition}, size=size, continuation=continuation
        )
        return [row.payment() for row in rows], continuation

    # --- operations ------------------------------------------------------------------------------------------
    def _payment_document(self, ref: IntegrationRef, capability: str) -> Any:
        document = self._get_document(ref)
        if document.family != "payment_gateway":
            raise Conflict(f"This is a {document.family} integration, not a payment gateway.", reason="wrong_family")
        require_in_service(document, capability, service="payments")
        return document

    def create(self, ref: IntegrationRef, request: PaymentRequest) -> tuple[GatewayPayment, bool]:
        """(payment, created now). A repeated request returns the first payment."""
        document = self._payment_document(ref, "payments")
        adapter: PaymentAdapter = self._adapter_for(document)
        problems = []
        if request.currency not in document.config.supported_currencies:
            problems.append(FieldError("/currency", "not in this integration's supported_currencies"))
        if adapter.CURRENCIES is not None and request.currency not in adapter.CURRENCIES:
            problems.append(
                FieldError("/currency", f"{document.provider} takes only {', '.join(sorted(adapter.CURRENCIES))}")
            )
        if document.provider in ("ideal", "paypal") and not request.return_url:
            problems.append(FieldError("/return_url", f"{document.provider} sends the payer back here: required"))
        if problems:
            raise ValidationFailed("This payment cannot go through this integration.", problems)

        pk, digest, now = ref.partition, _digest(request), self._now()
        payment = GatewayPayment(
            key=request.key,
            integration_id=ref.integration_id,
            provider=document.provider,
            status="creating",
            amount_minor=request.amount_minor,
            amount=decimal_amount(request.amount_minor, request.currency),
            currency=request.currency,
            description=request.description,
            created_at=now,
            updated_at=now,
        )
        row = PaymentRow(partition=pk, row=request.key, digest=digest, body=payment.model_dump_json())
        try:
            etag = self._rows.insert(row)
            created = True
        except Conflict:
            payment, row, etag = self._load(ref, request.key)
            if row.digest != digest:
                raise Conflict(f"Payment {request.key} exists with different details; use a new key.") from None
            if payment.status != "creating":
                return payment, False
            created = False  # an earlier attempt's outcome is unknown: ask again with the same idempotency key
        result = adapter.create_payment(request)
        self._apply(payment, result)
        row.refundable_ref = result.refundable_ref or ""
        try:
            self._save(payment, row, etag)
        except PreconditionFailed:  # a concurrent identical request saved the same provider payment first
            return self._load(ref, request.key)[0], False
        return payment, created

    @staticmethod
    def _apply(payment: GatewayPayment, result: ProviderPayment) -> None:
        payment.provider_payment_id = result.provider_payment_id
        payment.status = result.status.value
        payment.provider_status = result.provider_status
        payment.checkout_url = result.checkout_url or payment.checkout_url
        payment.client_token = result.client_token or payment.client_token

    def get(self, ref: IntegrationRef, key: str, *, refresh: bool) -> GatewayPayment:
        payment, row, etag = self._load(ref, key)
        if not refresh or not payment.provider_payment_id or PaymentStatus(payment.status) in TERMINAL:
            return payment
        document = self._get_document(ref)
        result = self._adapter_for(document).get_payment(payment.provider_payment_id)
        self._apply(payment, result)
        row.refundable_ref = result.refundable_ref or row.refundable_ref
        try:
            self._save(payment, row, etag)
        except PreconditionFailed:
            pass  # someone else saved a fresher view meanwhile; ours is still a correct answer
        return payment

    def refund(
        self, ref: IntegrationRef, key: str, *, refund_key: str, amount_minor: int | None, reason: str
    ) -> tuple[GatewayPayment, Refund, bool]:
        document = self._payment_document(ref, "refunds")
        self.get(ref, key, refresh=True)  # learn whether it was paid
        payment, refund, row, attempt = self._reserve(ref, key, refund_key, amount_minor, reason)
        if not attempt:  # settled by an earlier request: its outcome
            return payment, refund, False

        adapter: PaymentAdapter = self._adapter_for(document)
        paid = ProviderPayment(
            payment.provider_payment_id or "",
            PaymentStatus.succeeded,
            "",
            refundable_ref=row.refundable_ref or None,
        )
        settle = partial(self._settle, ref, key, refund_key, attempt)
        try:
            result = adapter.refund(
                paid, key=f"{key}/{refund_key}", amount_minor=refund.amount_minor, currency=payment.currency, reason=reason
            )
        except ProviderError as exc:
            if exc.status_code == 409:  # the provider has this idempotency key in flight: not a refusal
                settle(status=None, provider_id=None, release=False)
                raise self._in_progress(refund_key) from exc
            if exc.retriable:  # outcome unknown: keep the reservation; a retry asks again with the same key
                settle(status=None, provider_id=None, release=False)
            else:  # refused: the reservation is released, once, by its owner
                settle(status="refused", provider_id=None, release=True)
            raise
        payment = settle(status=result.status, provider_id=result.provider_refund_id, release=False)
        return payment, next(r for r in payment.refunds if r.key == refund_key), True

    @staticmethod
    def _in_progress(refund_key: str) -> Conflict:
        return Conflict(
            f"Refund {refund_key} is in progress; retry to read its outcome.",
            reason="in_progress",
            retry_after=5,
        )

    def _reserve(
        self, ref: IntegrationRef, key: str, refund_key: str, amount_minor: int | None, reason: str
    ) -> tuple[GatewayPayment, Refund, PaymentRow, str]:
        """Reserve the refund's amount under the row's ETag and become the refund's owner: (payment, refund,
        entity, attempt). Only the owner's attempt may settle it. A refund still `creating` whose owner is alive
        is a duplicate in flight (409 in_progress); one whose owner crashed (its claim older than IN_FLIGHT) is
        taken over, and the provider is asked again with the same idempotency key."""
        for _ in range(5):
            payment, row, etag = self._load(ref, key)
            owners = row.owners()
            now = self._now()
            if existing := next((r for r in payment.refunds if r.key == refund_key), None):
                if amount_minor is not None and amount_minor != existing.amount_minor:
                    raise Conflict(f"Refund {refund_key} exists with another amount; use a new key.")
                if existing.status != "creating":
                    return payment, existing, row, ""
                claim = owners.get(refund_key)
                if claim and now - datetime.fromisoformat(claim["at"]) < IN_FLIGHT:
                    raise self._in_progress(refund_key)
                refund = existing
            else:
                if payment.status != PaymentStatus.succeeded:
                    raise Conflict(
                        f"Payment {key} is {payment.status}; only succeeded payments are refunded.", reason="not_paid"
                    )
                remaining = payment.amount_minor - payment.refunded_minor
                amount = remaining if amount_minor is None else amount_minor
                if amount <= 0 or amount > remaining:
                    raise ValidationFailed(
                        "The refund exceeds what is left to refund.",
                        [FieldError("/amount_minor", f"must be between 1 and {remaining} ({payment.currency} minor units)")],
                    )
                refund = Refund(
                    key=refund_key,
                    amount_minor=amount,
                    amount=decimal_amount(amount, payment.currency),
                    status="creating",
                    reason=reason,
                    created_at=now,
                )
                payment.refunds.append(refund)
                payment.refunded_minor += amount
            attempt = uuid.uuid4().hex
            owners[refund_key] = {"attempt": attempt, "at": now.isoformat()}
            row.refund_owners = json.dumps(owners)
            try:
                self._save(payment, row, etag)
            except PreconditionFailed:
                continue
            return payment, refund, row, attempt
        raise Conflict("The payment is being changed by other requests; retry.", reason="busy")

    def _settle(
        self,
        ref: IntegrationRef,
        key: str,
        refund_key: str,
        attempt: str,
        *,
        status: str | None,
        provider_id: str | None,
        release: bool,
    ) -> GatewayPayment:
        """The owner's outcome: `status` None gives the refund back (still `creating`, no owner) so the next retry
        may ask again at once. An attempt that is no longer the owner changes nothing: the refund was settled or
        taken over, and the newer owner's outcome rules (it asked with the same idempotency key)."""
        for _ in range(5):
            payment, row, etag = self._load(ref, key)
            owners = row.owners()
            refund = next(r for r in payment.refunds if r.key == refund_key)
            if refund.status != "creating" or owners.get(refund_key, {}).get("attempt") != attempt:
                return payment
            del owners[refund_key]
            if status is not None:
                refund.status, refund.provider_refund_id = status, provider_id
            if release:
                payment.refunded_minor -= refund.amount_minor
            row.refund_owners = json.dumps(owners)
            try:
                self._save(payment, row, etag)
                return payment
            except PreconditionFailed:
                continue
        raise Conflict("The payment is being changed by other requests; retry.", reason="busy")
