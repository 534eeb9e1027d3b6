"""What the sync engine needs, and nothing more: the narrow, typed context a run and a trigger get instead of
the whole Hub. The composition root builds it (`Hub.run_context`); a test or a bench may build its own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.base import Adapter
from adapters.catalog import Catalog
from integrations.repository import IntegrationRepository
from integrations.sync.members import MemberMirror
from integrations.sync.outbox import Outbox
from integrations.sync.runs import SyncRuns
from integrations.sync.state import SyncState
from integrations.usage.counters import UsageCounters
from shared.blobs import Blobs
from shared.leases import Leases
from shared.queues import Queues


@dataclass(frozen=True)
class RunContext:
    integrations: IntegrationRepository
    catalog: Catalog
    runs: SyncRuns
    leases: Leases
    queues: Queues
    outbox: Outbox
    usage: UsageCounters
    exports: Blobs
    member_mirror: MemberMirror
    sync_state: SyncState
    adapter_for: Callable[[Any], Adapter[Any]]  # a stored document → its provider's adapter, counted and limited
    now: Callable[[], datetime]
    lease_s: float  # the integration's sync lease (host.json-independent: a setting)
    jobs_queue: str  # where sync jobs are queued
    publish: Callable[[dict[str, Any]], None]  # an integration event (run results, pulled changes): feed + endpoints
