"""Records for an accounting integration: invoices, the payments that settle them, expenses (the outbox
intake of push_invoices, push_payments, push_expenses) and seed 002's reimbursement export. Each checks the
chart of accounts and the fiscal year, and answers field by field."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import anyio
from fastapi import Query
from pydantic import BaseModel, Field, StringConstraints

from adapters.accounting import outside_fiscal_year
from canonical.money import Expense, Invoice, Payment, Reimbursement
from integrations.api.body import Body
from integrations.api.deps import CatalogDep, IntakeDep, LiveDep, OutboxDep, Reader, Ref, Runner, SyncDep, Writer
from integrations.api.intake import accepted, outbox_post
from integrations.api.problems import COMMON, STATEFUL_WRITE, problems
from integrations.api.routing import api_router
from integrations.documents.document import AccountingIntegration
from integrations.sync.jobs import trigger_sync
from integrations.sync.runs import SyncRun
from integrations.vat import vat_report
from shared.errors import FieldError, NotFound, ValidationFailed

router = api_router(prefix="/api/v1/tenants/{tenant_id}/integrations/{integration_id}", tags=["records"])


def require_mapped(document: AccountingIntegration, categories: list[tuple[str, str]]) -> None:
    """Every (pointer, category) must have an account in the integration's chart of accounts."""
    chart = document.config.chart_of_accounts
    errors = [
        FieldError(pointer, f"no account mapped for {category!r}")
        for pointer, category in categories
        if category not in chart
    ]
    if errors:
        raise ValidationFailed("Some categories have no account in the chart of accounts.", errors[:50])


class InvoiceBatch(Body):
    invoices: list[Invoice] = Field(min_length=1, max_length=500)


@outbox_post(router, "/outbox/invoices")
def enqueue_invoices(ref: Ref, principal: Writer, intake: IntakeDep, body: InvoiceBatch) -> Any:
    """Hand invoices to the hub for delivery by the next push_invoices run"""
    document = intake.open(AccountingIntegration, ref, "invoice", "/invoices", "takes no invoices")
    require_mapped(
        document,
        [
            (f"/invoices/{i}/lines/{j}/category", line.category)
            for i, inv in enumerate(body.invoices)
            for j, line in enumerate(inv.lines)
        ],
    )
    in_fiscal_year(document, [(f"/invoices/{i}/invoice_date", inv.invoice_date) for i, inv in enumerate(body.invoices)])
    return accepted(intake.store(document, "invoice", body.invoices))


Key = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,80}$")]
Category = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class PaymentRecordBatch(Body):
    payments: list[Payment] = Field(min_length=1, max_length=500)


class ExpenseBatch(Body):
    expenses: list[Expense] = Field(min_length=1, max_length=500)


def in_fiscal_year(document: AccountingIntegration, dates: list[tuple[str, date]]) -> None:
    outside = [FieldError(pointer, problem) for pointer, day in dates if (problem := outside_fiscal_year(document, day))]
    if outside:
        raise ValidationFailed("Some records fall outside the configured fiscal year.", outside[:50])


@outbox_post(router, "/outbox/payments")
def enqueue_payments(ref: Ref, principal: Writer, intake: IntakeDep, body: PaymentRecordBatch) -> Any:
    """Hand received payments to the hub (delivered against their invoices by push_payments)"""
    document = intake.open(AccountingIntegration, ref, "payment", "/", "does not take these records")
    require_mapped(document, [(f"/payments/{i}/account_category", p.account_category) for i, p in enumerate(body.payments)])
    in_fiscal_year(document, [(f"/payments/{i}/paid_on", p.paid_on) for i, p in enumerate(body.payments)])
    unknown = []
    for i, p in enumerate(body.payments):
        try:
            intake.outbox.get(ref, "invoice", p.invoice_key)
        except NotFound:
            unknown.append(
                FieldError(f"/payments/{i}/invoice_key", f"no invoice {p.invoice_key} was handed to this integration")
            )
    if unknown:
        raise ValidationFailed("Some payments settle unknown invoices.", unknown[:50])
    return accepted(intake.store(document, "payment", body.payments))


