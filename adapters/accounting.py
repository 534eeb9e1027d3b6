"""What every accounting adapter shares: the invoice the platform hands us, the chart-of-accounts and
fiscal-year rules, and the contract the sync engine calls (`find_invoice`, `push_invoice`). A provider
class only declares its payload shape and the way it finds an invoice it created earlier."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from adapters.base import Adapter
from shared.errors import ProviderError


@dataclass(frozen=True)
class InvoiceLine:
    category: str  # revenue category, mapped through the chart of accounts
    description: str
    amount: float  # unit price excluding VAT
    quantity: float = 1.0
    vat_code: str | None = None


@dataclass(frozen=True)
class Invoice:
    key: str  # our idempotency key (e.g. the platform invoice id)
    customer_number: str
    invoice_date: str  # YYYY-MM-DD
    currency: str
    lines: tuple[InvoiceLine, ...]

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Invoice:
        return cls(
            key=payload["key"],
            customer_number=payload["customer_number"],
            invoice_date=payload["invoice_date"],
            currency=payload["currency"],
            lines=tuple(InvoiceLine(**line) for line in payload["lines"]),
        )


def fiscal_year_bounds(year: int, start_month: int) -> tuple[date, date]:
    """[first day, first day of the next fiscal year) for a fiscal year named by the year it starts in."""
    start = date(year, start_month, 1)
    return start, date(year + 1, start_month, 1)


def outside_fiscal_year(document: Any, day: date) -> str | None:
    fy = document.config.fiscal_year
    start, end = fiscal_year_bounds(fy.year, fy.start_month)
    if start <= day < end:
        return None
    return f"{day} is outside fiscal year {fy.year} ({start} – {end.replace(day=1)} exclusive)"


class AccountingAdapter(Adapter):
    def account_for(self, category: str) -> str:
        chart = self.document.config.chart_of_accounts
        if category not in chart:
            raise ProviderError(
                detail=f"no account mapped for revenue category {category!r}", provider=self.spec.id, retriable=False
            )
        return chart[category]

    def vat_for(self, line: InvoiceLine) -> str | None:
        return line.vat_code or self.document.config.default_vat_code

    def check_fiscal_year(self, invoice: Invoice) -> None:
        """A record dated outside the configured fiscal year fails on its own (the ledger would book it in a
        closed or unopened year); the rest of the run goes on."""
        if problem := outside_fiscal_year(self.document, date.fromisoformat(invoice.invoice_date)):
            raise ProviderError(detail=f"{invoice.key}: {problem}", provider=self.spec.id, retriable=False)

    def find_invoice(self, key: str) -> str | None:
        raise NotImplementedError

    def push_invoice(self, invoice: Invoice) -> str:
        raise NotImplementedError
