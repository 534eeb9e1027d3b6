"""Sync runs: one row per run, newest first per integration; the job updates it as it goes."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from integrations.events import cloud_event as event_of
from integrations.table_names import integration_partition
from shared.tables import Table

_MAX_MS = 10**13


class RunStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    partial = "partial"  # some records failed; they are retried next run
    failed = "failed"
    skipped = "skipped"


TERMINAL = frozenset({RunStatus.succeeded, RunStatus.partial, RunStatus.failed, RunStatus.skipped})


class SyncRun(BaseModel):
    id: str = Field(description="Run id (also the CloudEvent id of its result).")
    tenant_id: str
    integration_id: str
    operation: str = Field(description="e.g. push_invoices")
    trigger: str = Field(description="manual, schedule, webhook or replay (of a dead letter)")
    status: RunStatus
    queued_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    attempts: int = 0
    created: int = Field(0, description="Records created at the provider.")
    updated: int = Field(0, description="Records updated at the provider.")
    skipped: int = Field(0, description="Records with nothing to write (found at the provider, or unchanged).")
    failed: int = Field(0, description="Records the provider refused (retried next run).")
    pulled: int = Field(0, description="Provider changes taken in (pull/bidirectional), emitted as events.")
    provider_calls: int = 0
    duration_ms: float | None = None
    errors: list[dict[str, str]] = Field(default_factory=list, description="Up to 20 record errors (key, message).")
    reason: str = Field("", description="Why the run failed or was skipped, or how it delivered (e.g. CSV fallback).")


class SyncRuns:
    def __init__(self, table: Table, *, now: Callable[[], datetime]) -> None:
        self._table = table
        self._now = now

    def create(self, tenant_id: str, integration_id: str, operation: str, *, trigger: str) -> SyncRun:
        at = self._now()
        run_id = f"{_MAX_MS - int(at.timestamp() * 1000):013d}-{secrets.token_hex(4)}"
        run = SyncRun(
            id=run_id,
            tenant_id=tenant_id,
            integration_id=integration_id,
            operation=operation,
            trigger=trigger,
            status=RunStatus.queued,
            queued_at=at,
        )
        self._table.insert(self._entity(run))
        return run

    def _entity(self, run: SyncRun) -> dict[str, Any]:
        return {
            "PartitionKey": integration_partition(run.tenant_id, run.integration_id),
            "RowKey": run.id,
            "Body": run.model_dump_json(),
        }

    def get(self, tenant_id: str, integration_id: str, run_id: str) -> SyncRun:
        entity, _ = self._table.get(integration_partition(tenant_id, integration_id), run_id)
        return SyncRun.model_validate_json(entity["Body"])

    def save(self, run: SyncRun) -> None:
        # A run has one writer at a time (the job holding the integration's sync lease).
        self._table.upsert(self._entity(run))

    def latest(self, tenant_id: str, integration_id: str, *, limit: int) -> list[SyncRun]:
        page = self._table.page(
            "PartitionKey eq @pk", parameters={"pk": integration_partition(tenant_id, integration_id)}, size=limit
        )
        return [SyncRun.model_validate_json(e["Body"]) for e in page.items]


def cloud_event(run: SyncRun) -> dict[str, Any]:
    """The run's result as a CloudEvents 1.0 JSON event for downstream consumers."""
    return event_of(
        f"sync.{run.status.value}",
        id=run.id,
        tenant_id=run.tenant_id,
        integration_id=run.integration_id,
        subject=run.operation,
        time=(run.finished_at or run.queued_at).isoformat(),
        data=json.loads(run.model_dump_json()),
    )
