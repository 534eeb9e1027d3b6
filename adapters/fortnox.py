"""Fortnox (accounting). Auth, limits and paging come from catalog/fortnox.json; this declares the paths
and the invoice shape. Fortnox has no idempotency keys: we carry our record key in
ExternalInvoiceReference1 and look it up before re-creating a record whose outcome is unknown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.base import Adapter
from integrations.documents.document import ValidationCheck
from integrations.validation import timed
from shared.errors import ProviderError

REQUIRED_SCOPES = {"invoice_sync": "invoice", "payment_sync": "payment", "expense_sync": "bookkeeping"}


@dataclass(frozen=True)
class InvoiceLine:
    category: str  # revenue category, mapped through the chart of accounts
    description: str
    amount: float
    quantity: float = 1.0
    vat_code: str | None = None


@dataclass(frozen=True)
class Invoice:
    key: str  # our idempotency key (e.g. the platform invoice id)
    customer_number: str
    invoice_date: str  # YYYY-MM-DD
    currency: str
    lines: tuple[InvoiceLine, ...]


class FortnoxAdapter(Adapter):
    def validate(self) -> list[ValidationCheck]:
        checks = [timed("provider.authenticate", lambda: self._company())]
        if not checks[0].passed:
            return checks
        granted = set(self.ctx.access_token("validate").scopes) if self.ctx.access_token else set()
        wanted = {scope for flag, scope in REQUIRED_SCOPES.items() if getattr(self.document.capabilities, flag)}
        missing = sorted(wanted - granted)
        checks.append(
            ValidationCheck(
                name="provider.scopes",
                passed=not missing,
                detail="granted: " + " ".join(sorted(granted)) if not missing else f"missing scope: {', '.join(missing)}",
            )
        )
        return checks

    def _company(self) -> str:
        name = self.request("GET", "/companyinformation", operation="validate").json()["CompanyInformation"]["CompanyName"]
        return f"connected to {name}"

    def account_for(self, category: str) -> str:
        chart = self.document.config.chart_of_accounts
        if category not in chart:
            raise ProviderError(
                detail=f"no account mapped for revenue category {category!r}", provider="fortnox", retriable=False
            )
        return chart[category]

    def invoice_body(self, invoice: Invoice) -> dict[str, Any]:
        default_vat = self.document.config.default_vat_code
        rows = []
        for line in invoice.lines:
            row = {
                "AccountNumber": int(self.account_for(line.category))
                if self.account_for(line.category).isdigit()
                else self.account_for(line.category),
                "Description": line.description,
                "DeliveredQuantity": line.quantity,
                "Price": line.amount,
            }
            if line.vat_code or default_vat:
                row["VAT"] = line.vat_code or default_vat
            rows.append(row)
        return {
            "Invoice": {
                "CustomerNumber": invoice.customer_number,
                "InvoiceDate": invoice.invoice_date,
                "Currency": invoice.currency,
                "ExternalInvoiceReference1": invoice.key,
                "InvoiceRows": rows,
            }
        }

    def find_invoice(self, key: str) -> str | None:
        """DocumentNumber of an invoice we created earlier with this key, if any."""
        data = self.request(
            "GET", "/invoices", operation="sync.lookup", params={"externalinvoicereference1": key, "limit": 1}
        ).json()
        items = data.get("Invoices") or []
        return str(items[0]["DocumentNumber"]) if items else None

    def push_invoice(self, invoice: Invoice) -> str:
        body = self.invoice_body(invoice)
        data = self.request("POST", "/invoices", operation="sync.push_invoice", json=body).json()
        return str(data["Invoice"]["DocumentNumber"])