@outbox_post(router, "/outbox/expenses")
def enqueue_expenses(ref: Ref, principal: Writer, intake: IntakeDep, body: ExpenseBatch) -> Any:
    """Hand expenses to the hub (booked by push_expenses)"""
    document = intake.open(AccountingIntegration, ref, "expense", "/", "does not take these records")
    mapped = [(f"/expenses/{i}/category", e.category) for i, e in enumerate(body.expenses)]
    mapped += [(f"/expenses/{i}/paid_from", e.paid_from) for i, e in enumerate(body.expenses)]
    mapped += [(f"/expenses/{i}/vat_amount", "input_vat") for i, e in enumerate(body.expenses) if e.vat_amount]
    require_mapped(document, mapped)
    in_fiscal_year(document, [(f"/expenses/{i}/spent_on", e.spent_on) for i, e in enumerate(body.expenses)])
    bad = [
        FieldError(f"/expenses/{i}/vat_amount", "must be less than amount")
        for i, e in enumerate(body.expenses)
        if e.vat_amount >= e.amount
    ]
    if bad:
        raise ValidationFailed("Some expenses are inconsistent.", bad[:50])
    return accepted(intake.store(document, "expense", body.expenses))


class ReimbursementExport(Body):
    reimbursements: list[Reimbursement] = Field(min_length=1, max_length=500)


@router.post("/reimbursements:export", status_code=202, response_model=SyncRun, responses=STATEFUL_WRITE)
def export_reimbursements(ref: Ref, principal: Runner, intake: IntakeDep, sync: SyncDep, body: ReimbursementExport) -> Any:
    """Export approved reimbursements to the ledger (seed 002's exportReimbursements)"""
    document = intake.open(
        AccountingIntegration,
        ref,
        "reimbursement",
        "/reimbursements",
        "does not export reimbursements",
    )
    require_mapped(document, [(f"/reimbursements/{i}/category", r.category) for i, r in enumerate(body.reimbursements)])
    for r in body.reimbursements:
        intake.outbox.put(ref, "reimbursement", r.key, r.model_dump(mode="json"))
    return trigger_sync(sync, ref, "export_reimbursements", trigger="manual")


class VatRow(BaseModel):
    code: str = Field(description="The ledger's VAT code (or `none`).")
    net: float = Field(description="Taxable amount, VAT excluded.")
    vat: float | None = Field(None, description="VAT amount (the ledger's report only: the hub knows no rates).")


class VatReport(BaseModel):
    source: str = Field(description="`provider`: the ledger's own report; `hub`: computed from what the hub delivered.")
    period: dict[str, str]
    rows: list[VatRow]
    note: str | None = Field(None, description="Where the figures come from when the ledger has no VAT report API.")
    input_vat: float | None = None
    invoices: int | None = None
    expenses: int | None = None
    currency: str | None = None


@router.get(
    "/accounting/vat-report",
    response_model=VatReport,
    responses=problems(
        COMMON,
        own={
            409: "Not an active accounting integration with vat_reporting on.",
            422: "Invalid period.",
            502: "The ledger refused or failed.",
        },
    ),
)
async def get_vat_report(
    ref: Ref,
    principal: Reader,
    catalog: CatalogDep,
    live: LiveDep,
    outbox: OutboxDep,
    start: Annotated[date, Query(alias="from")],
    end: Annotated[date, Query(alias="to")],
) -> Any:
    """The period's VAT report: the ledger's own where its API has one, else computed from the hub's deliveries"""
    if end < start:
        raise ValidationFailed("The period ends before it starts.", [FieldError("query:to", "is before from")])

    def build() -> Any:
        document, adapter = live.active(ref, family="accounting", flag="vat_reporting")
        capabilities = catalog.get(document.provider).capabilities
        return vat_report(document, adapter, outbox, capabilities, start.isoformat(), end.isoformat())

    return VatReport(**(await anyio.to_thread.run_sync(build)))
