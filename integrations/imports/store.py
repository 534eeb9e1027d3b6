"""Import jobs and their error rows. A job's id is derived from what was imported (integration, recipe, the
file's SHA-256, dry run or not), so the same file imported again finds the first job instead of a second
one. Error rows are append-only, one per rejected cell, in the job's own partition."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from canonical.recipes.engine import CellError
from integrations.documents.ref import IntegrationRef, OfIntegration
from shared.errors import NotFound
from shared.rows import Row, Rows
from shared.tables import Table


class ImportStatus(StrEnum):
    running = "running"
    succeeded = "succeeded"  # every row accepted
    partial = "partial"  # some rows rejected: see the error report
    failed = "failed"  # the file as a whole was refused or the import stopped (reason says why)


class ImportJob(BaseModel, OfIntegration):
    id: str = Field(description="Derived from the integration, recipe, file digest and dry_run: a re-import finds it.")
    tenant_id: str
    integration_id: str
    recipe: str
    model: str = Field(description="The canonical model the recipe fills.")
    record_kind: str | None = Field(None, description="The outbox record kind accepted rows became (none on a dry run).")
    dry_run: bool
    file_name: str
    file_sha256: str
    bytes: int
    encoding: str = ""
    status: ImportStatus
    rows: int = Field(0, description="Data rows read so far (progress).")
    accepted: int = 0
    rejected: int = Field(0, description="Rows refused; each cell's reason is in the error report.")
    created: int = Field(0, description="Accepted rows new to the outbox.")
    unchanged: int = Field(0, description="Accepted rows the outbox held already, identical.")
    replaced: int = Field(0, description="Accepted rows that replaced a pending or earlier version.")
    unknown_columns: list[str] = Field(default_factory=list, description="Columns the recipe does not know (ignored).")
    started_at: datetime
    finished_at: datetime | None = None
    reason: str = ""


class ImportError_(BaseModel):
    line: int = Field(description="Line of the file (the header is line 1).")
    column: str
    value: str
    message: str


class ErrorRow(Row, ImportError_):
    """One rejected cell of an import's error report: the report's own fields are the columns."""


_JSON = {"unknown_columns"}


class Imports:
    def __init__(self, jobs: Table, errors: Table, *, now: Callable[[], datetime]) -> None:
        self._jobs = jobs
        self._errors = Rows(errors, ErrorRow)
        self._now = now

    def find(self, ref: IntegrationRef, job_id: str) -> ImportJob | None:
        found = self._jobs.find(ref.partition, job_id)
        return None if found is None else self._job(found[0])

    def get(self, ref: IntegrationRef, job_id: str) -> ImportJob:
        job = self.find(ref, job_id)
        if job is None:
            raise NotFound(f"No import {job_id}.")
        return job

    def recent(self, ref: IntegrationRef, limit: int = 50) -> list[ImportJob]:
        rows = self._jobs.query("PartitionKey eq @pk", parameters={"pk": ref.partition})
        jobs = [self._job(r) for r in rows]
        return sorted(jobs, key=lambda j: j.started_at, reverse=True)[:limit]

    def save(self, job: ImportJob) -> None:
        """Single writer: the import that runs the job (progress, then the result)."""
        entity: dict[str, Any] = {
            "PartitionKey": job.ref.partition,
            "RowKey": job.id,
            **{k: (json.dumps(v) if k in _JSON else v) for k, v in job.model_dump(exclude={"id"}).items() if v is not None},
        }
        self._jobs.upsert(entity)

    def clear_errors(self, job: ImportJob) -> None:
        """A job run again (its first run stopped) starts its error report afresh."""
        pk = self._error_partition(job)
        table = self._errors.table
        rows = [r["RowKey"] for r in table.query("PartitionKey eq @pk", parameters={"pk": pk}, select=["RowKey"])]
        table.delete_many(pk, rows)

    def add_errors(self, job: ImportJob, errors: list[tuple[int, CellError]]) -> None:
        pk = self._error_partition(job)
        rows = []
        per_line: dict[int, int] = {}
        for line, e in errors:  # a row's cells all come in one batch: (line, n) is unique
            per_line[line] = n = per_line.get(line, -1) + 1
            rows.append(
                ErrorRow(
                    partition=pk,
                    row=f"{line:010d}-{n:03d}",
                    line=line,
                    column=e.column,
                    value=e.value[:1000],
                    message=e.message[:1000],
                ).entity()
            )
        self._errors.table.merge_many(rows)

    def errors(self, ref: IntegrationRef, job_id: str) -> Iterator[ImportError_]:
        pk = f"{ref.partition}|{job_id}"
        for row in self._errors.query("PartitionKey eq @pk", parameters={"pk": pk}):
            yield ImportError_(line=row.line, column=row.column, value=row.value, message=row.message)

    @staticmethod
    def _error_partition(job: ImportJob) -> str:
        return f"{job.ref.partition}|{job.id}"

    @staticmethod
    def _job(e: dict[str, Any]) -> ImportJob:
        fields = {k: (json.loads(v) if k in _JSON else v) for k, v in e.items() if k in ImportJob.model_fields}
        return ImportJob(id=e["RowKey"], **fields)
