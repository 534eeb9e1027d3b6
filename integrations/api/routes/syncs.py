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
| processWebhookEvent         | POST   …/integrations/{id}/webhook-events → queue → the read it calls for |
| (calendars)                 | POST   …/integrations/{id}/syncs {"operation": "push_events" or "pull_events"} |
| (registry reporting)        | config.reporting_schedule → report_memberships (records: …/outbox/membership-reports) |
| (records to deliver)        | POST   …/integrations/{id}/outbox/{invoices,members,enrollments,calendar-events,…} |
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Path, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field, JsonValue

from integrations.api.body import Body
from integrations.api.deps import (
    Admin,
    CatalogDep,
    ClockDep,
    ExportsDep,
    IntegrationsDep,
    QueuesDep,
    Reader,
    Ref,
    Runner,
    SchedulesDep,
    SettingsDep,
    SyncDep,
    TokensDep,
)
from integrations.api.problems import COMMON, STATEFUL_WRITE, WRITE, problems
from integrations.api.routing import api_router
from integrations.documents.common import LifecycleStatus
from integrations.documents.document import Condition, ValidationResult
from integrations.documents.lifecycle import allowed_from
from integrations.sync.jobs import supported_operations, trigger_sync
from integrations.sync.operations import OPERATIONS
from integrations.sync.runs import SyncRun
from integrations.sync.schedules import Schedule, check, next_run
from integrations.sync.webhook_events import WebhookEvent
from shared.errors import FieldError, NotFound, ValidationFailed

router = api_router(prefix="/api/v1/tenants/{tenant_id}/integrations/{integration_id}", tags=["syncs"])
# The enum documents every declared operation; which of them an integration is offered is checked per request
# (a 422 naming its offered ones), so the schema's enum is not enforced here.
NAMES: dict[str, JsonValue] = {"enum": list[JsonValue](OPERATIONS)}
Operation = Annotated[
    str, Path(pattern=r"^[a-z_]{3,40}$", description="Sync operation, e.g. push_invoices.", json_schema_extra=NAMES)
]


class TriggerSync(Body):
    operation: str = Field(pattern=r"^[a-z_]{3,40}$", examples=["push_invoices"], json_schema_extra=NAMES)


@router.post("/syncs", status_code=202, operation_id="triggerSync", response_model=SyncRun, responses=STATEFUL_WRITE)
def trigger(ref: Ref, principal: Runner, sync: SyncDep, body: TriggerSync, response: Response) -> Any:
    """Run a sync now (queued)"""
    run = trigger_sync(sync, ref, body.operation, trigger="manual")
    response.headers["Location"] = f"/api/v1/tenants/{ref.tenant_id}/integrations/{ref.integration_id}/syncs/{run.id}"
    return run


class RunPage(BaseModel):
    items: list[SyncRun]


@router.get("/syncs", response_model=RunPage, responses=COMMON)
def list_sync_runs(ref: Ref, principal: Reader, sync: SyncDep, limit: int = 20) -> Any:
    """Sync runs, newest first (limit=1: the last result)"""
    sync.integrations.get(ref)
    return RunPage(items=sync.runs.latest(ref, limit=max(1, min(limit, 100))))


@router.get("/syncs/{run_id}", response_model=SyncRun, responses=COMMON)
def get_sync_run(
    ref: Ref, principal: Reader, sync: SyncDep, run_id: Annotated[str, Path(pattern=r"^[0-9]{13}-[0-9a-f]{8}$")]
) -> Any:
    """One sync run"""
    return sync.runs.get(ref, run_id)


class ScheduleIn(Body):
    cron: str = Field(description="cron (5 fields) or NCRONTAB (6 fields, seconds first).", examples=["0 0 2 * * *"])
    time_zone: str = Field("UTC", description="IANA time zone the cron is read in.", examples=["Europe/Stockholm"])


class ScheduleOut(BaseModel):
    operation: str
    cron: str
    time_zone: str
    next_run_at: datetime


class CronPreview(BaseModel):
    cron: str
    time_zone: str
    next_runs: list[datetime] = Field(description="The next runs, in the time zone's offset (what the console previews).")


@router.post("/syncs/schedules:preview", response_model=CronPreview, responses=WRITE)
def preview_schedule(ref: Ref, principal: Reader, clock: ClockDep, body: ScheduleIn) -> Any:
    """The next runs a schedule would have (the same evaluator as the schedules themselves)"""
    check(body.cron, body.time_zone)
    zone, at, runs = ZoneInfo(body.time_zone), clock(), []
    for _ in range(5):
        at = next_run(body.cron, body.time_zone, at)
        runs.append(at.astimezone(zone))
    return CronPreview(cron=body.cron, time_zone=body.time_zone, next_runs=runs)


def _out(s: Schedule) -> ScheduleOut:
    return ScheduleOut(operation=s.operation, cron=s.cron, time_zone=s.time_zone, next_run_at=s.next_run_at)


@router.put("/syncs/schedules/{operation}", response_model=ScheduleOut, responses=WRITE)
def schedule_sync(
    ref: Ref, operation: Operation, principal: Admin, sync: SyncDep, schedules: SchedulesDep, body: ScheduleIn
) -> Any:
    """Schedule a sync (e.g. nightly)"""
    document = sync.integrations.get(ref).document
    if operation not in supported_operations(sync, document):
        raise ValidationFailed(
            "This integration cannot run that operation.",
            [FieldError("path:operation", f"must be one of {supported_operations(sync, document)}")],
        )
    if own := OPERATIONS[operation].own_schedule:
        raise ValidationFailed(
            f"{operation} follows the integration's {own}.",
            [FieldError("path:operation", f"set {own} on the integration")],
        )
    return _out(schedules.put(ref, operation, cron=body.cron, time_zone=body.time_zone))


