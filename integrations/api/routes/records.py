"""Records the platform hands the hub to deliver (the outbox intake), one route per kind: invoices, payments,
expenses, members, enrollments, messages, and seed 002's reimbursement export. Each checks what the integration
can take (operation, capability, chart of accounts, fiscal year, field map) and answers field by field."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from adapters.accounting import outside_fiscal_year
from integrations.api.deps import HubDep, IntegrationId, Runner, TenantId, Writer
from integrations.api.routes.integrations import CONDITIONAL, WRITE
from integrations.documents.common import Currency
from integrations.sync.jobs import supported_operations, trigger_sync
from integrations.sync.runs import SyncRun
from shared.errors import FieldError, NotFound, ValidationFailed

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/integrations/{integration_id}", tags=["records"])


def require_mapped(document: Any, categories: list[tuple[str, str]]) -> None:
    """Every (pointer, category) must have an account in the integration's chart of accounts."""
    chart = document.config.chart_of_accounts
    errors = [
        FieldError(pointer, f"no account mapped for {category!r}")
        for pointer, category in categories
        if category not in chart
    ]
    if errors:
        raise ValidationFailed("Some categories have no account in the chart of accounts.", errors[:50])


class InvoiceLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")] = Field(
        description="Revenue category; mapped to an account by the chart of accounts.", examples=["license_fees"]
    )
    description: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    amount: float = Field(ge=0, description="Unit price excluding VAT.")
    quantity: float = Field(1.0, gt=0)
    vat_code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,20}$")] | None = None


class InvoiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,80}$")] = Field(
        description="The platform's invoice id: the idempotency key at the provider."
    )
    customer_number: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    invoice_date: date
    currency: Currency
    lines: list[InvoiceLineIn] = Field(min_length=1, max_length=100)


class InvoiceBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    invoices: list[InvoiceIn] = Field(min_length=1, max_length=500)


class OutboxResult(BaseModel):
    created: int
    unchanged: int
    replaced: int
    counts: dict[str, int] = Field(description="Records by state for this integration.")


def store(
    hub: Any, tenant_id: str, integration_id: str, kind: str, records: list[Any], *, updatable: bool = False
) -> OutboxResult:
    """Put each record (a pydantic model with `key`) into the outbox; the tally says what was new."""
    tally = {"created": 0, "unchanged": 0, "replaced": 0}
    counts: dict[str, int] = {}
    for record in records:
        payload = record.model_dump(mode="json")
        put = hub.outbox.put(tenant_id, integration_id, kind, record.key, payload, updatable=updatable)
        tally[put.outcome] += 1
        counts = put.counts  # as of the last write: no second read
    return OutboxResult(**tally, counts=counts or hub.outbox.counts(tenant_id, integration_id))


def require_fields_mapped(kind: str, records: list[Any], mapped: dict[str, str], map_name: str) -> None:
    """Every platform field of every record (`record.fields`) must be mapped to a CRM field."""
    unknown = [
        FieldError(f"/{kind}/{i}/fields/{name}", f"not in {map_name} (mapped: {sorted(mapped)})")
        for i, record in enumerate(records)
        for name in record.fields
        if name not in mapped
    ]
    if unknown:
        raise ValidationFailed(f"Some {kind[:-1]} fields are not mapped to the CRM.", unknown[:50])


def require_operation(hub: Any, document: Any, operation: str, pointer: str, what: str) -> None:
    if operation not in supported_operations(hub, document):
        raise ValidationFailed(f"This integration {what}.", [FieldError(pointer, f"{document.provider} has no {operation}")])


@router.post(
    "/outbox/invoices",
    status_code=202,
    operation_id="enqueueInvoices",
    summary="Hand invoices to the hub for delivery by the next push_invoices run",
    response_model=OutboxResult,
    responses={**WRITE, 409: CONDITIONAL[409]},
)
def enqueue_invoices(
    tenant_id: TenantId, integration_id: IntegrationId, principal: Writer, hub: HubDep, body: InvoiceBatch
) -> Any:
    document = hub.integrations.get(tenant_id, integration_id).document
    if document.family != "accounting":
        raise ValidationFailed("Invoices go to accounting integrations.", [FieldError("/invoices", "wrong family")])
    require_mapped(
        document,
        [
            (f"/invoices/{i}/lines/{j}/category", line.category)
            for i, inv in enumerate(body.invoices)
            for j, line in enumerate(inv.lines)
        ],
    )
    in_fiscal_year(document, [(f"/invoices/{i}/invoice_date", inv.invoice_date) for i, inv in enumerate(body.invoices)])
    return store(hub, tenant_id, integration_id, "invoice", body.invoices)


