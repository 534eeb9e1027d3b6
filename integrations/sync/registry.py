"""Government sports registry: membership reporting on the registry's reporting schedule; grant applications,
facility registrations and event reports delivered once each (PUT by key: sending again amends); compliance
obligations read from where the last read left off, reported as `registry.compliance_obligation` events.

The platform hands in each period's membership report (outbox kind `membership_report`, keyed by period,
updatable: a correction replaces it); `report_memberships` PUTs every pending report to the registry, where a
second PUT of the same period is a revision, never a second report. The operation's schedule is the
document's `config.reporting_schedule`: it follows every write of the document (set while the integration
is active with membership reporting on, removed otherwise), so there is one place to change it."""

from __future__ import annotations

from typing import Any

from adapters import capabilities as can
from integrations.documents.common import LifecycleStatus
from integrations.events import cloud_event
from integrations.sync.delivery import deliver
from integrations.sync.outbox import Outbox
from integrations.sync.progress import Progress

OPERATION = "report_memberships"


def report_memberships(adapter: can.MembershipReports, outbox: Outbox, document: Any, env: Any) -> Progress:
    progress = deliver(
        "membership_report",
        outbox,
        document,
        find=lambda payload: None,  # a PUT by period: sending again is safe
        push=adapter.put_membership_report,
        update=lambda payload, _: adapter.put_membership_report(payload),
        heartbeat=env.heartbeat,
    )
    if not (progress.created or progress.updated or progress.failed):
        progress.reason = "no membership report pending: the platform hands one in with POST …/outbox/membership-reports"
    return progress


def follow_reporting_schedule(schedules: Any, document: Any) -> None:
    """Make the report_memberships schedule match the document (called after each write of it)."""
    if document.family != "gov_sports_registry":
        return
    config = document.config
    wanted = (
        document.status == LifecycleStatus.active
        and document.capabilities.membership_reporting
        and config.reporting_schedule
    )
    current = schedules.get(document.tenant_id, document.id, OPERATION)
    if not wanted:
        if current is not None:
            schedules.cancel(document.tenant_id, document.id, OPERATION)
        return
    if current is None or (current.cron, current.time_zone) != (config.reporting_schedule, config.reporting_time_zone):
        schedules.put(
            document.tenant_id, document.id, OPERATION, cron=config.reporting_schedule, time_zone=config.reporting_time_zone
        )


def _filings(kind: str) -> Any:
    def run(adapter: can.RegistryFilings, outbox: Outbox, document: Any, env: Any) -> Progress:
        return deliver(
            kind,
            outbox,
            document,
            find=lambda payload: None,  # a PUT by key: sending again amends
            push=lambda payload: adapter.put_filing(kind, payload),
            update=lambda payload, _: adapter.put_filing(kind, payload),
            heartbeat=env.heartbeat,
        )

    return run


submit_grant_applications = _filings("grant_application")
register_facilities = _filings("facility")
report_events = _filings("event_report")


def track_compliance(adapter: can.ComplianceObligations, outbox: Outbox, document: Any, env: Any) -> Progress:
    """New or changed obligations (a deadline, its status) as events the platform's compliance screen follows."""
    assert env.state is not None and env.emit is not None
    progress = Progress()
    tenant, integration = document.tenant_id, document.id
    for page in adapter.changed_obligations(env.state.cursor(tenant, integration, "obligations")):
        env.heartbeat()
        fresh = []
        for item in page:
            seen = f"{item['obligation_id']}|{item.get('status')}|{item.get('due_on')}"
            if env.state.seen(tenant, integration, "obligation", seen):
                progress.skipped += 1
                continue
            data = {k: item.get(k) for k in ("obligation_id", "title", "due_on", "status")}
            env.emit(
                cloud_event(
                    "registry.compliance_obligation",
                    id=f"{integration}:obligation:{seen}",
                    tenant_id=tenant,
                    integration_id=integration,
                    subject=f"obligations/{item['obligation_id']}",
                    data=data,
                )
            )
            fresh.append(seen)
        env.state.mark_seen(tenant, integration, "obligation", fresh)
        progress.pulled += len(fresh)
    if env.started_at is not None:
        resume = adapter.obligation_cursor(env.started_at)
        env.state.set_cursor(tenant, integration, "obligations", resume, signpost=env.started_at)
    return progress
