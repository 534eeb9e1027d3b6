"""Executing sync jobs from the queue, and triggering them (manual or scheduled).

The queue contract (what `queue_sync_jobs` receives): {"tenant_id", "integration_id", "run_id", "operation"}.
Errors carry their queue meaning: a provider outage raises (the message comes back after the visibility
timeout, up to maxDequeueCount, then the poison queue); everything decided (done, skipped, needs_reauth,
record failures) returns normally. A busy integration is not an error: the message is sent again, visible
when the holder's lease would lapse, so waiting never spends dequeue attempts. The run's lease is owned by
the run id, kept short and renewed in the background, so a crashed holder's lease is stale within one TTL.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from opentelemetry.trace import SpanKind

from integrations.documents.common import LifecycleStatus
from integrations.documents.document import IntegrationDocument
from integrations.documents.ref import IntegrationRef
from integrations.sync.context import RunContext
from integrations.sync.operation import SyncEnv
from integrations.sync.operations import OPERATIONS, offered
from integrations.sync.progress import Progress
from integrations.sync.runs import TERMINAL, RunStatus, SyncRun, cloud_event
from integrations.tokens import NeedsReauth
from shared import logs, telemetry
from shared.errors import Conflict, FieldError, HubError, ProviderError, ValidationFailed
from shared.leases import KeptLease

log = logging.getLogger("hub.sync")
MAX_DEQUEUE = 5  # host.json extensions.queues.maxDequeueCount
# How long a run may wait for another run of its integration before it is failed (waiting costs one queue
# message per lease TTL, not dequeue attempts).
MAX_WAIT = timedelta(hours=6)


class SyncBusy(Exception):
    """Another run of this integration holds the lease: try again later."""


def supported_operations(ctx: RunContext, document: IntegrationDocument) -> list[str]:
    """The names of the operations this integration may run (see Operation.offered_to)."""
    return [op.name for op in offered(document, ctx.catalog.get(document.provider).capabilities)]


def trigger_sync(ctx: RunContext, ref: IntegrationRef, operation: str, *, trigger: str) -> SyncRun:
    document = ctx.integrations.get(ref).document
    if operation not in supported_operations(ctx, document):
        raise ValidationFailed(
            "This integration cannot run that operation.",
            [FieldError("/operation", f"must be one of {supported_operations(ctx, document) or ['(none)']}")],
        )
    if document.status != LifecycleStatus.active:
        raise Conflict(f"Only active integrations sync; this one is {document.status}.", reason="not_active")
    run = ctx.runs.create(ref, operation, trigger=trigger)
    ctx.queues.send(
        ctx.jobs_queue,
        {"tenant_id": ref.tenant_id, "integration_id": ref.integration_id, "run_id": run.id, "operation": operation},
    )
    return run


def run_job_message(body: bytes, *, dequeue_count: int, ctx: RunContext) -> SyncRun:
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
        return _run(msg, dequeue_count=dequeue_count, ctx=ctx)


def _run(msg: dict[str, Any], *, dequeue_count: int, ctx: RunContext) -> SyncRun:
    run = ctx.runs.get(IntegrationRef(msg["tenant_id"], msg["integration_id"]), msg["run_id"])
    if run.status in TERMINAL:
        return run  # a replayed message: the run already ended
    key = run.ref.lease("sync")
    lease = ctx.leases.try_acquire(key, ttl_s=ctx.lease_s, owner=run.id)
    if lease is None:
        return _defer(ctx, msg, run, key)
    with ctx.leases.kept(lease, ttl_s=ctx.lease_s) as kept, ctx.usage.write_through():
        try:
            return _execute(ctx, run, kept, dequeue_count)
        except SyncBusy:
            # Our lease was taken while we stalled past its TTL: the taker runs this run now.
            log.warning("sync %s lost its lease to %s; stopping", run.id, key)
            return run
        finally:
            _quietly(ctx.usage.flush)


def _defer(ctx: RunContext, msg: dict[str, Any], run: SyncRun, key: str) -> SyncRun:
    """The integration is leased: by another run, by this run still alive elsewhere (a redelivery of a live
    run), or by a crashed holder whose lease is stale. None of these is a failure of this message, so it must
    not spend the message's dequeue count: send it again, visible when the holder's lease would lapse."""
    holder = ctx.leases.holder(key)
    now = ctx.now()
    if holder is not None and holder.owner != run.id and now - run.queued_at > MAX_WAIT:
        return _finish(
            ctx, run, RunStatus.failed, reason=f"run {holder.owner} kept the integration busy for over {MAX_WAIT}"
        )
    until_free = (holder.expires_at - now).total_seconds() if holder else 0.0
    delay = max(1, min(math.ceil(until_free) + 1, math.ceil(ctx.lease_s) + 1))
    ctx.queues.send(ctx.jobs_queue, {**msg, "deferrals": int(msg.get("deferrals", 0)) + 1}, delay_s=delay)
    log.info("sync %s deferred %d s: %s is held by %s", run.id, delay, key, holder.owner if holder else "nobody now")
    return run


def _quietly(call: Callable[[], None]) -> None:
    try:
        call()
    except Exception:  # noqa: BLE001 - bookkeeping after the work must not turn a finished run into a retry
        log.warning("post-run bookkeeping failed; it is retried by the next flush", exc_info=True)


def _execute(ctx: RunContext, run: SyncRun, kept: KeptLease, dequeue_count: int) -> SyncRun:
    document = ctx.integrations.get(run.ref).document
    if document.status != LifecycleStatus.active:
        return _finish(ctx, run, RunStatus.skipped, reason=f"integration is {document.status}")
    run.status, run.attempts = RunStatus.running, run.attempts + 1
    run.started_at = run.started_at or ctx.now()
    ctx.runs.save(run)
    started = time.perf_counter()
    # What earlier attempts checkpointed: this attempt's progress adds to it (a resumed run keeps its counts).
    base = run.model_copy()
    calls_before = _calls(ctx, run)

    def tally(progress: Progress) -> None:
        run.created = base.created + progress.created
        run.updated = base.updated + progress.updated
        run.skipped = base.skipped + progress.skipped
        run.pulled = base.pulled + progress.pulled
        run.failed = progress.failed
        run.errors = progress.errors
        run.provider_calls = base.provider_calls + _calls(ctx, run) - calls_before

    def heartbeat(progress: Progress | None = None) -> None:
        if kept.lost.is_set():
            raise SyncBusy(run.integration_id)
        if progress is not None:
            tally(progress)
            ctx.runs.save(run)

    env = SyncEnv(
        heartbeat=heartbeat,
        run_id=run.id,
        write_file=lambda name, data: ctx.exports.put(name, data, content_type="text/csv"),
        mirror=ctx.member_mirror,
        state=ctx.sync_state,
        started_at=ctx.now(),
        emit=ctx.publish,
    )
    try:
        progress = OPERATIONS[run.operation].run(ctx.adapter_for(document), ctx.outbox, document, env)
    except NeedsReauth as exc:
        return _finish(ctx, run, RunStatus.failed, reason=exc.detail, started=started)
    except ProviderError as exc:
        log.warning("sync %s of %s paused by the provider: %s", run.id, run.integration_id, exc.detail)
        if dequeue_count >= MAX_DEQUEUE or not exc.retriable:
            _finish(ctx, run, RunStatus.failed, reason=exc.detail, started=started)
            if not exc.retriable:
                return run
        raise
    except HubError as exc:
        return _finish(ctx, run, RunStatus.failed, reason=exc.detail, started=started)
    _quietly(ctx.usage.flush)
    tally(progress)
    if progress.failed and not (progress.created or progress.updated or progress.pulled):
        # Nothing went through (a revoked grant, a mapping every record misses): not `partial`, which reads as
        # "mostly fine". The first record's error says why.
        first = progress.errors[0]["message"] if progress.errors else ""
        reason = f"every record failed ({progress.failed}); the first: {first}".strip()
        return _finish(ctx, run, RunStatus.failed, reason=reason, started=started)
    status = RunStatus.partial if progress.failed else RunStatus.succeeded
    return _finish(ctx, run, status, reason=progress.reason, started=started)


def _calls(ctx: RunContext, run: SyncRun) -> int:
    today = ctx.now().date()
    days = ctx.usage.daily(run.ref, start=today, end=today)
    return sum(t.requests for d in days for op, t in d.by_operation.items() if op.startswith("sync."))


def _finish(
    ctx: RunContext,
    run: SyncRun,
    status: RunStatus,
    *,
    reason: str = "",
    started: float | None = None,
) -> SyncRun:
    run.status, run.reason, run.finished_at = status, reason, ctx.now()
    if started is not None:
        run.duration_ms = round((time.perf_counter() - started) * 1000, 1)
    ctx.runs.save(run)
    telemetry.sync_runs.add(1, {"operation": run.operation, "status": run.status.value})
    ctx.publish(cloud_event(run))
    log.info("sync %s %s: %s (created %d, failed %d)", run.operation, run.id, status, run.created, run.failed)
    return run
