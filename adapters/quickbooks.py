"""QuickBooks Online. Every call lives under `/v3/company/{realmId}`; writes carry `requestid` (the catalog's
`query:requestid`), which QuickBooks uses to answer a repeated request with the original result instead of
creating a second invoice. Invoice lines post through Items (each Item has its income account), so for
QuickBooks the chart of accounts maps a revenue category to an Item id. Payments are `/payment` linked to the
invoice (deposited to the mapped bank account); expenses are `/purchase` (cash, account-based lines)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from adapters.accounting import AccountingAdapter, Expense, Invoice, InvoiceRef, InvoiceStatus, Payment


class QuickBooksAdapter(AccountingAdapter):
    idempotency_key_max = 50  # Intuit documents requestid as at most 50 characters

    def invoice_body(self, invoice: Invoice) -> dict[str, Any]:
        lines = []
        for line in invoice.lines:
            detail: dict[str, Any] = {
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
            "TxnDate": invoice.invoice_date.isoformat(),
            "CurrencyRef": {"value": invoice.currency},
            "PrivateNote": f"hub:{invoice.key}",
            "Line": lines,
        }

    def find_invoice(self, key: str) -> str | None:
        """Nothing to look up: a re-sent request with the same requestid returns the invoice created first."""
        return None

    def push_invoice(self, invoice: Invoice) -> str:
        self.check_fiscal_year(invoice)
        data = self.write_once(
            "POST", "/invoice", "sync.push_invoice", ("inv", invoice.key), json=self.invoice_body(invoice)
        )
        return str(data["Invoice"]["Id"])

    def find_payment(self, payment: Payment, invoice: InvoiceRef) -> str | None:
        return None  # requestid answers a repeat with the first payment

    def push_payment(self, payment: Payment, invoice: InvoiceRef) -> str:
        self.check_date(payment.key, payment.paid_on)
        body = {
            "CustomerRef": {"value": invoice.customer_number},
            "TotalAmt": payment.amount,
            "TxnDate": payment.paid_on.isoformat(),
            "CurrencyRef": {"value": payment.currency},
            "DepositToAccountRef": {"value": self.account_for(payment.account_category)},
            "PrivateNote": f"hub:{payment.key}",
            "Line": [{"Amount": payment.amount, "LinkedTxn": [{"TxnId": invoice.external_id, "TxnType": "Invoice"}]}],
        }
        data = self.write_once("POST", "/payment", "sync.push_payment", ("pay", payment.key), json=body)
        return str(data["Payment"]["Id"])

    def find_expense(self, expense: Expense) -> str | None:
        return None  # requestid answers a repeat with the first purchase

    def push_expense(self, expense: Expense) -> str:
        self.check_date(expense.key, expense.spent_on)
        detail: dict[str, Any] = {"AccountRef": {"value": self.account_for(expense.category)}}
        if expense.vat_code:
            detail["TaxCodeRef"] = {"value": expense.vat_code}
        body = {
            "PaymentType": "Cash",
            "AccountRef": {"value": self.account_for(expense.paid_from)},
            "TxnDate": expense.spent_on.isoformat(),
            "CurrencyRef": {"value": expense.currency},
            "PrivateNote": f"hub:{expense.key}",
            "GlobalTaxCalculation": "TaxInclusive",
            "Line": [
                {
                    "Amount": expense.amount,
                    "Description": expense.description,
                    "DetailType": "AccountBasedExpenseLineDetail",
                    "AccountBasedExpenseLineDetail": detail,
                }
            ],
        }
        data = self.write_once("POST", "/purchase", "sync.push_expense", ("exp", expense.key), json=body)
        return str(data["Purchase"]["Id"])

    # --- the accounting pull: a query on Metadata.LastUpdatedTime, paged by STARTPOSITION/MAXRESULTS ------------
    def changed_invoices(self, since: str | None) -> Iterator[list[InvoiceStatus]]:
        where = f" where Metadata.LastUpdatedTime >= '{since}'" if since else ""
        params = {"query": f"select * from Invoice{where} orderby Metadata.LastUpdatedTime"}
        for page in self.pages("/query", operation="sync.pull_invoices", params=params, items="QueryResponse/Invoice"):
            yield [self._status(i) for i in page.items]

    @staticmethod
    def _status(invoice: dict[str, Any]) -> InvoiceStatus:
        state: dict[str, Any] = {f: invoice.get(f) for f in ("Balance", "TotalAmt", "DueDate") if f in invoice}
        note = str(invoice.get("PrivateNote") or "")
        voided = "Voided" in note  # QuickBooks zeroes a voided invoice and notes it; there is no status field
        return InvoiceStatus(
            external_id=str(invoice.get("DocNumber") or invoice["Id"]),
            key=note.removeprefix("hub:") if note.startswith("hub:") else None,
            state={**state, "Voided": voided},
            paid=not voided and state.get("Balance") in (0, 0.0) and bool(state.get("TotalAmt")),
            cancelled=voided,
        )

    def invoice_cursor(self, run_started: datetime) -> str:
        return run_started.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    # --- VAT: QuickBooks' own Tax Summary report --------------------------------------------------------------
    def vat_report(self, start: str, end: str) -> dict[str, Any]:
        params = {"start_date": start, "end_date": end}
        data = self.request("GET", "/reports/TaxSummary", operation="accounting.vat_report", params=params).json()
        rows = []
        for row in data.get("Rows", {}).get("Row", []):
            cols = [c.get("value", "") for c in row.get("ColData", [])]
            if len(cols) >= 3 and cols[0]:
                rows.append({"code": cols[0], "net": float(cols[1] or 0), "vat": float(cols[2] or 0)})
        return {"rows": rows, "currency": data.get("Header", {}).get("Currency")}
