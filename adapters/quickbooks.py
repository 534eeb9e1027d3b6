"""QuickBooks Online. Every call lives under `/v3/company/{realmId}`; writes carry `requestid` (the catalog's
`query:requestid`), which QuickBooks uses to answer a repeated request with the original result instead of
creating a second invoice. Invoice lines post through Items (each Item has its income account), so for
QuickBooks the chart of accounts maps a revenue category to an Item id."""

from __future__ import annotations

import hashlib

from adapters.accounting import AccountingAdapter, Invoice

REQUEST_ID_MAX = 50  # Intuit documents requestid as at most 50 characters


def request_id(key: str) -> str:
    return key if len(key) <= REQUEST_ID_MAX else hashlib.sha256(key.encode()).hexdigest()[:REQUEST_ID_MAX]


class QuickBooksAdapter(AccountingAdapter):
    def invoice_body(self, invoice: Invoice) -> dict:
        lines = []
        for line in invoice.lines:
            detail: dict = {
                "ItemRef": {"value": self.account_for(line.category)},
                "Qty": line.quantity,
                "UnitPrice": line.amount,
            }
            if vat := self.vat_for(line):
                detail["TaxCodeRef"] = {"value": vat}
            lines.append(
                {
                    "Amount": round(line.amount * line.quantity, 2),
                    "DetailType": "SalesItemLineDetail",
                    "Description": line.description,
                    "SalesItemLineDetail": detail,
                }
            )
        return {
            "CustomerRef": {"value": invoice.customer_number},
            "TxnDate": invoice.invoice_date,
            "CurrencyRef": {"value": invoice.currency},
            "PrivateNote": f"hub:{invoice.key}",
            "Line": lines,
        }

    def find_invoice(self, key: str) -> str | None:
        """Nothing to look up: a re-sent request with the same requestid returns the invoice created first."""
        return None

    def push_invoice(self, invoice: Invoice) -> str:
        self.check_fiscal_year(invoice)
        data = self.request(
            "POST",
            "/invoice",
            operation="sync.push_invoice",
            json=self.invoice_body(invoice),
            idempotency_key=request_id(invoice.key),
        ).json()
        return str(data["Invoice"]["Id"])
