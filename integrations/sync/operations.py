"""What a sync does per operation, through the adapter. Pure domain: the job supplies adapter, outbox, lease."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from adapters import capabilities as can
from adapters.accounting import Expense, Invoice, InvoiceRef, InvoiceStatus, Payment
from adapters.crm import StaleMember
from adapters.csv_fallback import enrollments_csv
from adapters.kobo import answers
from canonical.events import CourseEnrollment
from canonical.messages import Message
from canonical.recipes.engine import Mapper, RowRejected
from canonical.recipes.recipe import shipped
from integrations.documents.document import CrmIntegration, DataCollectionIntegration, IntegrationDocument
from integrations.events import cloud_event
from integrations.sync.adams import pull_test_results, submit_tues, sync_whereabouts
from integrations.sync.calendar import pull_events, push_events
from integrations.sync.delivery import MAX_RECORD_ATTEMPTS, deliver
from integrations.sync.insurance import enrol_licence_holders, submit_claims
from integrations.sync.members import MemberSync
from integrations.sync.news import report_news
from integrations.sync.operation import Kind, Operation, SyncEnv
from integrations.sync.outbox import Outbox, RecordState
from integrations.sync.progress import Progress
from integrations.sync.registry import (
    register_facilities,
    report_events,
    report_memberships,
    submit_grant_applications,
    track_compliance,
)
from integrations.sync.social import auto_publish_posts
from shared.errors import NotFound, ProviderError

_KOBO = Mapper(shipped()["kobo_submissions"])  # compiled once: every submission of every run


def push_invoices(adapter: can.InvoicePush, outbox: Outbox, document: IntegrationDocument, env: SyncEnv) -> Progress:
    return deliver(
        "invoice",
        outbox,
        document,
        find=lambda payload: adapter.find_invoice(payload["key"]),
        push=lambda payload: adapter.push_invoice(Invoice.model_validate(payload)),
        heartbeat=env.heartbeat,
    )


def push_payments(adapter: can.PaymentPush, outbox: Outbox, document: IntegrationDocument, env: SyncEnv) -> Progress:
    """Payments settle invoices: each waits (pending, not attempted) until its invoice is delivered."""
    ref = document.ref
    refs: dict[str, InvoiceRef | None] = {}

    def invoice(payload: dict[str, Any]) -> InvoiceRef | None:
        key = payload["invoice_key"]
        if key not in refs:
            try:
                record = outbox.get(ref, "invoice", key)
            except NotFound:
                record = None
            delivered = record is not None and record.state == RecordState.synced and record.external_id
            refs[key] = InvoiceRef(record.external_id, record.payload["customer_number"]) if delivered else None  # type: ignore[union-attr,arg-type]
        return refs[key]

    def delivered(payload: dict[str, Any]) -> InvoiceRef:
        ref = invoice(payload)
        assert ref is not None  # `ready` held the payment back until its invoice was delivered
        return ref

    return deliver(
        "payment",
        outbox,
        document,
        ready=lambda payload: invoice(payload) is not None,
        find=lambda payload: adapter.find_payment(Payment.model_validate(payload), delivered(payload)),
        push=lambda payload: adapter.push_payment(Payment.model_validate(payload), delivered(payload)),
        heartbeat=env.heartbeat,
    )


def push_expenses(adapter: can.ExpensePush, outbox: Outbox, document: IntegrationDocument, env: SyncEnv) -> Progress:
    return deliver(
        "expense",
        outbox,
        document,
        find=lambda payload: adapter.find_expense(Expense.model_validate(payload)),
        push=lambda payload: adapter.push_expense(Expense.model_validate(payload)),
        heartbeat=env.heartbeat,
    )


def pull_invoices(adapter: can.InvoiceChanges, outbox: Outbox, document: IntegrationDocument, env: SyncEnv) -> Progress:
    """Accounting pull: invoices whose state changed in the ledger (paid, cancelled, booked…) become
    `invoice.changed` events, keyed by our invoice key when the hub delivered them; an invoice re-read with the
    same state is skipped by a digest of its state fields."""

    def seen_key(invoice: InvoiceStatus) -> str:
        digest = hashlib.sha256(json.dumps(invoice.state, sort_keys=True, default=str).encode()).hexdigest()[:16]
        return f"{invoice.external_id}|{digest}"

    def event(invoice: InvoiceStatus, seen: str) -> dict[str, Any]:
        return cloud_event(
            "invoice.changed",
            id=f"{document.id}:invoice:{seen.replace('|', ':')}",
            ref=document.ref,
            subject=invoice.key or f"{document.provider}-{invoice.external_id}",
            data={
                "key": invoice.key,
                "external_id": invoice.external_id,
                "state": invoice.state,
                "paid": invoice.paid,
                "cancelled": invoice.cancelled,
            },
        )

    return report_news(
        adapter.changed_invoices,
        adapter.invoice_cursor,
        env=env,
        document=document,
        cursor="invoices",
        kind="invoice",
        seen_key=seen_key,
        event=event,
    )


def export_reimbursements(
    adapter: can.ReimbursementExport, outbox: Outbox, document: IntegrationDocument, env: SyncEnv
) -> Progress:
    return deliver(
        "reimbursement",
        outbox,
        document,
        find=lambda payload: adapter.find_reimbursement(payload["key"]),
        push=adapter.export_reimbursement,
        heartbeat=env.heartbeat,
    )


def send_messages(adapter: can.MessageSend, outbox: Outbox, document: IntegrationDocument, env: SyncEnv) -> Progress:
    return deliver(
        "message",
        outbox,
        document,
        find=lambda payload: adapter.find_message(Message.model_validate(payload)),
        push=lambda payload: adapter.send_message(Message.model_validate(payload)),
        heartbeat=env.heartbeat,
    )


def canonical_registration(submission: dict[str, Any]) -> dict[str, Any] | None:
    """The submission as a canonical Registration when the form follows the hub's registration template (the
    kobo_submissions recipe); None for any other form (its answers still travel as they are)."""
    try:
        return _KOBO.map(submission).model_dump(mode="json", exclude_none=True)
    except RowRejected:
        return None


def registration_event(document: IntegrationDocument, asset_uid: str, submission: dict[str, Any]) -> dict[str, Any]:
    return cloud_event(
        "registration.submitted",
        id=f"{document.id}:{asset_uid}:{submission['_id']}",
        ref=document.ref,
        subject=f"{asset_uid}/{submission['_id']}",
        time=submission.get("_submission_time"),
        data={
            "asset_uid": asset_uid,
            "submission_id": submission["_id"],
            "submission_uuid": submission.get("_uuid"),
            "submitted_at": submission.get("_submission_time"),
            "answers": answers(submission),
            "registration": canonical_registration(submission),
        },
    )


def import_registrations(
    adapter: can.SubmissionReads, outbox: Outbox, document: DataCollectionIntegration, env: SyncEnv
) -> Progress:
    """Kobo submissions → registration events (seed 004), per form: resume from the newest submission time
    seen, held at the run's start (the signpost); a submission already taken in (the page edge, or what the
    signpost re-reads) is skipped. Emit first, then remember:
    a crash in between re-emits with the same event id rather than losing a registration."""
    progress = Progress()
    ref = document.ref
    for asset in document.config.asset_uids:
        newest = env.state.cursor(ref, f"kobo:{asset}")
        for page in adapter.submissions(asset, newest):
            env.heartbeat()
            taken = []
            seen = env.state.seen_among(ref, f"kobo:{asset}", [str(x["_id"]) for x in page])
            for submission in page:
                sid = str(submission["_id"])
                if sid in seen:
                    progress.skipped += 1
                    continue
                env.emit(registration_event(document, asset, submission))
                taken.append(sid)
                newest = max(newest or "", submission.get("_submission_time") or "")
            env.state.mark_seen(ref, f"kobo:{asset}", taken)
            env.state.set_cursor(ref, f"kobo:{asset}", newest, signpost=env.started_at)
            progress.pulled += len(taken)
    return progress


TAG_SEPARATOR = "; "


def push_tags(adapter: can.TagFields, outbox: Outbox, document: CrmIntegration, env: SyncEnv) -> Progress:
    """Seed 003's event and course tags: each record appends a label (an event attended, a course completed)
    to the member's tag field in the CRM — read, append if absent, conditional update, re-read on a conflict.
    Append-if-absent makes a replay harmless. A record waits (unattempted) until its member is in the CRM."""
    assert env.mirror is not None
    ref = document.ref
    fields = {"event": document.config.event_tag_field, "course": document.config.course_tag_field}

    def member(payload: dict[str, Any]) -> str | None:
        entry = env.mirror.get(ref, payload["member_key"])  # type: ignore[union-attr]
        return entry.external_id if entry else None

    def push(payload: dict[str, Any]) -> str:
        external_id, field_name = member(payload), fields[payload["tag_type"]]
        assert external_id is not None  # `ready` held the tag back until its member was in the CRM
        if field_name is None:  # the intake checked it, but the config may have changed since
            raise ProviderError(
                detail=f"{payload['key']}: config.{payload['tag_type']}_tag_field is not set", provider=document.provider
            )
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


def push_orders(adapter: can.OrderRecords, outbox: Outbox, document: CrmIntegration, env: SyncEnv) -> Progress:
    """Seed 003's order object: each order becomes a record of config.order_object with its fields mapped
    through order_field_map and our key in order_key_field (found again before a replayed create)."""
    config = document.config

    def target(payload: dict[str, Any]) -> str:
        if not config.order_object:  # the intake checked it, but the config may have changed since
            raise ProviderError(detail=f"{payload['key']}: config.order_object is not set", provider=document.provider)
        return config.order_object

    def fields(payload: dict[str, Any]) -> dict[str, Any]:
        return {config.order_field_map[name]: value for name, value in payload["fields"].items()}

    return deliver(
        "order",
        outbox,
        document,
        find=lambda payload: adapter.find_record(target(payload), payload["key"]),
        push=lambda payload: adapter.create_record(target(payload), payload["key"], fields(payload)),
        heartbeat=env.heartbeat,
    )


def sync_members(adapter: can.MemberRecords, outbox: Outbox, document: CrmIntegration, env: SyncEnv) -> Progress:
    assert env.mirror is not None
    return MemberSync(
        adapter,
        outbox,
        env.mirror,
        document,
        emit=env.emit,
        heartbeat=env.heartbeat,
        state=env.state,
        started_at=env.started_at,
    ).run()


def export_enrollments_csv(
    adapter: can.EnrollmentFiles, outbox: Outbox, document: IntegrationDocument, env: SyncEnv
) -> Progress:
    """CSV fallback (seed 002: Cornerstone, Consio): every undelivered enrollment goes into one file per run;
    the records are marked delivered with the file's name, so a replayed run writes the same file again
    (overwrite) rather than a second one with the same rows."""
    progress = Progress()
    records = list(outbox.due(document.ref, "enrollment", max_attempts=MAX_RECORD_ATTEMPTS))
    if not records:
        return progress
    env.heartbeat()
    name = f"{document.tenant_id}/{document.id}/enrollments-{env.run_id}.csv"
    assert env.write_file is not None
    env.write_file(name, enrollments_csv([r.payload for r in records]))
    outbox.mark_many(document.ref, [(r, RecordState.synced, name, "") for r in records])
    progress.created = len(records)
    return progress


def sync_enrollments(adapter: can.EnrollmentSync, outbox: Outbox, document: IntegrationDocument, env: SyncEnv) -> Progress:
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
                push=lambda payload: adapter.push_enrollment(CourseEnrollment.model_validate(payload)),
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


def _registry(*operations: Operation) -> dict[str, Operation]:
    return {op.name: op for op in operations}


# Every sync operation, declared once. Adding one = a declaration here + the adapter methods of its Protocol
# (and the operation's name in the catalog entries of the providers whose adapters have them).
OPERATIONS: dict[str, Operation] = _registry(
    Operation("push_invoices", Kind.push, "invoice", push_invoices, can.InvoicePush,
              "Deliver handed-in invoices to the ledger.", flags=("invoice_sync",)),
    Operation("push_payments", Kind.push, "payment", push_payments, can.PaymentPush,
              "Book received payments against their delivered invoices.", flags=("payment_sync",)),
    Operation("push_expenses", Kind.push, "expense", push_expenses, can.ExpensePush,
              "Book handed-in expenses.", flags=("expense_sync",)),
    Operation("pull_invoices", Kind.pull, "invoice", pull_invoices, can.InvoiceChanges,
              "Report invoices whose state changed in the ledger (paid, cancelled…) as events.", on_change=True),
    Operation("export_reimbursements", Kind.export, "reimbursement", export_reimbursements, can.ReimbursementExport,
              "Export approved reimbursements.", flags=("reimbursement_export",)),
    Operation("export_enrollments_csv", Kind.export, "enrollment", export_enrollments_csv, can.EnrollmentFiles,
              "Write pending enrollments to one CSV file per run.", flags=("csv_fallback",)),
    Operation("sync_enrollments", Kind.export, "enrollment", sync_enrollments, can.EnrollmentSync,
              "Deliver enrollments through the partner's API, or as CSV when it is unavailable.",
              flags=("enrollment_sync",)),
    Operation("sync_members", Kind.sync, "member", sync_members, can.MemberRecords,
              "Two-way member sync with the CRM's member object.", flags=("member_sync",), on_change=True),
    Operation("push_tags", Kind.push, "tag", push_tags, can.TagFields,
              "Append event and course labels to the member's tag fields.",
              flags=("event_attendance", "course_completion")),
    Operation("push_orders", Kind.push, "order", push_orders, can.OrderRecords,
              "Create records of the CRM's order object.", flags=("order_sync",)),
    Operation("send_messages", Kind.export, "message", send_messages, can.MessageSend,
              "Send queued SMS/WhatsApp messages, once each.", flags=("sms", "whatsapp")),
    Operation("auto_publish_posts", Kind.export, "social_post", auto_publish_posts, can.SocialAutoPublish,
              "Publish the posts handed over for federation events, once each.", flags=("auto_publish_events",)),
    Operation("import_registrations", Kind.pull, "registration", import_registrations, can.SubmissionReads,
              "Take form submissions in as registration events.", flags=("import_registrations",), on_change=True),
    Operation("push_events", Kind.push, "calendar_event", push_events, can.EventWrites,
              "Create, update and delete the platform's events in the calendar.", flags=("push_events",)),
    Operation("pull_events", Kind.pull, "calendar_event", pull_events, can.EventChanges,
              "Report the calendar's changes as events.", flags=("pull_events",), on_change=True),
    Operation("report_memberships", Kind.export, "membership_report", report_memberships, can.MembershipReports,
              "PUT pending membership reports to the registry.", flags=("membership_reporting",),
              families=frozenset({"gov_sports_registry"}),
              own_schedule="config.reporting_schedule and config.reporting_time_zone"),
    Operation("submit_grant_applications", Kind.push, "grant_application", submit_grant_applications,
              can.RegistryFilings, "Submit grant applications to the registry (PUT by key: once each).",
              flags=("grant_applications",), families=frozenset({"gov_sports_registry"})),
    Operation("register_facilities", Kind.push, "facility", register_facilities, can.RegistryFilings,
              "Register facilities with the registry (PUT by key: a change updates).",
              flags=("facility_registration",), families=frozenset({"gov_sports_registry"})),
    Operation("report_events", Kind.push, "event_report", report_events, can.RegistryFilings,
              "Report events and competitions to the registry (PUT by key: a correction revises).",
              flags=("event_reporting",), families=frozenset({"gov_sports_registry"})),
    Operation("track_compliance", Kind.pull, "obligation", track_compliance, can.ComplianceObligations,
              "Report the registry's new or changed compliance obligations as events.",
              flags=("compliance_tracking",), families=frozenset({"gov_sports_registry"})),
    Operation("enrol_licence_holders", Kind.push, "insurance_enrolment", enrol_licence_holders, can.InsuranceEnrolments,
              "Enrol handed-in licence holders in the group policy (PUT by licence: once each).",
              flags=("auto_enrollment",), families=frozenset({"insurance"})),
    Operation("submit_claims", Kind.push, "insurance_claim", submit_claims, can.ClaimSubmissions,
              "Submit handed-in claims to the insurer (PUT by claim key: once each).",
              flags=("claims_submission",), families=frozenset({"insurance"})),
    Operation("sync_whereabouts", Kind.push, "whereabouts", sync_whereabouts, can.WhereaboutsFilings,
              "File athletes' whereabouts in ADAMS (PUT by athlete and quarter: a change updates the filing).",
              flags=("whereabouts_sync",), families=frozenset({"wada_adams"})),
    Operation("submit_tues", Kind.push, "tue", submit_tues, can.TueSubmissions,
              "Submit TUE applications to ADAMS (PUT by key: once each).",
              flags=("tue_management",), families=frozenset({"wada_adams"})),
    Operation("pull_test_results", Kind.pull, "test_result", pull_test_results, can.TestResults,
              "Report new test results from ADAMS as adams.test_result events.",
              flags=("test_result_tracking",), families=frozenset({"wada_adams"}), on_change=True),
)  # fmt: skip


def offered(document: IntegrationDocument, capabilities: list[str]) -> list[Operation]:
    """The operations this integration may run, given its provider's catalog capabilities."""
    return [op for op in OPERATIONS.values() if op.offered_to(document, capabilities)]


def delivered_records(document: IntegrationDocument, capabilities: list[str]) -> list[str]:
    """The record kinds an operation this integration may run delivers: what its outbox intake, imports, exports
    and reconciliations take."""
    return sorted({op.record for op in offered(document, capabilities) if op.delivers and op.record})
