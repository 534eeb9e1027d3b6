"""What every accounting adapter shares: the invoice the platform hands us (the canonical models of
canonical.money: what the intake routes took, validated again from the outbox payload), the chart-of-accounts and
fiscal-year rules, and the contract the sync engine calls (`find_invoice`, `push_invoice`). A provider
class only declares its payload shape and the way it finds an invoice it created earlier."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from adapters.base import Adapter
from canonical.money import Expense, Invoice, InvoiceLine, Payment
from integrations.documents.document import AccountingIntegration
from shared.errors import ProviderError

__all__ = ["Expense", "Invoice", "InvoiceLine", "Payment"]  # re-exported: adapters type their methods with them


@dataclass(frozen=True)
class InvoiceStatus:
    """An invoice's state as the ledger reports it, for the accounting pull: the ledger's id, our key when the
    hub delivered it (the reference we set), the state fields by the provider's own names, and what they mean."""

    external_id: str
    key: str | None
    state: dict[str, Any]
    paid: bool
    cancelled: bool = False


@dataclass(frozen=True)
class InvoiceRef:
    """The delivered invoice a payment settles."""

    external_id: str
    customer_number: str


def fiscal_year_bounds(year: int, start_month: int) -> tuple[date, date]:
    """[first day, first day of the next fiscal year) for a fiscal year named by the year it starts in."""
    start = date(year, start_month, 1)
    return start, date(year + 1, start_month, 1)


def outside_fiscal_year(document: AccountingIntegration, day: date) -> str | None:
    fy = document.config.fiscal_year
    start, end = fiscal_year_bounds(fy.year, fy.start_month)
    if start <= day < end:
        return None
    return f"{day} is outside fiscal year {fy.year} ({start} – {end.replace(day=1)} exclusive)"


class AccountingAdapter(Adapter[AccountingIntegration]):
    def account_for(self, category: str) -> str:
        chart = self.document.config.chart_of_accounts
        if category not in chart:
            raise ProviderError(
                detail=f"no account mapped for revenue category {category!r}", provider=self.spec.id, retriable=False
            )
        return str(chart[category])

    def vat_for(self, line: InvoiceLine) -> str | None:
        return line.vat_code or self.document.config.default_vat_code

    def check_fiscal_year(self, invoice: Invoice) -> None:
        self.check_date(invoice.key, invoice.invoice_date)

    def check_date(self, key: str, day: date) -> None:
        """A record dated outside the configured fiscal year fails on its own (the ledger would book it in a
        closed or unopened year); the rest of the run goes on."""
        if problem := outside_fiscal_year(self.document, day):
            raise ProviderError(detail=f"{key}: {problem}", provider=self.spec.id, retriable=False)

    def expense_split(self, expense: Expense) -> tuple[float, float]:
        """(net, vat) of a gross expense; VAT needs an `input_vat` account in the chart."""
        vat = round(expense.vat_amount, 2)
        if vat:
            self.account_for("input_vat")
        return round(expense.amount - vat, 2), vat