@router.delete("/syncs/schedules/{operation}", status_code=204, responses=COMMON)
def cancel_scheduled_sync(
    ref: Ref, operation: Operation, principal: Admin, sync: SyncDep, schedules: SchedulesDep
) -> Response:
    """Cancel a scheduled sync"""
    sync.integrations.get(ref)
    schedules.cancel(ref, operation)
    return Response(status_code=204)


class IntegrationStatus(BaseModel):
    integration_id: str
    lifecycle: str
    allowed_transitions: list[str] = Field(
        default_factory=list,
        description="The lifecycle transitions allowed from here (what the console offers).",
        examples=[["pause", "decommission"]],
    )
    last_validation: ValidationResult | None
    conditions: list[Condition]
    token_state: str = Field(description="n/a, connected, needs_reauth")
    last_sync: SyncRun | None
    schedules: list[ScheduleOut]
    requests_24h: int
    error_rate_24h: float | None = Field(description="Errors / requests over the last 24 hours (hourly buckets).")
    outbox: dict[str, int]


@router.get("/status", response_model=IntegrationStatus, responses=COMMON)
def get_integration_status(ref: Ref, principal: Reader, sync: SyncDep, schedules: SchedulesDep) -> Any:
    """Lifecycle, connection health, last sync, next runs, error rate"""
    document = sync.integrations.get(ref).document
    last_day = sync.usage.last_hours(ref, hours=24)
    requests, errors = last_day.requests, last_day.errors
    oauth = sync.catalog.get(document.provider).auth.kind == "oauth2_code"
    reauth = any(c.type == "needs_reauth" for c in document.conditions)
    last = sync.runs.latest(ref, limit=1)
    return IntegrationStatus(
        integration_id=document.id,
        lifecycle=document.status,
        allowed_transitions=allowed_from(LifecycleStatus(document.status)),
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
        schedules=[_out(s) for s in schedules.for_integration(ref)],
        requests_24h=requests,
        error_rate_24h=round(errors / requests, 4) if requests else None,
        outbox=sync.outbox.counts(ref),
    )


class Refreshed(BaseModel):
    expires_at: datetime
    scopes: list[str]


@router.post(
    "/oauth:refresh",
    operation_id="refreshOAuthToken",
    response_model=Refreshed,
    responses=problems(
        COMMON,
        own={
            409: "A credential has no value in the secret store.",
            400: "Not an OAuth integration.",
            502: "The provider refused (see needs_reauth).",
        },
    ),
)
def refresh(ref: Ref, principal: Admin, catalog: CatalogDep, integrations: IntegrationsDep, tokens: TokensDep) -> Any:
    """Refresh the provider access token now"""
    document = integrations.get(ref).document
    if catalog.get(document.provider).auth.kind != "oauth2_code":
        raise NotFound("This integration has no OAuth grant.")
    tokens.invalidate(document)
    token = tokens.access_token(document, operation="oauth.refresh")
    return Refreshed(expires_at=datetime.fromtimestamp(token.expires_at).astimezone(), scopes=list(token.scopes))


@router.get(
    "/exports/{file_name}",
    response_class=PlainTextResponse,
    responses={**COMMON, 200: {"content": {"text/csv": {}}, "description": "The CSV file."}},
)
def download_export(
    ref: Ref,
    principal: Reader,
    exports: ExportsDep,
    file_name: Annotated[str, Path(pattern=r"^enrollments-[0-9]{13}-[0-9a-f]{8}\.csv$")],
) -> Any:
    """Download a CSV export file"""
    data = exports.get(f"{ref.tenant_id}/{ref.integration_id}/{file_name}")
    return PlainTextResponse(
        data.decode("utf-8"), media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{file_name}"'}
    )


class WebhookEventIn(Body):
    id: str = Field(min_length=1, max_length=200, description="The provider's event id: processed once.")
    type: str = Field(min_length=1, max_length=200, examples=["calendar.events.changed"])
    data: dict[str, Any] = Field(
        default_factory=dict, description='Payment events name the payment: {"payment_key": …}.', max_length=50
    )


class WebhookEventQueued(BaseModel):
    id: str
    queued: bool = True


@router.post(
    "/webhook-events",
    status_code=202,
    summary="Hand a provider event to the hub (queued; it triggers the read the event calls for)",
    response_model=WebhookEventQueued,
    responses=WRITE,
)
def process_webhook_event(
    ref: Ref,
    principal: Runner,
    integrations: IntegrationsDep,
    clock: ClockDep,
    queues: QueuesDep,
    settings: SettingsDep,
    body: WebhookEventIn,
) -> Any:
    """For trusted relays (the platform's event bus, an operator replaying a missed delivery). Public provider
    deliveries go to the verified receivers of the next round, which enqueue the same message."""
    integrations.get(ref)
    message = WebhookEvent(
        tenant_id=ref.tenant_id,
        integration_id=ref.integration_id,
        id=body.id,
        type=body.type,
        received_at=clock(),
        data=body.data,
    )
    queues.send(settings.queue_webhook_events, message.model_dump(mode="json"))
    return WebhookEventQueued(id=body.id)
