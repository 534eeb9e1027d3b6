"""Visma eAccounting. Invoices are `POST /customerinvoices` with rows booked on an account number; the
record key travels in `YourReference` and an OData `$filter` on it finds an invoice whose outcome is unknown
(eAccounting has no idempotency keys). Field names follow eAccounting's v2 API; the lookup filter is
listed as unverified in the catalog."""

from __future__ import annotations

from adapters.accounting import AccountingAdapter, Invoice


class VismaAdapter(AccountingAdapter):
    def invoice_body(self, invoice: Invoice) -> dict:
        rows = []
        for line in invoice.lines:
            account = self.account_for(line.category)
            row: dict = {
                "Text": line.description,
                "UnitPrice": line.amount,
                "Quantity": line.quantity,
                "AccountNumber": int(account) if account.isdigit() else account,
            }
            if vat := self.vat_for(line):
                row["VatCode"] = vat
            rows.append(row)
        return {
            "CustomerNumber": invoice.customer_number,
            "InvoiceDate": invoice.invoice_date,
            "CurrencyCode": invoice.currency,
            "YourReference": invoice.key,
            "Rows": rows,
        }

    def find_invoice(self, key: str) -> str | None:
        data = self.request(
            "GET", "/customerinvoices", operation="sync.lookup", params={"$filter": f"YourReference eq '{key}'"}
        ).json()
        items = data.get("Data") or []
        return str(items[0]["Id"]) if items else None

    def push_invoice(self, invoice: Invoice) -> str:
        self.check_fiscal_year(invoice)
        data = self.request("POST", "/customerinvoices", operation="sync.push_invoice", json=self.invoice_body(invoice))
        return str(data.json()["Id"])
