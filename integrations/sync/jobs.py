"""Executing sync jobs from the queue, and triggering them (manual or scheduled).

The queue contract (what `queue_sync_jobs` receives): {"tenant_id", "integration_id", "run_id", "operation"}.
Errors carry their queue meaning: a busy integration or a provider outage raises (the message comes back
after the visibility timeout, up to maxDequeueCount, then the poison queue); everything decided (done,
skipped, needs_reauth, record failures) returns normally.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from opentelemetry.trace import SpanKind

from integrations.documents.common import LifecycleStatus
from integrations.sync.operations import OPERATION_FAMILIES, OPERATIONS, SyncEnv
from integrations.sync.runs import TERMINAL, RunStatus, SyncRun, cloud_event
from integrations.tokens import NeedsReauth
from shared import logs, telemetry
from shared.errors import Conflict, FieldError, HubError, ProviderError, ValidationFailed
from shared.leases import LeaseBusy

log = logging.getLogger("hub.sync")
MAX_DEQUEUE = 5


class SyncBusy(Exception):
    """Another run of this integration holds the lease: try again later."""


def supported_operations(hub: Any, document: Any) -> list[str]:
    """Operations the provider's adapter has; pulls and pushes only where the integration's sync direction
    includes them; and where the document has a capability flag of the operation's name, only when it is on."""
    capabilities = set(hub.catalog.get(document.provider).capabilities)
    direction = str(getattr(document.config, "sync_direction", "bidirectional"))
    flags = document.capabilities.model_dump()

    def offered(op: str, capability: str) -> bool:
        if capability not in capabilities or flags.get(capability) is False:
            return False
        if op in OPERATION_FAMILIES and document.family not in OPERATION_FAMILIES[op]:
            return False
        return not (op.startswith("pull_") and direction == "push") and not (op.startswith("push_") and direction == "pull")

    return [op for op, (_, _, capability) in OPERATIONS.items() if offered(op, capability)]


def trigger_sync(hub: Any, tenant_id: str, integration_id: str, operation: str, *, trigger: str) -> SyncRun:
    document = hub.integrations.get(tenant_id, integration_id).document
    if operation not in supported_operations(hub, document):
        raise ValidationFailed(
            "This integration cannot run that operation.",
            [FieldError("/operation", f"must be one of {supported_operations(hub, document) or ['(none)']}")],
        )
    if document.status != LifecycleStatus.active:
        raise Conflict(f"Only active integrations sync; this one is {document.status}.", reason="not_active")
    run = hub.runs.create(tenant_id, integration_id, operation, trigger=trigger)
    hub.queues.send(
        hub.settings.queue_sync_jobs,
        {"tenant_id": tenant_id, "integration_id": integration_id, "run_id": run.id, "operation": operation},
    )
    return run


def run_job_message(body: bytes, *, dequeue_count: int, hub: Any) -> SyncRun:
    msg = json.loads(body)
    with (
        logs.bound(tenant_id=msg.get("tenant_id"), integration_id=msg.get("integration_id"), run_id=msg.get("run_id")),
        telemetry.span(
            "sync job",
            kind=SpanKind.CONSUMER,
            parent=telemetry.context_from(msg),
            attributes={
                "hub.tenant_id": msg.get("tenant_id"),
                "hub.integration_id": msg.get("integration_id"),
                "hub.operation": msg.get("operation"),
                "messaging.message.delivery_count": dequeue_count,
            },
        ),
    ):
        return _run(msg, dequeue_count=dequeue_count, hub=hub)


