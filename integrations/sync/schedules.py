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

from shared.errors import FieldError, NotFound, PreconditionFailed, ValidationFailed
from shared.tables import Table

_FMT = "%Y%m%dT%H%M%S"


@dataclass(frozen=True)
class Schedule:
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


class Schedules:
    def __init__(self, definitions: Table, due: Table, *, now: Callable[[], datetime]) -> None:
        self._defs = definitions
        self._due = due
        self._now = now

    @staticmethod
    def _row(tenant_id: str, integration_id: str, operation: str) -> tuple[str, str]:
        return tenant_id, f"{integration_id}|{operation}"

    def put(self, tenant_id: str, integration_id: str, operation: str, *, cron: str, time_zone: str) -> Schedule:
        check(cron, time_zone)
        self.cancel(tenant_id, integration_id, operation, missing_ok=True)
        at = next_run(cron, time_zone, self._now())
        pk, rk = self._row(tenant_id, integration_id, operation)
        self._defs.upsert({"PartitionKey": pk, "RowKey": rk, "Cron": cron, "TimeZone": time_zone, "NextRunAt": at})
        self._due.upsert({"PartitionKey": "due", "RowKey": f"{at.strftime(_FMT)}|{tenant_id}|{integration_id}|{operation}"})
        return Schedule(tenant_id, integration_id, operation, cron, time_zone, at)

    def get(self, tenant_id: str, integration_id: str, operation: str) -> Schedule | None:
        found = self._defs.find(*self._row(tenant_id, integration_id, operation))
        if not found:
            return None
        e = found[0]
        return Schedule(tenant_id, integration_id, operation, e["Cron"], e["TimeZone"], e["NextRunAt"])

    def for_integration(self, tenant_id: str, integration_id: str) -> list[Schedule]:
        rows = self._defs.query(
            "PartitionKey eq @t and RowKey ge @lo and RowKey lt @hi",
            parameters={"t": tenant_id, "lo": f"{integration_id}|", "hi": f"{integration_id}|~"},
        )
        return [
            Schedule(tenant_id, integration_id, e["RowKey"].split("|", 1)[1], e["Cron"], e["TimeZone"], e["NextRunAt"])
            for e in rows
        ]

    def cancel(self, tenant_id: str, integration_id: str, operation: str, *, missing_ok: bool = False) -> None:
        current = self.get(tenant_id, integration_id, operation)
        if current is None:
            if missing_ok:
                return
            raise NotFound("No such schedule.")
        for key in (f"{current.next_run_at.strftime(_FMT)}|{tenant_id}|{integration_id}|{operation}",):
            try:
                self._due.delete("due", key)
            except NotFound:
                pass
        self._defs.delete(*self._row(tenant_id, integration_id, operation))

    def take_due(self) -> list[Schedule]:
        """Claim every due schedule (ETag-conditional delete) and re-arm it from now."""
        now = self._now()
        claimed = []
        for e, etag in list(
            self._due.query_versioned(
                "PartitionKey eq 'due' and RowKey le @now", parameters={"now": now.strftime(_FMT) + "|~"}
            )
        ):
            _, tenant, integration, operation = e["RowKey"].split("|")
            try:
                self._due.delete("due", e["RowKey"], etag=etag)  # the claim: exactly one instance's timer wins
            except (NotFound, PreconditionFailed):
                continue  # another timer took it
            schedule = self.get(tenant, integration, operation)
            if schedule is None:
                continue  # cancelled meanwhile
            at = next_run(schedule.cron, schedule.time_zone, now)
            pk, rk = self._row(tenant, integration, operation)
            self._defs.upsert(
                {"PartitionKey": pk, "RowKey": rk, "Cron": schedule.cron, "TimeZone": schedule.time_zone, "NextRunAt": at}
            )
            self._due.upsert({"PartitionKey": "due", "RowKey": f"{at.strftime(_FMT)}|{tenant}|{integration}|{operation}"})
            claimed.append(schedule)
        return claimed
