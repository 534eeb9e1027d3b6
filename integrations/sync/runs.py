"""Sync runs: one row per run, newest first per integration; the job updates it as it goes."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from integrations.documents.ref import IntegrationRef, OfIntegration
from integrations.events import cloud_event as event_of
from shared.rows import ClockedStore, Row

_MAX_MS = 10**13


class RunStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    partial = "partial"  # some records failed; they are retried next run
    failed = "failed"
    skipped = "skipped"


TERMINAL = frozenset({RunStatus.succeeded, RunStatus.partial, RunStatus.failed, RunStatus.skipped})


class SyncRun(BaseModel, OfIntegration):
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


class RunRow(Row):
    body: str = Field(alias="Body")

    @classmethod
    def of(cls, run: SyncRun) -> RunRow:
        return cls(partition=run.ref.partition, row=run.id, body=run.model_dump_json())

    def run(self) -> SyncRun:
        return SyncRun.model_validate_json(self.body)


class SyncRuns(ClockedStore[RunRow]):
    row_type = RunRow

    def create(self, ref: IntegrationRef, operation: str, *, trigger: str) -> SyncRun:
        at = self._now()
        run_id = f"{_MAX_MS - int(at.timestamp() * 1000):013d}-{secrets.token_hex(4)}"
        run = SyncRun(
            id=run_id,
            tenant_id=ref.tenant_id,
            integration_id=ref.integration_id,
            operation=operation,
            trigger=trigger,
            status=RunStatus.queued,
            queued_at=at,
        )
        self._rows.insert(RunRow.of(run))
        return run

    def get(self, ref: IntegrationRef, run_id: str) -> SyncRun:
        row, _ = self._rows.get(ref.partition, run_id)
        return row.run()

    def save(self, run: SyncRun) -> None:
        # A run has one writer at a time (the job holding the integration's sync lease).
        self._rows.upsert(RunRow.of(run))

    def latest(self, ref: IntegrationRef, *, limit: int) -> list[SyncRun]:
        rows, _ = self._rows.page("PartitionKey eq @pk", parameters={"pk": ref.partition}, size=limit)
        return [row.run() for row in rows]


def cloud_event(run: SyncRun) -> dict[str, Any]:
    """The run's result as a CloudEvents 1.0 JSON event for downstream consumers."""
    return event_of(
        f"sync.{run.status.value}",
        id=run.id,
        ref=run.ref,
        subject=run.operation,
        time=(run.finished_at or run.queued_at).isoformat(),
        data=json.loads(run.model_dump_json()),
    )
