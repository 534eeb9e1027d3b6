"""Fortnox (accounting). Auth, limits and paging come from catalog/fortnox.json; this declares the paths
and the invoice shape. Fortnox has no idempotency keys: we carry our record key in
ExternalInvoiceReference1 and look it up before re-creating a record whose outcome is unknown."""

from __future__ import annotations

from typing import Any

from adapters.accounting import AccountingAdapter, Invoice
from integrations.documents.document import ValidationCheck
from integrations.validation import timed

REQUIRED_SCOPES = {"invoice_sync": "invoice", "payment_sync": "payment", "expense_sync": "bookkeeping"}


class FortnoxAdapter(AccountingAdapter):
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

    def invoice_body(self, invoice: Invoice) -> dict[str, Any]:
        rows = []
        for line in invoice.lines:
            account = self.account_for(line.category)
            row = {
                "AccountNumber": int(account) if account.isdigit() else account,
                "Description": line.description,
                "DeliveredQuantity": line.quantity,
                "Price": line.amount,
            }
            if vat := self.vat_for(line):
                row["VAT"] = vat
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
        self.check_fiscal_year(invoice)
        body = self.invoice_body(invoice)
        data = self.request("POST", "/invoices", operation="sync.push_invoice", json=body).json()
        return str(data["Invoice"]["DocumentNumber"])
