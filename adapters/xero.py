"""Xero. After consent, `GET /connections` lists the organisations (tenants) the grant reaches; every API call
names one in `Xero-tenant-id` (our config.company_id). Validation checks both.

Invoices: `POST /Invoices` with an `Idempotency-Key` (our record key) and the key in `Reference`, so a record
whose outcome is unknown is found with `where=Reference=="…"` before it is sent again. Payments
(`/Payments`, against the InvoiceID) and expenses (`/BankTransactions` of type SPEND, VAT-inclusive lines) work
the same way."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.accounting import AccountingAdapter, Expense, Invoice, InvoiceRef, InvoiceStatus, Payment
from adapters.checks import timed
from integrations.documents.document import ValidationCheck

CONNECTIONS_URL = "https://api.xero.com/connections"


class XeroAdapter(AccountingAdapter):
    def auth_headers(self, operation: str) -> dict[str, str]:
        return {**super().auth_headers(operation), "Xero-tenant-id": self.document.config.company_id or ""}

    def validate(self) -> list[ValidationCheck]:
        def connected() -> str:
            url = self.ctx.url_overrides.get("connections_url", CONNECTIONS_URL)
            token = self.ctx.access_token("validate").token  # type: ignore[misc]
            from shared.http import Call

            tenants = self.ctx.outbound.send(
                Call("GET", url, headers={"Authorization": f"Bearer {token}"}), self.policy("validate")
            ).json()
            ids = {t["tenantId"] for t in tenants}
            if self.document.config.company_id not in ids:
                raise LookupError(
                    f"organisation {self.document.config.company_id} is not connected to this grant "
                    f"(connected: {', '.join(sorted(ids)) or 'none'})"
                )
            return f"{len(ids)} organisation(s) connected"

        checks = [timed("provider.connection", connected)]
        if checks[0].passed:
            checks.append(self.check_call("provider.authenticate", "GET", "/Organisation"))
        return checks

    def invoice_body(self, invoice: Invoice) -> dict[str, Any]:
        lines = []
        for line in invoice.lines:
            item = {
                "Description": line.description,
                "Quantity": line.quantity,
                "UnitAmount": line.amount,
                "AccountCode": self.account_for(line.category),
            }
            if vat := self.vat_for(line):
                item["TaxType"] = vat
            lines.append(item)
        return {
            "Invoices": [
                {
                    "Type": "ACCREC",
                    "Contact": {"ContactNumber": invoice.customer_number},
                    "Date": invoice.invoice_date.isoformat(),
                    "CurrencyCode": invoice.currency,
                    "Reference": invoice.key,
                    "Status": "AUTHORISED",
                    "LineAmountTypes": "Exclusive",
                    "LineItems": lines,
                }
            ]
        }

    def find_invoice(self, key: str) -> str | None:
        found = self.request("GET", "/Invoices", operation="sync.lookup", params={"where": f'Reference=="{key}"'})
        items = found.json().get("Invoices") or []
        return items[0]["InvoiceID"] if items else None

    def push_invoice(self, invoice: Invoice) -> str:
        self.check_fiscal_year(invoice)
        body = self.invoice_body(invoice)
        data = self.write_once("POST", "/Invoices", "sync.push_invoice", ("inv", invoice.key), json=body)
        return str(data["Invoices"][0]["InvoiceID"])

    def _find(self, resource: str, key: str) -> dict[str, Any] | None:
        found = self.request("GET", f"/{resource}", operation="sync.lookup", params={"where": f'Reference=="{key}"'})
        items = found.json().get(resource) or []
        return items[0] if items else None

    def find_payment(self, payment: Payment, invoice: InvoiceRef) -> str | None:
        found = self._find("Payments", payment.key)
        return found["PaymentID"] if found else None

    def push_payment(self, payment: Payment, invoice: InvoiceRef) -> str:
        self.check_date(payment.key, payment.paid_on)
        body = {
            "Payments": [
                {
                    "Invoice": {"InvoiceID": invoice.external_id},
                    "Account": {"Code": self.account_for(payment.account_category)},
                    "Date": payment.paid_on.isoformat(),
                    "Amount": payment.amount,
                    "Reference": payment.key,
                }
            ]
        }
        data = self.write_once("PUT", "/Payments", "sync.push_payment", ("pay", payment.key), json=body)
        return str(data["Payments"][0]["PaymentID"])

    def find_expense(self, expense: Expense) -> str | None:
        found = self._find("BankTransactions", expense.key)
        return found["BankTransactionID"] if found else None

    def push_expense(self, expense: Expense) -> str:
        self.check_date(expense.key, expense.spent_on)
        line = {
            "Description": expense.description,
            "Quantity": 1,
            "UnitAmount": expense.amount,
            "AccountCode": self.account_for(expense.category),
        }
        if expense.vat_code:
            line["TaxType"] = expense.vat_code
        body = {
            "BankTransactions": [
                {
                    "Type": "SPEND",
                    "Contact": {"Name": expense.supplier or "Expenses"},
                    "BankAccount": {"Code": self.account_for(expense.paid_from)},
                    "Date": expense.spent_on.isoformat(),
                    "Reference": expense.key,
                    "CurrencyCode": expense.currency,
                    "LineAmountTypes": "Inclusive",
                    "LineItems": [line],
                }
            ]
        }
        data = self.write_once("PUT", "/BankTransactions", "sync.push_expense", ("exp", expense.key), json=body)
        return str(data["BankTransactions"][0]["BankTransactionID"])

    # --- the accounting pull: invoices changed since the cursor (`If-Modified-Since`, UTC), paged ---------------
    def changed_invoices(self, since: str | None) -> Iterator[list[InvoiceStatus]]:
        headers = {"If-Modified-Since": since} if since else {}
        params = {"where": 'Type=="ACCREC"', "order": "UpdatedDateUTC"}
        pages = self.pages("/Invoices", operation="sync.pull_invoices", params=params, headers=headers, items="Invoices")
        for page in pages:
            yield [self._status(i) for i in page.items]

    @staticmethod
    def _status(invoice: dict[str, Any]) -> InvoiceStatus:
        fields = ("Status", "AmountDue", "AmountPaid", "Total", "FullyPaidOnDate")
        state = {f: invoice.get(f) for f in fields if f in invoice}
        return InvoiceStatus(
            external_id=str(invoice.get("InvoiceNumber") or invoice["InvoiceID"]),
            key=invoice.get("Reference") or None,
            state=state,
            paid=state.get("Status") == "PAID",
            cancelled=state.get("Status") in ("VOIDED", "DELETED"),
        )

    def invoice_cursor(self, run_started: datetime) -> str:
        # Xero answers what changed *after* the instant, to the second, in UTC: a second earlier misses nothing.
        return (run_started - timedelta(seconds=1)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
