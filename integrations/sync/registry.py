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
from integrations.documents.document import GovSportsRegistryIntegration, IntegrationDocument
from integrations.events import cloud_event
from integrations.sync.delivery import by_key
from integrations.sync.news import report_news
from integrations.sync.operation import SyncEnv
from integrations.sync.outbox import Outbox
from integrations.sync.progress import Progress
from integrations.sync.schedules import Schedules

OPERATION = "report_memberships"


_put_reports = by_key("membership_report", lambda adapter, payload: adapter.put_membership_report(payload))


def report_memberships(
    adapter: can.MembershipReports, outbox: Outbox, document: IntegrationDocument, env: SyncEnv
) -> Progress:
    progress = _put_reports(adapter, outbox, document, env)  # a PUT by period: sending again is a revision
    if not (progress.created or progress.updated or progress.failed):
        progress.reason = "no membership report pending: the platform hands one in with POST …/outbox/membership-reports"
    return progress


def follow_reporting_schedule(schedules: Schedules, document: IntegrationDocument) -> None:
    """Make the report_memberships schedule match the document (called after each write of it)."""
    if not isinstance(document, GovSportsRegistryIntegration):
        return
    config = document.config
    cron = config.reporting_schedule
    wanted = document.status == LifecycleStatus.active and document.capabilities.membership_reporting and cron
    current = schedules.get(document.ref, OPERATION)
    if not cron or not wanted:
        if current is not None:
            schedules.cancel(document.ref, OPERATION)
        return
    if current is None or (current.cron, current.time_zone) != (cron, config.reporting_time_zone):
        schedules.put(document.ref, OPERATION, cron=cron, time_zone=config.reporting_time_zone)


submit_grant_applications = by_key("grant_application", lambda adapter, p: adapter.put_filing("grant_application", p))
register_facilities = by_key("facility", lambda adapter, p: adapter.put_filing("facility", p))
report_events = by_key("event_report", lambda adapter, p: adapter.put_filing("event_report", p))


def track_compliance(
    adapter: can.ComplianceObligations, outbox: Outbox, document: IntegrationDocument, env: SyncEnv
) -> Progress:
    """New or changed obligations (a deadline, its status) as events the platform's compliance screen follows."""

    def event(item: dict[str, Any], seen: str) -> dict[str, Any]:
        return cloud_event(
            "registry.compliance_obligation",
            id=f"{document.id}:obligation:{seen}",
            ref=document.ref,
            subject=f"obligations/{item['obligation_id']}",
            data={k: item.get(k) for k in ("obligation_id", "title", "due_on", "status")},
        )

    return report_news(
        adapter.changed_obligations,
        adapter.obligation_cursor,
        env=env,
        document=document,
        cursor="obligations",
        kind="obligation",
        seen_key=lambda item: f"{item['obligation_id']}|{item.get('status')}|{item.get('due_on')}",
        event=event,
    )
