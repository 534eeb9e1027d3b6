"""Sync interfaces of seed 002 as REST resources under an integration:

| seed 002 interface          | route |
|-----------------------------|-------|
| triggerSync                 | POST   …/integrations/{id}/syncs {"operation"} → 202 + run |
| getLastSyncResult           | GET    …/integrations/{id}/syncs?limit=1 (newest first); GET …/syncs/{run_id} |
| scheduleSync                | PUT    …/integrations/{id}/syncs/schedules/{operation} {"cron", "time_zone"} |
| cancelScheduledSync         | DELETE …/integrations/{id}/syncs/schedules/{operation} |
| getIntegrationStatus        | GET    …/integrations/{id}/status |
| refreshOAuthToken           | POST   …/integrations/{id}/oauth:refresh |
| syncMembershipData          | POST   …/integrations/{id}/syncs {"operation": "sync_members"} (records: …/outbox/members) |
| syncCourseEnrollments       | POST   …/integrations/{id}/syncs {"operation": "export_enrollments_csv"} |
| exportReimbursements        | POST   …/integrations/{id}/reimbursements:export |
| (messaging, seed 004)       | POST   …/integrations/{id}/messages → a send_messages run |
| (Kobo import, seed 004)     | POST   …/integrations/{id}/syncs {"operation": "import_registrations"} |
| (records to deliver)        | POST   …/integrations/{id}/outbox/{invoices,members,enrollments} |
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Response
from fastapi.responses import PlainTextResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from adapters.accounting import outside_fiscal_year
from integrations.api.deps import Admin, HubDep, IntegrationId, Reader, TenantId, Writer, require
from integrations.api.routes.integrations import COMMON, CONDITIONAL, WRITE, P
from integrations.auth.principal import Principal, Scope
from integrations.documents.common import Currency
from integrations.documents.document import Condition, ValidationResult
from integrations.sync.jobs import supported_operations, trigger_sync
from integrations.sync.runs import SyncRun
from integrations.sync.schedules import Schedule
from shared.errors import FieldError, NotFound, ValidationFailed

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/integrations/{integration_id}", tags=["syncs"])
Runner = Annotated[Principal, Depends(require(Scope.syncs_run))]
Operation = Annotated[str, Path(pattern=r"^[a-z_]{3,40}$", description="Sync operation, e.g. push_invoices.")]


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


class TriggerSync(BaseModel):
    model_config = ConfigDict(extra="forbid")
    operation: str = Field(pattern=r"^[a-z_]{3,40}$", examples=["push_invoices"])


@router.post(
    "/syncs",
    status_code=202,
    operation_id="triggerSync",
    summary="Run a sync now (queued)",
    response_model=SyncRun,
    responses={**WRITE, 409: CONDITIONAL[409]},
)
def trigger(
    tenant_id: TenantId, integration_id: IntegrationId, principal: Runner, hub: HubDep, body: TriggerSync, response: Response
) -> Any:
    run = trigger_sync(hub, tenant_id, integration_id, body.operation, trigger="manual")
    response.headers["Location"] = f"/api/v1/tenants/{tenant_id}/integrations/{integration_id}/syncs/{run.id}"
    return run


class RunPage(BaseModel):
    items: list[SyncRun]


@router.get(
    "/syncs",
    operation_id="listSyncRuns",
    summary="Sync runs, newest first (limit=1: the last result)",
    response_model=RunPage,
    responses=COMMON,
)
def runs(tenant_id: TenantId, integration_id: IntegrationId, principal: Reader, hub: HubDep, limit: int = 20) -> Any:
    hub.integrations.get(tenant_id, integration_id)
    return RunPage(items=hub.runs.latest(tenant_id, integration_id, limit=max(1, min(limit, 100))))


@router.get("/syncs/{run_id}", operation_id="getSyncRun", summary="One sync run", response_model=SyncRun, responses=COMMON)
def run(
    tenant_id: TenantId,
    integration_id: IntegrationId,
    principal: Reader,
    hub: HubDep,
    run_id: Annotated[str, Path(pattern=r"^[0-9]{13}-[0-9a-f]{8}$")],
) -> Any:
    return hub.runs.get(tenant_id, integration_id, run_id)


class ScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cron: str = Field(description="cron (5 fields) or NCRONTAB (6 fields, seconds first).", examples=["0 0 2 * * *"])
    time_zone: str = Field("UTC", description="IANA time zone the cron is read in.", examples=["Europe/Stockholm"])


class ScheduleOut(BaseModel):
    operation: str
    cron: str
    time_zone: str
    next_run_at: datetime


def _out(s: Schedule) -> ScheduleOut:
    return ScheduleOut(operation=s.operation, cron=s.cron, time_zone=s.time_zone, next_run_at=s.next_run_at)


@router.put(
    "/syncs/schedules/{operation}",
    operation_id="scheduleSync",
    summary="Schedule a sync (e.g. nightly)",
    response_model=ScheduleOut,
    responses=WRITE,
)
def schedule(
    tenant_id: TenantId, integration_id: IntegrationId, operation: Operation, principal: Admin, hub: HubDep, body: ScheduleIn
) -> Any:
    document = hub.integrations.get(tenant_id, integration_id).document
    if operation not in supported_operations(hub, document):
        raise ValidationFailed(
            "This integration cannot run that operation.",
            [FieldError("path:operation", f"must be one of {supported_operations(hub, document)}")],
        )
    return _out(hub.schedules.put(tenant_id, integration_id, operation, cron=body.cron, time_zone=body.time_zone))


@router.delete(
    "/syncs/schedules/{operation}",
    status_code=204,
    operation_id="cancelScheduledSync",
    summary="Cancel a scheduled sync",
    responses=COMMON,
)
def cancel(
    tenant_id: TenantId, integration_id: IntegrationId, operation: Operation, principal: Admin, hub: HubDep
) -> Response:
    hub.integrations.get(tenant_id, integration_id)
    hub.schedules.cancel(tenant_id, integration_id, operation)
    return Response(status_code=204)


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
    for record in records:
        payload = record.model_dump(mode="json")
        tally[hub.outbox.put(tenant_id, integration_id, kind, record.key, payload, updatable=updatable)] += 1
    return OutboxResult(**tally, counts=hub.outbox.counts(tenant_id, integration_id))


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
    mapped = document.config.member_field_map
    unknown = [
        FieldError(f"/members/{i}/fields/{name}", f"not in member_field_map (mapped: {sorted(mapped)})")
        for i, m in enumerate(body.members)
        for name in m.fields
        if name not in mapped
    ]
    if unknown:
        raise ValidationFailed("Some member fields are not mapped to the CRM.", unknown[:50])
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


class IntegrationStatus(BaseModel):
    integration_id: str
    lifecycle: str
    last_validation: ValidationResult | None
    conditions: list[Condition]
    token_state: str = Field(description="n/a, connected, needs_reauth")
    last_sync: SyncRun | None
    schedules: list[ScheduleOut]
    requests_24h: int
    error_rate_24h: float | None = Field(description="Errors / requests over today and yesterday (UTC days).")
    outbox: dict[str, int]


@router.get(
    "/status",
    operation_id="getIntegrationStatus",
    summary="Lifecycle, connection health, last sync, next runs, error rate",
    response_model=IntegrationStatus,
    responses=COMMON,
)
def status(tenant_id: TenantId, integration_id: IntegrationId, principal: Reader, hub: HubDep) -> Any:
    document = hub.integrations.get(tenant_id, integration_id).document
    today = hub.now().date()
    days = hub.usage.daily(tenant_id, integration_id, start=today - timedelta(days=1), end=today)
    requests = sum(d.tally.requests for d in days)
    errors = sum(d.tally.errors for d in days)
    oauth = hub.catalog.get(document.provider).auth.kind == "oauth2_code"
    reauth = any(c.type == "needs_reauth" for c in document.conditions)
    last = hub.runs.latest(tenant_id, integration_id, limit=1)
    return IntegrationStatus(
        integration_id=document.id,
        lifecycle=document.status,
        last_validation=document.last_validation,
        conditions=document.conditions,
        token_state="n/a"
        if not oauth
        else "needs_reauth"
        if reauth
        else "connected"
        if document.credentials.oauth_refresh_token_ref
        else "not_connected",
        last_sync=last[0] if last else None,
        schedules=[_out(s) for s in hub.schedules.for_integration(tenant_id, integration_id)],
        requests_24h=requests,
        error_rate_24h=round(errors / requests, 4) if requests else None,
        outbox=hub.outbox.counts(tenant_id, integration_id),
    )


class Refreshed(BaseModel):
    expires_at: datetime
    scopes: list[str]


@router.post(
    "/oauth:refresh",
    operation_id="refreshOAuthToken",
    summary="Refresh the provider access token now",
    response_model=Refreshed,
    responses={
        409: {**P, "description": "A credential has no value in the secret store."},
        **COMMON,
        400: {**P, "description": "Not an OAuth integration."},
        502: {**P, "description": "The provider refused (see needs_reauth)."},
    },
)
def refresh(tenant_id: TenantId, integration_id: IntegrationId, principal: Admin, hub: HubDep) -> Any:
    document = hub.integrations.get(tenant_id, integration_id).document
    if hub.catalog.get(document.provider).auth.kind != "oauth2_code":
        raise NotFound("This integration has no OAuth grant.")
    hub.tokens.invalidate(document)
    token = hub.tokens.access_token(document, operation="oauth.refresh")
    return Refreshed(expires_at=datetime.fromtimestamp(token.expires_at).astimezone(), scopes=list(token.scopes))


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


@router.get(
    "/exports/{file_name}",
    operation_id="downloadExport",
    summary="Download a CSV export file",
    response_class=PlainTextResponse,
    responses={**COMMON, 200: {"content": {"text/csv": {}}, "description": "The CSV file."}},
)
def download_export(
    tenant_id: TenantId,
    integration_id: IntegrationId,
    principal: Reader,
    hub: HubDep,
    file_name: Annotated[str, Path(pattern=r"^enrollments-[0-9]{13}-[0-9a-f]{8}\.csv$")],
) -> Any:
    data = hub.exports.get(f"{tenant_id}/{integration_id}/{file_name}")
    return PlainTextResponse(
        data.decode("utf-8"), media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{file_name}"'}
    )
