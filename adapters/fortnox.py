"""Fortnox (accounting). Auth, limits and paging come from catalog/fortnox.json; this declares the paths
and the invoice shape. Fortnox has no idempotency keys: we carry our record key in
ExternalInvoiceReference1 and look it up before re-creating a record whose outcome is unknown.
Payments are `invoicepayments` against the invoice's DocumentNumber (found again by invoice, amount and
date); expenses are vouchers (debit the expense and input-VAT accounts, credit the bank account) whose
description ends with `[key]`, found again among the vouchers of that day. Pulling reads invoices modified
since a time (`lastmodified`, minute precision) page by page (`page`/`limit`, MetaInformation)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from adapters.accounting import AccountingAdapter, Expense, Invoice, InvoiceRef, InvoiceStatus, Payment
from adapters.checks import timed
from integrations.documents.document import ValidationCheck

INVOICE_STATE_FIELDS = ("Balance", "Total", "Cancelled", "Booked", "FinalPayDate", "DueDate", "Sent")
REQUIRED_SCOPES = {"invoice_sync": "invoice", "payment_sync": "payment", "expense_sync": "bookkeeping"}


class FortnoxAdapter(AccountingAdapter):
    def oauth_scopes(self) -> list[str]:
        wanted = [scope for flag, scope in REQUIRED_SCOPES.items() if getattr(self.document.capabilities, flag)]
        return list(dict.fromkeys([*super().oauth_scopes(), *wanted]))

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
                "InvoiceDate": invoice.invoice_date.isoformat(),
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

    @staticmethod
    def _account(value: str) -> int | str:
        return int(value) if value.isdigit() else value

    def find_payment(self, payment: Payment, invoice: InvoiceRef) -> str | None:
        data = self.request(
            "GET", "/invoicepayments", operation="sync.lookup", params={"invoicenumber": invoice.external_id}
        ).json()
        for item in data.get("InvoicePayments") or []:
            if float(item.get("Amount", 0)) == payment.amount and item.get("PaymentDate") == payment.paid_on.isoformat():
                return str(item["Number"])
        return None

    def push_payment(self, payment: Payment, invoice: InvoiceRef) -> str:
        self.check_date(payment.key, payment.paid_on)
        body = {
            "InvoicePayment": {
                "InvoiceNumber": self._account(invoice.external_id),
                "Amount": payment.amount,
                "PaymentDate": payment.paid_on.isoformat(),
                "ModeOfPaymentAccount": self._account(self.account_for(payment.account_category)),
            }
        }
        data = self.request("POST", "/invoicepayments", operation="sync.push_payment", json=body).json()
        return str(data["InvoicePayment"]["Number"])

    def find_expense(self, expense: Expense) -> str | None:
        params = {"fromdate": expense.spent_on.isoformat(), "todate": expense.spent_on.isoformat()}
        data = self.request("GET", "/vouchers", operation="sync.lookup", params=params).json()
        for item in data.get("Vouchers") or []:
            if str(item.get("Description", "")).endswith(f"[{expense.key}]"):
                return f"{item['VoucherSeries']}{item['VoucherNumber']}"
        return None

    def push_expense(self, expense: Expense) -> str:
        self.check_date(expense.key, expense.spent_on)
        net, vat = self.expense_split(expense)
        rows = [{"Account": self._account(self.account_for(expense.category)), "Debit": net, "Credit": 0}]
        if vat:
            rows.append({"Account": self._account(self.account_for("input_vat")), "Debit": vat, "Credit": 0})
        rows.append({"Account": self._account(self.account_for(expense.paid_from)), "Debit": 0, "Credit": expense.amount})
        suffix = f" [{expense.key}]"
        body = {
            "Voucher": {
                "VoucherSeries": "A",
                "TransactionDate": expense.spent_on.isoformat(),
                "Description": expense.description[: 200 - len(suffix)] + suffix,
                "VoucherRows": rows,
            }
        }
        data = self.request("POST", "/vouchers", operation="sync.push_expense", json=body).json()["Voucher"]
        return f"{data['VoucherSeries']}{data['VoucherNumber']}"

    def changed_invoices(self, since: str | None) -> Iterator[list[InvoiceStatus]]:
        """Pages of invoices modified at or after `since` ("YYYY-MM-DD HH:MM"), as Fortnox lists them."""
        params = {"lastmodified": since} if since else {}
        for page in self.pages("/invoices", operation="sync.pull_invoices", params=params, items="Invoices"):
            yield [self._status(i) for i in page.items]

    @staticmethod
    def _status(invoice: dict[str, Any]) -> InvoiceStatus:
        state = {f: invoice.get(f) for f in INVOICE_STATE_FIELDS if f in invoice}
        cancelled = bool(state.get("Cancelled"))
        return InvoiceStatus(
            external_id=str(invoice["DocumentNumber"]),
            key=invoice.get("ExternalInvoiceReference1") or None,
            state=state,
            paid=state.get("Balance") in (0, 0.0, "0") and not cancelled,
            cancelled=cancelled,
        )

    def invoice_cursor(self, run_started: datetime) -> str:
        return (run_started - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")  # Fortnox filters by the minute
