"""Sync schedules: cron (5 fields) or NCRONTAB (6, seconds first) in a time zone, per integration and operation.

Finding due schedules is one range read: each schedule has one row in the `due` index whose RowKey starts
with its next run time in UTC (`20261126T020000|<tenant>|<integration>|<operation>`), so the minute timer
reads `RowKey le <now>` and never scans every document. Taking a due row deletes it with its ETag; only the
taker enqueues, so two timers cannot enqueue the same run. The next run is computed from *now*: after an
outage, a missed schedule runs once, not once per missed slot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import Field

from integrations.documents.ref import IntegrationRef, OfIntegration
from shared.errors import FieldError, NotFound, PreconditionFailed, ValidationFailed
from shared.rows import Row, Rows, in_partition
from shared.tables import Table

_FMT = "%Y%m%dT%H%M%S"


@dataclass(frozen=True)
class Schedule(OfIntegration):
    tenant_id: str
    integration_id: str
    operation: str
    cron: str
    time_zone: str
    next_run_at: datetime


def next_run(cron: str, time_zone: str, after: datetime) -> datetime:
    six = len(cron.split()) == 6
    local = after.astimezone(ZoneInfo(time_zone))
    at: datetime = croniter(cron, local, second_at_beginning=six).get_next(datetime)
    return at.astimezone(UTC)


def check(cron: str, time_zone: str) -> None:
    errors = []
    fields = cron.split()
    if len(fields) not in (5, 6) or not croniter.is_valid(cron, second_at_beginning=len(fields) == 6):
        errors.append(FieldError("/cron", "must be cron (5 fields) or NCRONTAB (6 fields, seconds first)"))
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(FieldError("/time_zone", "must be an IANA time zone such as Europe/Stockholm"))
    if errors:
        raise ValidationFailed("The schedule is invalid.", errors)


class DefinitionRow(Row):
    """A schedule: `PartitionKey = <tenant>`, `RowKey = <integration>|<operation>` (a tenant's schedules are one
    partition; an integration's are one key range of it)."""

    cron: str = Field(alias="Cron")
    time_zone: str = Field(alias="TimeZone")
    next_run_at: datetime = Field(alias="NextRunAt")

    @staticmethod
    def keys(ref: IntegrationRef, operation: str) -> tuple[str, str]:
        return ref.tenant_id, f"{ref.integration_id}|{operation}"

    @classmethod
    def of(cls, ref: IntegrationRef, operation: str, cron: str, time_zone: str, at: datetime) -> DefinitionRow:
        pk, rk = cls.keys(ref, operation)
        return cls(partition=pk, row=rk, cron=cron, time_zone=time_zone, next_run_at=at)

    def schedule(self) -> Schedule:
        integration, operation = self.row.split("|", 1)
        return Schedule(self.partition, integration, operation, self.cron, self.time_zone, self.next_run_at)


class DueRow(Row):
    """A slot waiting to run: all in partition `due`, keyed by time first so `le now` is one range read."""

    @classmethod
    def of(cls, at: datetime, ref: IntegrationRef, operation: str) -> DueRow:
        return cls(partition="due", row=f"{at.strftime(_FMT)}|{ref.tenant_id}|{ref.integration_id}|{operation}")


class Schedules:
    def __init__(self, definitions: Table, due: Table, *, now: Callable[[], datetime]) -> None:
        self._defs = Rows(definitions, DefinitionRow)
        self._due = Rows(due, DueRow)
        self._now = now

    def put(self, ref: IntegrationRef, operation: str, *, cron: str, time_zone: str) -> Schedule:
        check(cron, time_zone)
        self.cancel(ref, operation, missing_ok=True)
        at = next_run(cron, time_zone, self._now())
        self._defs.upsert(DefinitionRow.of(ref, operation, cron, time_zone, at))
        self._due.upsert(DueRow.of(at, ref, operation))
        return Schedule(ref.tenant_id, ref.integration_id, operation, cron, time_zone, at)

    def get(self, ref: IntegrationRef, operation: str) -> Schedule | None:
        found = self._defs.find(*DefinitionRow.keys(ref, operation))
        return found[0].schedule() if found else None

    def for_integration(self, ref: IntegrationRef) -> list[Schedule]:
        flt, params = in_partition(ref.tenant_id, row_prefix=f"{ref.integration_id}|")
        rows = self._defs.query(flt, parameters=params)
        return [row.schedule() for row in rows]

    def cancel(self, ref: IntegrationRef, operation: str, *, missing_ok: bool = False) -> None:
        current = self.get(ref, operation)
        if current is None:
            if missing_ok:
                return
            raise NotFound("No such schedule.")
        try:
            self._due.table.delete("due", DueRow.of(current.next_run_at, ref, operation).row)
        except NotFound:
            pass
        self._defs.table.delete(*DefinitionRow.keys(ref, operation))

    def take_due(self) -> list[Schedule]:
        """Claim every due schedule (ETag-conditional delete) and re-arm it from now."""
        now = self._now()
        claimed = []
        due = self._due.table.query_versioned(
            "PartitionKey eq 'due' and RowKey le @now", parameters={"now": now.strftime(_FMT) + "|~"}
        )
        for e, etag in list(due):
            _, tenant, integration, operation = e["RowKey"].split("|")
            try:
                self._due.table.delete("due", e["RowKey"], etag=etag)  # the claim: exactly one instance's timer wins
            except (NotFound, PreconditionFailed):
                continue  # another timer took it
            ref = IntegrationRef(tenant, integration)
            schedule = self.get(ref, operation)
            if schedule is None:
                continue  # cancelled meanwhile
            at = next_run(schedule.cron, schedule.time_zone, now)
            self._defs.upsert(DefinitionRow.of(ref, operation, schedule.cron, schedule.time_zone, at))
            self._due.upsert(DueRow.of(at, ref, operation))
            claimed.append(schedule)
        return claimed
