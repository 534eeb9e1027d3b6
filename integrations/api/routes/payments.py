"""Payments through payment-gateway integrations: create (idempotent by the platform's key), read (re-fetched
from the provider with ?refresh=true), refund (partial or full, idempotent by the refund key)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Response
from pydantic import AnyHttpUrl, BaseModel, Field, StringConstraints

from adapters.payments import PaymentRequest
from integrations.api.body import Body
from integrations.api.deps import Payer, PaymentsDep, Reader, Ref
from integrations.api.paging import Page
from integrations.api.problems import COMMON, PAGED, WRITE, P, Responses
from integrations.api.routing import api_router
from integrations.auth.principal import Principal, Scope
from integrations.documents.common import Currency
from integrations.payments import GatewayPayment, Refund

router = api_router(prefix="/api/v1/tenants/{tenant_id}/integrations/{integration_id}/payments", tags=["payments"])
Key = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,80}$")]
PaymentKey = Annotated[str, Path(pattern=r"^[A-Za-z0-9._:-]{1,80}$", description="The platform's payment id.")]
PROVIDER: Responses = {
    409: {**P, "description": "Not active, capability off, key reused with other details, or not refundable."},
    502: {**P, "description": "The provider refused or failed (detail names its answer)."},
}


class PaymentIn(Body):
    key: Key = Field(description="The platform's payment id: repeats return the first payment, never a second charge.")
    amount_minor: int = Field(gt=0, le=10**12, description="Minor units of the currency (12.50 SEK → 1250).")
    currency: Currency
    description: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(examples=["Licens 2026"])
    return_url: AnyHttpUrl | None = Field(None, description="Where the payer returns (required for PayPal and iDEAL).")
    payer_alias: Annotated[str, StringConstraints(pattern=r"^\+?[1-9][0-9]{7,14}$")] | None = Field(
        None, description="Swish e-commerce: the payer's phone number; omit for the m-commerce (app switch) flow."
    )


@router.post(
    "",
    status_code=201,
    response_model=GatewayPayment,
    responses={**WRITE, **PROVIDER, 200: {"model": GatewayPayment, "description": "The payment this key created before."}},
)
def create_payment(ref: Ref, principal: Payer, payments: PaymentsDep, body: PaymentIn, response: Response) -> Any:
    """Take a payment (idempotent by key)"""
    request = PaymentRequest(
        key=body.key,
        amount_minor=body.amount_minor,
        currency=body.currency,
        description=body.description,
        return_url=str(body.return_url) if body.return_url else None,
        payer_alias=body.payer_alias,
    )
    payment, created = payments.create(ref, request)
    response.status_code = 201 if created else 200
    response.headers["Location"] = (
        f"/api/v1/tenants/{ref.tenant_id}/integrations/{ref.integration_id}/payments/{payment.key}"
    )
    return payment


def for_reader(payment: GatewayPayment, principal: Principal) -> GatewayPayment:
    """The client token opens the payer's checkout (Stripe's client secret, Swish's token): only principals
    that may take payments see it; readers get the rest."""
    return payment if principal.can(Scope.payments_write) else payment.model_copy(update={"client_token": None})


class PaymentPage(Page[GatewayPayment]): ...


@router.get("", response_model=PaymentPage, responses=PAGED)
def list_payments(
    ref: Ref,
    principal: Reader,
    payments: PaymentsDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    continuation: Annotated[str | None, Query(max_length=2000)] = None,
) -> Any:
    """Payments of this integration (stored state; refresh one to ask the provider)"""
    items, nxt = payments.list(ref, size=limit, continuation=continuation)
    return PaymentPage(items=[for_reader(p, principal) for p in items], next=nxt)


@router.get("/{key}", response_model=GatewayPayment, responses={**COMMON, 422: WRITE[422], 502: PROVIDER[502]})
def get_payment(ref: Ref, key: PaymentKey, principal: Reader, payments: PaymentsDep, refresh: bool = False) -> Any:
    """A payment; refresh=true asks the provider for its current status"""
    return for_reader(payments.get(ref, key, refresh=refresh), principal)


class RefundIn(Body):
    key: Key = Field(description="The platform's refund id: repeats return the first refund.")
    amount_minor: int | None = Field(None, gt=0, description="Minor units; omit to refund what is left.")
    reason: Annotated[str, StringConstraints(max_length=200)] = Field("", examples=["requested_by_customer"])


class RefundOut(BaseModel):
    payment: GatewayPayment
    refund: Refund


@router.post(
    "/{key}/refunds",
    status_code=201,
    response_model=RefundOut,
    responses={**WRITE, **PROVIDER, 200: {"model": RefundOut, "description": "The refund this key made before."}},
)
def refund_payment(
    ref: Ref, key: PaymentKey, principal: Payer, payments: PaymentsDep, body: RefundIn, response: Response
) -> Any:
    """Refund a succeeded payment, in full or in part (idempotent by refund key)"""
    payment, refund, created = payments.refund(
        ref, key, refund_key=body.key, amount_minor=body.amount_minor, reason=body.reason
    )
    response.status_code = 201 if created else 200
    return RefundOut(payment=payment, refund=refund)