def _run(msg: dict[str, Any], *, dequeue_count: int, hub: Any) -> SyncRun:
    run = hub.runs.get(msg["tenant_id"], msg["integration_id"], msg["run_id"])
    if run.status in TERMINAL:
        return run  # a replayed message: the run already ended
    try:
        lease = hub.leases.try_acquire(f"sync-{run.tenant_id}-{run.integration_id}", ttl_s=hub.settings.sync_lease_s)
        if lease is None:
            raise SyncBusy(run.integration_id)
        held = [lease]  # heartbeats renew the lease (new ETag): release the latest one
        try:
            return _execute(hub, run, held, dequeue_count)
        finally:
            hub.leases.release(held[0])
            hub.usage.flush()
    except SyncBusy:
        if dequeue_count >= MAX_DEQUEUE:
            _finish(hub, run, RunStatus.failed, reason="another run kept the integration busy")
        raise


def _execute(hub: Any, run: SyncRun, held: list[Any], dequeue_count: int) -> SyncRun:
    document = hub.integrations.get(run.tenant_id, run.integration_id).document
    if document.status != LifecycleStatus.active:
        return _finish(hub, run, RunStatus.skipped, reason=f"integration is {document.status}")
    run.status, run.attempts = RunStatus.running, run.attempts + 1
    run.started_at = run.started_at or hub.now()
    hub.runs.save(run)
    started = time.perf_counter()
    kind, operation, _ = OPERATIONS[run.operation]

    def heartbeat() -> None:
        try:
            held[0] = hub.leases.renew(held[0], ttl_s=hub.settings.sync_lease_s)
        except LeaseBusy:
            raise SyncBusy(run.integration_id) from None

    calls_before = _calls(hub, run)
    env = SyncEnv(
        heartbeat=heartbeat,
        run_id=run.id,
        write_file=lambda name, data: hub.exports.put(name, data, content_type="text/csv"),
        mirror=hub.member_mirror,
        state=hub.sync_state,
        now=hub.now,
        emit=lambda event: hub.queues.send(hub.settings.queue_integration_events, event),
    )
    try:
        progress = operation(hub.adapter_for(document), hub.outbox, document, env)
    except NeedsReauth as exc:
        return _finish(hub, run, RunStatus.failed, reason=exc.detail, started=started, calls_before=calls_before)
    except ProviderError as exc:
        log.warning("sync %s of %s paused by the provider: %s", run.id, run.integration_id, exc.detail)
        if dequeue_count >= MAX_DEQUEUE or not exc.retriable:
            _finish(hub, run, RunStatus.failed, reason=exc.detail, started=started, calls_before=calls_before)
            if not exc.retriable:
                return run
        raise
    except HubError as exc:
        return _finish(hub, run, RunStatus.failed, reason=exc.detail, started=started, calls_before=calls_before)
    run.created += progress.created
    run.updated += progress.updated
    run.skipped += progress.skipped
    run.pulled += progress.pulled
    run.failed = progress.failed
    run.errors = progress.errors
    status = RunStatus.partial if progress.failed else RunStatus.succeeded
    return _finish(hub, run, status, reason=progress.reason, started=started, calls_before=calls_before)


def _calls(hub: Any, run: SyncRun) -> int:
    today = hub.now().date()
    days = hub.usage.daily(run.tenant_id, run.integration_id, start=today, end=today)
    return sum(t.requests for d in days for op, t in d.by_operation.items() if op.startswith("sync."))


def _finish(
    hub: Any,
    run: SyncRun,
    status: RunStatus,
    *,
    reason: str = "",
    started: float | None = None,
    calls_before: int | None = None,
) -> SyncRun:
    run.status, run.reason, run.finished_at = status, reason, hub.now()
    if started is not None:
        run.duration_ms = round((time.perf_counter() - started) * 1000, 1)
    if calls_before is not None:
        hub.usage.flush()
        run.provider_calls += _calls(hub, run) - calls_before
    hub.runs.save(run)
    telemetry.sync_runs.add(1, {"operation": run.operation, "status": run.status.value})
    hub.queues.send(hub.settings.queue_integration_events, cloud_event(run))
    log.info("sync %s %s: %s (created %d, failed %d)", run.operation, run.id, status, run.created, run.failed)
    return run
