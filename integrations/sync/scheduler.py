"""The minute timer's work: enqueue due syncs, and disable credential versions whose overlap ended."""

from __future__ import annotations

import logging
from typing import Any

from integrations.sync.jobs import trigger_sync
from shared.errors import HubError

log = logging.getLogger("hub.scheduler")


def enqueue_due_syncs(*, hub: Any) -> int:
    count = 0
    for schedule in hub.schedules.take_due():
        try:
            trigger_sync(hub, schedule.tenant_id, schedule.integration_id, schedule.operation, trigger="schedule")
            count += 1
        except HubError as exc:  # paused, decommissioned or deleted: the schedule waits for its next slot
            log.info("scheduled %s of %s not run: %s", schedule.operation, schedule.integration_id, exc.detail)
    hub.credentials.sweep_overlaps()
    return count
