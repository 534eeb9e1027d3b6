"""Money records an accounting system or payment provider receives: Invoice (with its lines and VAT codes),
Payment (settling an invoice), Expense, Reimbursement. Amounts are decimal major units (what ledgers book);
the chart of accounts maps each `category` to an account."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import StringConstraints

from canonical.fields import Canonical, Category, Currency, Key, Text, VatCode, field

Short = Annotated[str, StringConstraints(min_length=1, max_length=50)]


class InvoiceLine(Canonical):
    """One line of an invoice; its VAT code is the ledger's, mapped per integration."""

    category: Category = field("Revenue category; mapped to an account by the chart of accounts.", example="license_fees")
    description: Text = field("Line text as printed.", example="Licens 2026, senior")
    amount: float = field("Unit price excluding VAT.", example=450.0, unit="major currency unit", ge=0)
    quantity: float = field("Quantity.", example=1.0, default=1.0, gt=0)
    vat_code: VatCode | None = field("The ledger's VAT code; none: the account's default.", example="MP1", default=None)


class Invoice(Canonical):
    """A customer invoice (licence fees, competition entries, club dues)."""

    key: Key = field("The platform's invoice id: the idempotency key at the provider.", example="INV-2026-0142")
    customer_number: Short = field("The customer at the ledger (club or member number).", example="CLUB-117")
    invoice_date: date = field("Invoice date (falls in the ledger's fiscal year).", example="2026-03-01")
    currency: Currency = field("Invoice currency (ISO 4217).", example="SEK")
    lines: list[InvoiceLine] = field(
        "Invoice lines.",
        example=[{"category": "license_fees", "description": "Licens 2026, senior", "amount": 450.0, "quantity": 1.0}],
        min_length=1,
        max_length=100,
    )


class Payment(Canonical):
    """A payment received against an invoice, booked at the ledger."""

    key: Key = field("The platform's payment id: the idempotency key at the ledger.", example="PAY-2026-0142")
    invoice_key: Key = field("The invoice it settles (Invoice.key).", example="INV-2026-0142")
    amount: float = field("Amount received.", example=450.0, unit="major currency unit", gt=0)
    currency: Currency = field("Currency (ISO 4217).", example="SEK")
    paid_on: date = field("Day the money arrived.", example="2026-03-12")
    account_category: Category = field("Where the money arrived (chart of accounts).", example="bank", default="bank")


class Expense(Canonical):
    """An expense the federation or club paid."""

    key: Key = field("The platform's expense id: the idempotency key at the ledger.", example="EXP-2026-0031")
    spent_on: date = field("Day of the expense.", example="2026-03-04")
    description: Annotated[str, StringConstraints(min_length=1, max_length=180)] = field(
        "What was bought.", example="Train tickets, referee course"
    )
    amount: float = field("Gross amount, VAT included.", example=1250.0, unit="major currency unit", gt=0)
    vat_amount: float = field(
        "Input VAT within amount (booked on the input_vat account).",
        example=134.0,
        unit="major currency unit",
        default=0.0,
        ge=0,
    )
    vat_code: VatCode | None = field("The ledger's VAT code.", example="I", default=None)
    currency: Currency = field("Currency (ISO 4217).", example="SEK")
    category: Category = field("Expense category (chart of accounts).", example="travel")
    paid_from: Category = field("The account category the money left.", example="bank", default="bank")
    supplier: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = field(
        "Supplier name.", example="SJ AB", default=None
    )


class Reimbursement(Canonical):
    """An approved reimbursement owed to a member (travel, equipment), exported to the ledger."""

    key: Key = field("The platform's reimbursement id: the external reference at the ledger.", example="RB-2026-0009")
    member_id: Short = field("Who is reimbursed (Member.member_id).", example="M-0042")
    description: Text = field("What is reimbursed.", example="Travel to SM 2026")
    amount: float = field("Amount owed.", example=640.0, unit="major currency unit", gt=0)
    currency: Currency = field("Currency (ISO 4217).", example="SEK")
    category: Category = field("Expense category; mapped to an account by the chart of accounts.", example="travel")
    approved_on: date = field("Day of approval.", example="2026-09-02")
