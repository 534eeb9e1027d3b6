"""What a sync does per operation, through the adapter. Pure domain: the job supplies adapter, outbox, lease."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from adapters.accounting import Expense, Invoice, InvoicePayment, InvoiceRef
from adapters.crm import StaleMember
from adapters.csv_fallback import enrollments_csv
from adapters.kobo import answers
from integrations.events import cloud_event
from integrations.sync.calendar import pull_events, push_events
from integrations.sync.delivery import MAX_RECORD_ATTEMPTS, deliver
from integrations.sync.members import MemberMirror, MemberSync
from integrations.sync.outbox import Outbox, RecordState
from integrations.sync.progress import Heartbeat, Progress
from integrations.sync.registry import report_memberships
from integrations.sync.state import SyncState
from shared.errors import NotFound, ProviderError


@dataclass
class SyncEnv:
    """What a run gives its operation besides adapter, outbox and document (each operation uses its part)."""

    heartbeat: Heartbeat
    run_id: str = ""
    write_file: Callable[[str, bytes], None] | None = None
    mirror: MemberMirror | None = None
    emit: Callable[[dict[str, Any]], None] | None = None
    state: SyncState | None = None
    now: Callable[[], datetime] | None = None


def push_invoices(adapter: Any, outbox: Outbox, document: Any, env: SyncEnv) -> Progress:
    return deliver(
        "invoice",
        outbox,
        document,
        find=lambda payload: adapter.find_invoice(payload["key"]),
        push=lambda payload: adapter.push_invoice(Invoice.from_payload(payload)),
        heartbeat=env.heartbeat,
    )


def push_payments(adapter: Any, outbox: Outbox, document: Any, env: SyncEnv) -> Progress:
    """Payments settle invoices: each waits (pending, not attempted) until its invoice is delivered."""
    tenant, integration = document.tenant_id, document.id
    refs: dict[str, InvoiceRef | None] = {}

    def invoice(payload: dict[str, Any]) -> InvoiceRef | None:
        key = payload["invoice_key"]
        if key not in refs:
            try:
                record = outbox.get(tenant, integration, "invoice", key)
            except NotFound:
                record = None
            ok = record is not None and record.state == RecordState.synced and record.external_id
            refs[key] = InvoiceRef(record.external_id, record.payload["customer_number"]) if ok else None  # type: ignore[union-attr,arg-type]
        return refs[key]

    return deliver(
        "payment",
        outbox,
        document,
        ready=lambda payload: invoice(payload) is not None,
        find=lambda payload: adapter.find_payment(InvoicePayment.from_payload(payload), invoice(payload)),
        push=lambda payload: adapter.push_payment(InvoicePayment.from_payload(payload), invoice(payload)),
        heartbeat=env.heartbeat,
    )


def push_expenses(adapter: Any, outbox: Outbox, document: Any, env: SyncEnv) -> Progress:
    return deliver(
        "expense",
        outbox,
        document,
        find=lambda payload: adapter.find_expense(Expense.from_payload(payload)),
        push=lambda payload: adapter.push_expense(Expense.from_payload(payload)),
        heartbeat=env.heartbeat,
    )


INVOICE_STATE_FIELDS = ("Balance", "Total", "Cancelled", "Booked", "FinalPayDate", "DueDate", "Sent")


def pull_invoices(adapter: Any, outbox: Outbox, document: Any, env: SyncEnv) -> Progress:
    """Accounting pull: invoices whose state changed in the ledger (paid, cancelled, booked…) become
    `invoice.changed` events, keyed by our invoice key when the hub delivered them. The cursor is the run's
    start time less a minute (the ledger filters by the minute); re-read invoices whose state has not changed
    are skipped by a digest of their state fields."""
    assert env.state is not None and env.emit is not None
    progress = Progress()
    tenant, integration = document.tenant_id, document.id
    started = env.now() if env.now else None
    for page in adapter.changed_invoices(env.state.cursor(tenant, integration, "invoices")):
        env.heartbeat()
        seen = []
        for invoice in page:
            state = {f: invoice.get(f) for f in INVOICE_STATE_FIELDS if f in invoice}
            digest = hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()[:16]
            number = str(invoice["DocumentNumber"])
            if env.state.seen(tenant, integration, "invoice", f"{number}|{digest}"):
                progress.skipped += 1
                continue
            env.emit(
                cloud_event(
                    "invoice.changed",
                    id=f"{integration}:invoice:{number}:{digest}",
                    tenant_id=tenant,
                    integration_id=integration,
                    subject=invoice.get("ExternalInvoiceReference1") or f"{document.provider}-{number}",
                    data={
                        "key": invoice.get("ExternalInvoiceReference1") or None,
                        "external_id": number,
                        "state": state,
                        "paid": state.get("Balance") in (0, 0.0, "0") and not state.get("Cancelled"),
                    },
                )
            )
            seen.append(f"{number}|{digest}")
        env.state.mark_seen(tenant, integration, "invoice", seen)
        progress.pulled += len(seen)
    if started is not None:
        env.state.set_cursor(tenant, integration, "invoices", (started - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M"))
    return progress


def export_reimbursements(adapter: Any, outbox: Outbox, document: Any, env: SyncEnv) -> Progress:
    return deliver(
        "reimbursement",
        outbox,
        document,
        find=lambda payload: adapter.find_reimbursement(payload["key"]),
        push=adapter.export_reimbursement,
        heartbeat=env.heartbeat,
    )


def send_messages(adapter: Any, outbox: Outbox, document: Any, env: SyncEnv) -> Progress:
    return deliver(
        "message", outbox, document, find=adapter.find_message, push=adapter.send_message, heartbeat=env.heartbeat
    )


def registration_event(document: Any, asset_uid: str, submission: dict[str, Any]) -> dict[str, Any]:
    return cloud_event(
        "registration.submitted",
        id=f"{document.id}:{asset_uid}:{submission['_id']}",
        tenant_id=document.tenant_id,
        integration_id=document.id,
        subject=f"{asset_uid}/{submission['_id']}",
        time=submission.get("_submission_time"),
        data={
            "asset_uid": asset_uid,
            "submission_id": submission["_id"],
            "submission_uuid": submission.get("_uuid"),
            "submitted_at": submission.get("_submission_time"),
            "answers": answers(submission),
        },
    )


def import_registrations(adapter: Any, outbox: Outbox, document: Any, env: SyncEnv) -> Progress:
    """Kobo submissions → registration events (seed 004), per form: resume from the newest submission time
    seen; a submission already taken in (the page edge is re-read) is skipped. Emit first, then remember:
    a crash in between re-emits with the same event id rather than losing a registration."""
    assert env.state is not None and env.emit is not None
    progress = Progress()
    tenant, integration = document.tenant_id, document.id
    for asset in document.config.asset_uids:
        newest = env.state.cursor(tenant, integration, f"kobo:{asset}")
        for page in adapter.submissions(asset, newest):
            env.heartbeat()
            taken = []
            seen = env.state.seen_among(tenant, integration, f"kobo:{asset}", [str(x["_id"]) for x in page])
            for submission in page:
                sid = str(submission["_id"])
                if sid in seen:
                    progress.skipped += 1
                    continue
                env.emit(registration_event(document, asset, submission))
                taken.append(sid)
                newest = max(newest or "", submission.get("_submission_time") or "")
            env.state.mark_seen(tenant, integration, f"kobo:{asset}", taken)
            env.state.set_cursor(tenant, integration, f"kobo:{asset}", newest)
            progress.pulled += len(taken)
    return progress


TAG_SEPARATOR = "; "


def push_tags(adapter: Any, outbox: Outbox, document: Any, env: SyncEnv) -> Progress:
    """Seed 003's event and course tags: each record appends a label (an event attended, a course completed)
    to the member's tag field in the CRM — read, append if absent, conditional update, re-read on a conflict.
    Append-if-absent makes a replay harmless. A record waits (unattempted) until its member is in the CRM."""
    assert env.mirror is not None
    tenant, integration = document.tenant_id, document.id
    fields = {"event": document.config.event_tag_field, "course": document.config.course_tag_field}

    def member(payload: dict[str, Any]) -> str | None:
        entry = env.mirror.get(tenant, integration, payload["member_key"])  # type: ignore[union-attr]
        return entry.external_id if entry else None

    def push(payload: dict[str, Any]) -> str:
        external_id, field_name = member(payload), fields[payload["tag_type"]]
        for _ in range(3):
            value, version = adapter.read_field(external_id, field_name)
            labels = [x for x in str(value or "").split(TAG_SEPARATOR.strip()) if x.strip()]
            if payload["label"].casefold() in {x.strip().casefold() for x in labels}:
                return external_id  # already there (a replay, or added by hand)
            joined = TAG_SEPARATOR.join([*(x.strip() for x in labels), payload["label"]])
            try:
                adapter.update_member(external_id, {field_name: joined}, version)
                return external_id
            except StaleMember:
                continue  # someone saved the record meanwhile: read again
        raise ProviderError(
            detail=f"{payload['key']}: the member record kept changing", provider=document.provider, retriable=True
        )

    return deliver(
        "tag",
        outbox,
        document,
        ready=lambda payload: member(payload) is not None,
        find=lambda payload: None,
        push=push,
        heartbeat=env.heartbeat,
    )


def push_orders(adapter: Any, outbox: Outbox, document: Any, env: SyncEnv) -> Progress:
    """Seed 003's order object: each order becomes a record of config.order_object with its fields mapped
    through order_field_map and our key in order_key_field (found again before a replayed create)."""
    config = document.config

    def fields(payload: dict[str, Any]) -> dict[str, Any]:
        return {config.order_field_map[name]: value for name, value in payload["fields"].items()}

    return deliver(
        "order",
        outbox,
        document,
        find=lambda payload: adapter.find_record(config.order_object, payload["key"]),
        push=lambda payload: adapter.create_record(config.order_object, payload["key"], fields(payload)),
        heartbeat=env.heartbeat,
    )


def sync_members(adapter: Any, outbox: Outbox, document: Any, env: SyncEnv) -> Progress:
    assert env.mirror is not None and env.emit is not None
    return MemberSync(adapter, outbox, env.mirror, document, emit=env.emit, heartbeat=env.heartbeat).run()


def export_enrollments_csv(adapter: Any, outbox: Outbox, document: Any, env: SyncEnv) -> Progress:
    """CSV fallback (seed 002: Cornerstone, Consio): every undelivered enrollment goes into one file per run;
    the records are marked delivered with the file's name, so a replayed run writes the same file again
    (overwrite) rather than a second one with the same rows."""
    progress = Progress()
    tenant, integration = document.tenant_id, document.id
    records = list(outbox.due(tenant, integration, "enrollment", max_attempts=MAX_RECORD_ATTEMPTS))
    if not records:
        return progress
    env.heartbeat()
    name = f"{tenant}/{integration}/enrollments-{env.run_id}.csv"
    assert env.write_file is not None
    env.write_file(name, enrollments_csv([r.payload for r in records]))
    outbox.mark_many(tenant, integration, [(r, RecordState.synced, name, "") for r in records])
    progress.created = len(records)
    return progress


def sync_enrollments(adapter: Any, outbox: Outbox, document: Any, env: SyncEnv) -> Progress:
    """Seed 002's Cornerstone/Consio sync: through the partner's API when one is configured, else — or when
    it stays unavailable during the run — as a CSV file (if the integration allows the fallback). A record
    in flight when the API failed may reach the partner both ways; the partner keys both on its id."""
    reason = "no partner API configured"
    if adapter.has_api:
        try:
            return deliver(
                "enrollment",
                outbox,
                document,
                find=lambda payload: None,  # PUT by our key: sending again is safe
                push=adapter.push_enrollment,
                heartbeat=env.heartbeat,
            )
        except ProviderError as exc:
            if not (exc.retriable and adapter.csv_fallback):
                raise
            reason = f"partner API unavailable ({exc.detail})"
    if not adapter.csv_fallback:
        raise ProviderError(detail=f"{reason} and the CSV fallback is off", provider=document.provider)
    progress = export_enrollments_csv(adapter, outbox, document, env)
    if progress.created:
        progress.reason = f"{reason}: {progress.created} enrollment(s) exported as enrollments-{env.run_id}.csv"
    return progress


# Operations of a multi-family provider (signed REST serves registries and insurers) that only one family has.
OPERATION_FAMILIES: dict[str, frozenset[str]] = {"report_memberships": frozenset({"gov_sports_registry"})}

# operation name → (record kind it delivers, the function); the API only accepts operations the adapter has.
OPERATIONS: dict[str, tuple[str, Callable[..., Progress], str]] = {
    "push_invoices": ("invoice", push_invoices, "push_invoices"),
    "push_payments": ("payment", push_payments, "push_payments"),
    "push_expenses": ("expense", push_expenses, "push_expenses"),
    "pull_invoices": ("invoice", pull_invoices, "pull_invoices"),
    "export_reimbursements": ("reimbursement", export_reimbursements, "export_reimbursements"),
    "export_enrollments_csv": ("enrollment", export_enrollments_csv, "csv_export"),
    "sync_enrollments": ("enrollment", sync_enrollments, "sync_enrollments"),
    "sync_members": ("member", sync_members, "sync_members"),
    "push_tags": ("tag", push_tags, "push_tags"),
    "push_orders": ("order", push_orders, "push_orders"),
    "send_messages": ("message", send_messages, "send_message"),
    "import_registrations": ("registration", import_registrations, "import_registrations"),
    "push_events": ("calendar_event", push_events, "push_events"),
    "pull_events": ("calendar_event", pull_events, "pull_events"),
    "report_memberships": ("membership_report", report_memberships, "report_memberships"),
}
