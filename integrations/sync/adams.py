"""WADA/ADAMS: athletes' whereabouts filings and TUE applications handed in by the platform, delivered once each
(PUT by key: sending again updates, never duplicates); test results read from where the last read left off and
reported as `adams.test_result` events with the minimum a federation acts on (sample, athlete id, outcome).

Special-category health data: payloads are never logged (the outbox keeps them until delivered; errors name the
record and the status only), every ADAMS read and write is in the tenant's audit trail (adapters/adams.py)."""

from __future__ import annotations

from typing import Any

from adapters import capabilities as can
from integrations.events import cloud_event
from integrations.sync.delivery import deliver
from integrations.sync.outbox import Outbox
from integrations.sync.progress import Progress


def sync_whereabouts(adapter: can.WhereaboutsFilings, outbox: Outbox, document: Any, env: Any) -> Progress:
    return deliver(
        "whereabouts",
        outbox,
        document,
        find=lambda payload: None,  # a PUT by athlete and quarter: sending again is an update
        push=adapter.put_whereabouts,
        update=lambda payload, _: adapter.put_whereabouts(payload),
        heartbeat=env.heartbeat,
    )


def submit_tues(adapter: can.TueSubmissions, outbox: Outbox, document: Any, env: Any) -> Progress:
    return deliver(
        "tue",
        outbox,
        document,
        find=lambda payload: None,  # a PUT by key
        push=adapter.put_tue,
        update=lambda payload, _: adapter.put_tue(payload),
        heartbeat=env.heartbeat,
    )


RESULT_FIELDS = ("sample_id", "athlete_id", "collected_on", "outcome", "recorded_at")


def pull_test_results(adapter: can.TestResults, outbox: Outbox, document: Any, env: Any) -> Progress:
    assert env.state is not None and env.emit is not None
    progress = Progress()
    tenant, integration = document.tenant_id, document.id
    for page in adapter.changed_results(env.state.cursor(tenant, integration, "test_results")):
        env.heartbeat()
        fresh = []
        for result in page:
            seen = f"{result['sample_id']}|{result.get('outcome')}"
            if env.state.seen(tenant, integration, "test_result", seen):
                progress.skipped += 1
                continue
            data = {k: result.get(k) for k in RESULT_FIELDS}  # nothing beyond what a federation acts on
            env.emit(
                cloud_event(
                    "adams.test_result",
                    id=f"{integration}:test_result:{seen}",
                    tenant_id=tenant,
                    integration_id=integration,
                    subject=f"adams:{result['sample_id']}",
                    data=data,
                )
            )
            fresh.append(seen)
        env.state.mark_seen(tenant, integration, "test_result", fresh)
        progress.pulled += len(fresh)
    if env.started_at is not None:
        resume = adapter.result_cursor(env.started_at)
        env.state.set_cursor(tenant, integration, "test_results", resume, signpost=env.started_at)
    return progress