MemberValue = Annotated[str, StringConstraints(max_length=1000)] | int | float | bool | None


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,80}$")] = Field(
        description="The platform's member id (kept at the CRM in member_key_field)."
    )
    updated_at: AwareDatetime = Field(
        description="When the platform last changed this member: compared with the CRM's modified time for "
        "shared fields (the later change wins)."
    )
    fields: dict[Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")], MemberValue] = Field(
        min_length=1, max_length=200, description="Member fields by their platform names (keys of member_field_map)."
    )


class MemberBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    members: list[MemberIn] = Field(min_length=1, max_length=1000)


@router.post(
    "/outbox/members",
    status_code=202,
    operation_id="enqueueMembers",
    summary="Hand the current state of members to the hub (delivered by the next sync_members run)",
    response_model=OutboxResult,
    responses=WRITE,
)
def enqueue_members(
    tenant_id: TenantId, integration_id: IntegrationId, principal: Writer, hub: HubDep, body: MemberBatch
) -> Any:
    document = hub.integrations.get(tenant_id, integration_id).document
    require_operation(hub, document, "sync_members", "/members", "takes no members")
    require_fields_mapped("members", body.members, document.config.member_field_map, "member_field_map")
    return store(hub, tenant_id, integration_id, "member", body.members, updatable=True)


Key = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,80}$")]
Category = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class PaymentRecordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: Key = Field(description="The platform's payment id: the idempotency key at the ledger.")
    invoice_key: Key = Field(description="The invoice it settles (handed over through …/outbox/invoices).")
    amount: float = Field(gt=0)
    currency: Currency
    paid_on: date
    account_category: Category = Field("bank", description="Where the money arrived (chart of accounts).")


class PaymentRecordBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payments: list[PaymentRecordIn] = Field(min_length=1, max_length=500)


class ExpenseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: Key = Field(description="The platform's expense id: the idempotency key at the ledger.")
    spent_on: date
    description: Annotated[str, StringConstraints(min_length=1, max_length=180)]
    amount: float = Field(gt=0, description="Gross amount, VAT included.")
    vat_amount: float = Field(0.0, ge=0, description="Input VAT within amount (booked on the input_vat account).")
    vat_code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,20}$")] | None = None
    currency: Currency
    category: Category = Field(description="Expense category (chart of accounts).", examples=["travel"])
    paid_from: Category = Field("bank", description="The account category the money left.")
    supplier: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None


class ExpenseBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expenses: list[ExpenseIn] = Field(min_length=1, max_length=500)


def accounting_intake(hub: Any, tenant_id: str, integration_id: str, operation: str, capability: str) -> Any:
    document = hub.integrations.get(tenant_id, integration_id).document
    if operation not in supported_operations(hub, document) or not getattr(document.capabilities, capability, False):
        raise ValidationFailed(
            "This integration does not take these records.",
            [FieldError("/", f"{document.provider} needs the {operation} operation and capabilities.{capability}")],
        )
    return document


def in_fiscal_year(document: Any, dates: list[tuple[str, date]]) -> None:
    outside = [FieldError(pointer, problem) for pointer, day in dates if (problem := outside_fiscal_year(document, day))]
    if outside:
        raise ValidationFailed("Some records fall outside the configured fiscal year.", outside[:50])


@router.post(
    "/outbox/payments",
    status_code=202,
    operation_id="enqueuePayments",
    summary="Hand received payments to the hub (delivered against their invoices by push_payments)",
    response_model=OutboxResult,
    responses={**WRITE, 409: CONDITIONAL[409]},
)
def enqueue_payments(
    tenant_id: TenantId, integration_id: IntegrationId, principal: Writer, hub: HubDep, body: PaymentRecordBatch
) -> Any:
    document = accounting_intake(hub, tenant_id, integration_id, "push_payments", "payment_sync")
    require_mapped(document, [(f"/payments/{i}/account_category", p.account_category) for i, p in enumerate(body.payments)])
    in_fiscal_year(document, [(f"/payments/{i}/paid_on", p.paid_on) for i, p in enumerate(body.payments)])
    unknown = []
    for i, p in enumerate(body.payments):
        try:
            hub.outbox.get(tenant_id, integration_id, "invoice", p.invoice_key)
        except NotFound:
            unknown.append(
                FieldError(f"/payments/{i}/invoice_key", f"no invoice {p.invoice_key} was handed to this integration")
            )
    if unknown:
        raise ValidationFailed("Some payments settle unknown invoices.", unknown[:50])
    return store(hub, tenant_id, integration_id, "payment", body.payments)


