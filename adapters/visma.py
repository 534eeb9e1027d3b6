"""Visma eAccounting. Invoices are `POST /customerinvoices` with rows booked on an account number; the
record key travels in `YourReference` and an OData `$filter` on it finds an invoice whose outcome is unknown
(eAccounting has no idempotency keys). Field names follow eAccounting's v2 API; the lookup filter is
listed as unverified in the catalog. Payments post to the invoice (`/customerinvoices/{id}/payments`, found
again by amount and date); expenses are vouchers whose text ends with `[key]`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from adapters.accounting import AccountingAdapter, Expense, Invoice, InvoiceRef, InvoiceStatus, Payment


class VismaAdapter(AccountingAdapter):
    def invoice_body(self, invoice: Invoice) -> dict[str, Any]:
        rows = []
        for line in invoice.lines:
            account = self.account_for(line.category)
            row: dict[str, Any] = {
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
            "InvoiceDate": invoice.invoice_date.isoformat(),
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

    def find_payment(self, payment: Payment, invoice: InvoiceRef) -> str | None:
        data = self.request("GET", f"/customerinvoices/{invoice.external_id}/payments", operation="sync.lookup").json()
        for item in data.get("Data") or []:
            if (
                float(item.get("PaymentAmount", 0)) == payment.amount
                and item.get("PaymentDate") == payment.paid_on.isoformat()
            ):
                return str(item["Id"])
        return None

    def push_payment(self, payment: Payment, invoice: InvoiceRef) -> str:
        self.check_date(payment.key, payment.paid_on)
        body = {
            "PaymentDate": payment.paid_on.isoformat(),
            "PaymentAmount": payment.amount,
            "CurrencyCode": payment.currency,
            "BankAccountNumber": self.account_for(payment.account_category),
        }
        path = f"/customerinvoices/{invoice.external_id}/payments"
        return str(self.request("POST", path, operation="sync.push_payment", json=body).json()["Id"])

    def find_expense(self, expense: Expense) -> str | None:
        params = {"$filter": f"VoucherDate eq {expense.spent_on.isoformat()}"}
        data = self.request("GET", "/vouchers", operation="sync.lookup", params=params).json()
        for item in data.get("Data") or []:
            if str(item.get("VoucherText", "")).endswith(f"[{expense.key}]"):
                return str(item["Id"])
        return None

    def push_expense(self, expense: Expense) -> str:
        self.check_date(expense.key, expense.spent_on)
        net, vat = self.expense_split(expense)
        rows = [{"AccountNumber": self.account_for(expense.category), "DebitAmount": net}]
        if vat:
            rows.append({"AccountNumber": self.account_for("input_vat"), "DebitAmount": vat})
        rows.append({"AccountNumber": self.account_for(expense.paid_from), "CreditAmount": expense.amount})
        suffix = f" [{expense.key}]"
        body = {
            "VoucherDate": expense.spent_on.isoformat(),
            "VoucherText": expense.description[: 200 - len(suffix)] + suffix,
            "Rows": rows,
        }
        return str(self.request("POST", "/vouchers", operation="sync.push_expense", json=body).json()["Id"])

    # --- the accounting pull: an OData filter on ModifiedUtc, paged by $page/$pagesize ----------------------------
    def changed_invoices(self, since: str | None) -> Iterator[list[InvoiceStatus]]:
        params = {"$filter": f"ModifiedUtc ge {since}"} if since else {}
        for page in self.pages("/customerinvoices", operation="sync.pull_invoices", params=params, items="Data"):
            yield [self._status(i) for i in page.items]

    @staticmethod
    def _status(invoice: dict[str, Any]) -> InvoiceStatus:
        fields = ("RemainingAmount", "TotalAmount", "IsCreditInvoice", "DueDate")
        state = {f: invoice.get(f) for f in fields if f in invoice}
        return InvoiceStatus(
            external_id=str(invoice.get("InvoiceNumber") or invoice["Id"]),
            key=invoice.get("YourReference") or None,
            state=state,
            paid=state.get("RemainingAmount") in (0, 0.0) and bool(state.get("TotalAmount")),
        )

    def invoice_cursor(self, run_started: datetime) -> str:
        return run_started.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
