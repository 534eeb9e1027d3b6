"""What every payment adapter shares: the payment the platform asks for, in minor units of an ISO 4217
currency; the canonical statuses the hub reports whatever the provider calls them; and the contract the
payments service calls (`create_payment`, `get_payment`, `refund`). Every write carries an idempotency key
derived from the platform's key, so a repeated request finds the first payment instead of charging twice."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from adapters.base import Adapter
from integrations.documents.document import PaymentGatewayIntegration

# ISO 4217 minor-unit exponents that are not 2 (everything else has two decimals).
EXPONENTS = {
    **dict.fromkeys(["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV"], 0),
    **dict.fromkeys(["XAF", "XOF", "XPF"], 0),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
}


def exponent(currency: str) -> int:
    return EXPONENTS.get(currency.upper(), 2)


def decimal_amount(minor: int, currency: str) -> str:
    """1234 SEK → "12.34"; 1234 JPY → "1234"; 1234 KWD → "1.234"."""
    places = exponent(currency)
    return f"{Decimal(minor).scaleb(-places):.{places}f}"


def minor_amount(value: str, currency: str) -> int:
    return int(Decimal(value).scaleb(exponent(currency)))


class PaymentStatus(StrEnum):
    pending = "pending"  # created, waiting for the payer
    authorized = "authorized"  # approved by the payer, not captured yet
    succeeded = "succeeded"
    failed = "failed"
    canceled = "canceled"


@dataclass(frozen=True)
class PaymentRequest:
    key: str  # the platform's payment id: the idempotency key at the provider
    amount_minor: int
    currency: str
    description: str
    return_url: str | None = None  # where the payer comes back to (redirect flows)
    payer_alias: str | None = None  # Swish: the payer's phone number (e-commerce flow)


@dataclass(frozen=True)
class ProviderPayment:
    provider_payment_id: str
    status: PaymentStatus
    provider_status: str
    checkout_url: str | None = None  # redirect flows (Mollie, PayPal)
    client_token: str | None = None  # client-side flows (Stripe.js client secret, Swish m-commerce token)
    refundable_ref: str | None = None  # what a refund names (PayPal capture id, Swish payment reference)

    @classmethod
    def said(
        cls,
        payment_id: str,
        said: str,
        statuses: Mapping[str, PaymentStatus],
        *,
        checkout_url: str | None = None,
        client_token: str | None = None,
        refundable_ref: str | None = None,
    ) -> ProviderPayment:
        """The payment as the provider said it: its own status word kept, and mapped to ours (a word the hub
        does not know yet is still pending: only a known final word settles a payment)."""
        status = statuses.get(said, PaymentStatus.pending)
        return cls(payment_id, status, said, checkout_url, client_token, refundable_ref)


@dataclass(frozen=True)
class ProviderRefund:
    provider_refund_id: str
    status: str


class PaymentAdapter(Adapter[PaymentGatewayIntegration]):
    CURRENCIES: frozenset[str] | None = None  # None: whatever the account supports

    def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        raise NotImplementedError

    def get_payment(self, provider_payment_id: str) -> ProviderPayment:
        raise NotImplementedError

    def refund(self, payment: ProviderPayment, *, key: str, amount_minor: int, currency: str, reason: str) -> ProviderRefund:
        """`key` names the refund within the integration (`<payment key>/<refund key>`): the provider's
        idempotency key is derived from it, so the same refund asked twice is one refund at the provider."""
        raise NotImplementedError