@router.post(
    "/outbox/expenses",
    status_code=202,
    operation_id="enqueueExpenses",
    summary="Hand expenses to the hub (booked by push_expenses)",
    response_model=OutboxResult,
    responses={**WRITE, 409: CONDITIONAL[409]},
)
def enqueue_expenses(
    tenant_id: TenantId, integration_id: IntegrationId, principal: Writer, hub: HubDep, body: ExpenseBatch
) -> Any:
    document = accounting_intake(hub, tenant_id, integration_id, "push_expenses", "expense_sync")
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
    return store(hub, tenant_id, integration_id, "expense", body.expenses)


class ReimbursementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,80}$")] = Field(
        description="The platform's reimbursement id: the external reference at the ledger (idempotency)."
    )
    member_id: Annotated[str, StringConstraints(min_length=1, max_length=50)] = Field(description="Who is reimbursed.")
    description: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    amount: float = Field(gt=0)
    currency: Currency
    category: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")] = Field(
        description="Expense category; mapped to an account by the chart of accounts.", examples=["travel"]
    )
    approved_on: date


class ReimbursementExport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reimbursements: list[ReimbursementIn] = Field(min_length=1, max_length=500)


@router.post(
    "/reimbursements:export",
    status_code=202,
    operation_id="exportReimbursements",
    summary="Export approved reimbursements to the ledger (seed 002's exportReimbursements)",
    response_model=SyncRun,
    responses={**WRITE, 409: CONDITIONAL[409]},
)
def export_reimbursements(
    tenant_id: TenantId, integration_id: IntegrationId, principal: Runner, hub: HubDep, body: ReimbursementExport
) -> Any:
    document = hub.integrations.get(tenant_id, integration_id).document
    require_operation(hub, document, "export_reimbursements", "/reimbursements", "does not export reimbursements")
    require_mapped(document, [(f"/reimbursements/{i}/category", r.category) for i, r in enumerate(body.reimbursements)])
    for r in body.reimbursements:
        hub.outbox.put(tenant_id, integration_id, "reimbursement", r.key, r.model_dump(mode="json"))
    return trigger_sync(hub, tenant_id, integration_id, "export_reimbursements", trigger="manual")


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,80}$")] = Field(
        description="The platform's message id: a repeat is not sent twice."
    )
    to: Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")] = Field(description="E.164 number.")
    body: Annotated[str, StringConstraints(min_length=1, max_length=1600)]
    channel: Literal["sms", "whatsapp"] = "sms"


class MessageBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    messages: list[MessageIn] = Field(min_length=1, max_length=500)


@router.post(
    "/messages",
    status_code=202,
    operation_id="sendMessages",
    summary="Send SMS/WhatsApp messages (queued; delivered once each by a send_messages run)",
    response_model=SyncRun,
    responses={**WRITE, 409: CONDITIONAL[409]},
)
def send_messages(
    tenant_id: TenantId, integration_id: IntegrationId, principal: Runner, hub: HubDep, body: MessageBatch
) -> Any:
    document = hub.integrations.get(tenant_id, integration_id).document
    require_operation(hub, document, "send_messages", "/messages", "sends no messages")
    off = [
        FieldError(f"/messages/{i}/channel", f"the {m.channel} capability is off for this integration")
        for i, m in enumerate(body.messages)
        if not getattr(document.capabilities, m.channel)
    ]
    if off:
        raise ValidationFailed("Some messages use a channel this integration does not send on.", off[:50])
    for m in body.messages:
        hub.outbox.put(tenant_id, integration_id, "message", m.key, m.model_dump(mode="json"))
    return trigger_sync(hub, tenant_id, integration_id, "send_messages", trigger="manual")


class EnrollmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,80}$")] = Field(description="Enrollment id.")
    member_id: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    course_id: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    course_title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    status: Literal["enrolled", "in_progress", "completed", "withdrawn"]
    enrolled_on: date
    completed_on: date | None = None


class EnrollmentBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enrollments: list[EnrollmentIn] = Field(min_length=1, max_length=1000)


@router.post(
    "/outbox/enrollments",
    status_code=202,
    operation_id="enqueueEnrollments",
    summary="Hand course enrollments to the hub (delivered by export_enrollments_csv)",
    response_model=OutboxResult,
    responses=WRITE,
)
def enqueue_enrollments(
    tenant_id: TenantId, integration_id: IntegrationId, principal: Writer, hub: HubDep, body: EnrollmentBatch
) -> Any:
    document = hub.integrations.get(tenant_id, integration_id).document
    require_operation(hub, document, "export_enrollments_csv", "/enrollments", "takes no enrollments")
    return store(hub, tenant_id, integration_id, "enrollment", body.enrollments)


class TagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,80}$")] = Field(
        description="The platform's id of this attendance or completion."
    )
    member_key: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,80}$")] = Field(
        description="The member (synced through sync_members)."
    )
    label: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^;]+$")] = Field(
        description="What lands in the CRM's tag field, e.g. the event or course name.", examples=["SM i boule 2026"]
    )


class TagBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[TagIn] = Field(min_length=1, max_length=1000)


class TagRecord(TagIn):
    tag_type: Literal["event", "course"]


def _tags(hub: Any, tenant_id: str, integration_id: str, body: TagBatch, tag_type: str, capability: str) -> Any:
    document = hub.integrations.get(tenant_id, integration_id).document
    require_operation(hub, document, "push_tags", "/items", "takes no CRM tags")
    if not getattr(document.capabilities, capability):
        raise ValidationFailed(
            "This integration does not record these.", [FieldError("/items", f"capabilities.{capability} is off")]
        )
    if tag_type == "course" and not document.config.course_tag_field:
        raise ValidationFailed(
            "No CRM field receives courses.", [FieldError("/items", "config.course_tag_field is not set")]
        )
    records = [TagRecord(**item.model_dump(), tag_type=tag_type) for item in body.items]
    return store(hub, tenant_id, integration_id, "tag", records)


@router.post(
    "/outbox/attendance",
    status_code=202,
    operation_id="enqueueAttendance",
    summary="Event attendance/registration → the member's event tag field in the CRM (push_tags)",
    response_model=OutboxResult,
    responses={**WRITE, 409: CONDITIONAL[409]},
)
def enqueue_attendance(
    tenant_id: TenantId, integration_id: IntegrationId, principal: Writer, hub: HubDep, body: TagBatch
) -> Any:
    return _tags(hub, tenant_id, integration_id, body, "event", "event_attendance")


@router.post(
    "/outbox/course-completions",
    status_code=202,
    operation_id="enqueueCourseCompletions",
    summary="Completed courses → the member's course tag field in the CRM (push_tags)",
    response_model=OutboxResult,
    responses={**WRITE, 409: CONDITIONAL[409]},
)
def enqueue_course_completions(
    tenant_id: TenantId, integration_id: IntegrationId, principal: Writer, hub: HubDep, body: TagBatch
) -> Any:
    return _tags(hub, tenant_id, integration_id, body, "course", "course_completion")


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,80}$")] = Field(
        description="The platform's order id (kept in the CRM's order_key_field)."
    )
    fields: dict[Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")], MemberValue] = Field(
        min_length=1, max_length=200, description="Order fields by their platform names (keys of order_field_map)."
    )


class OrderBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    orders: list[OrderIn] = Field(min_length=1, max_length=1000)


@router.post(
    "/outbox/orders",
    status_code=202,
    operation_id="enqueueOrders",
    summary="Orders/transactions → records of the CRM's order object (push_orders)",
    response_model=OutboxResult,
    responses={**WRITE, 409: CONDITIONAL[409]},
)
def enqueue_orders(
    tenant_id: TenantId, integration_id: IntegrationId, principal: Writer, hub: HubDep, body: OrderBatch
) -> Any:
    document = hub.integrations.get(tenant_id, integration_id).document
    require_operation(hub, document, "push_orders", "/orders", "takes no orders")
    if not document.capabilities.order_sync or not document.config.order_object:
        raise ValidationFailed(
            "This integration does not sync orders.",
            [FieldError("/orders", "needs capabilities.order_sync and config.order_object")],
        )
    require_fields_mapped("orders", body.orders, document.config.order_field_map, "order_field_map")
    return store(hub, tenant_id, integration_id, "order", body.orders)
