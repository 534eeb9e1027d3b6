"""The minute timer's work: enqueue due syncs, disable credential versions whose overlap ended, send quota
alerts. It composes several use cases, so like `triggers.py` (its only caller) it is handed the Hub; the sync
engine it starts gets only its RunContext."""

from __future__ import annotations

import logging
from typing import Any

from integrations.sync.jobs import trigger_sync
from integrations.table_names import TableName
from shared.errors import HubError

log = logging.getLogger("hub.scheduler")


def enqueue_due_syncs(*, hub: Any) -> int:
    count = 0
    for schedule in hub.schedules.take_due():
        try:
            trigger_sync(hub.run_context, schedule.ref, schedule.operation, trigger="schedule")
            count += 1
        except HubError as exc:  # paused, decommissioned or deleted: the schedule waits for its next slot
            log.info("scheduled %s of %s not run: %s", schedule.operation, schedule.integration_id, exc.detail)
    hub.credentials.sweep_overlaps()
    hub.credentials.flush_cached_reads()
    check_quota_alerts(hub=hub)
    return count


def check_quota_alerts(*, hub: Any) -> int:
    """Every minute: tenants whose API usage crossed their threshold get one alert per period."""
    from integrations.usage.quota import alerts_due

    hub.api_usage.flush()
    sent = 0
    tenants = {
        e["PartitionKey"] for e in hub.tables.table(TableName.apiusage).query("RowKey ge @lo", parameters={"lo": "client:"})
    }  # one scan a minute over counter rows; fine at our scale
    for tenant in sorted(tenants):
        for event in alerts_due(
            hub.tenant_quota(tenant), alerts=hub.tables.table(TableName.quotaalerts), today=hub.now().date()
        ):
            hub.quota_alerts.deliver(tenant, event)
            sent += 1
    return sent
