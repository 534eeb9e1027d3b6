"""WADA/ADAMS: athletes' whereabouts filings and TUE applications handed in by the platform, delivered once each
(PUT by key: sending again updates, never duplicates); test results read from where the last read left off and
reported as `adams.test_result` events with the minimum a federation acts on (sample, athlete id, outcome).

Special-category health data: payloads are never logged (the outbox keeps them until delivered; errors name the
record and the status only), every ADAMS read and write is in the tenant's audit trail (adapters/adams.py)."""

from __future__ import annotations

from typing import Any

from adapters import capabilities as can
from integrations.documents.document import IntegrationDocument
from integrations.events import cloud_event
from integrations.sync.delivery import by_key
from integrations.sync.news import report_news
from integrations.sync.operation import SyncEnv
from integrations.sync.outbox import Outbox
from integrations.sync.progress import Progress

# PUT by athlete and quarter (a new version updates the filing), and by the application's key.
# Health data is kept only until ADAMS has it: a delivered filing keeps its key, state and digest, not its content.
sync_whereabouts = by_key("whereabouts", lambda adapter, payload: adapter.put_whereabouts(payload), keep_payload=False)
submit_tues = by_key("tue", lambda adapter, payload: adapter.put_tue(payload), keep_payload=False)


RESULT_FIELDS = ("sample_id", "athlete_id", "collected_on", "outcome", "recorded_at")


def pull_test_results(adapter: can.TestResults, outbox: Outbox, document: IntegrationDocument, env: SyncEnv) -> Progress:
    def event(result: dict[str, Any], seen: str) -> dict[str, Any]:
        return cloud_event(
            "adams.test_result",
            id=f"{document.id}:test_result:{seen}",
            ref=document.ref,
            subject=f"adams:{result['sample_id']}",
            data={k: result.get(k) for k in RESULT_FIELDS},  # nothing beyond what a federation acts on
        )

    return report_news(
        adapter.changed_results,
        adapter.result_cursor,
        env=env,
        document=document,
        cursor="test_results",
        kind="test_result",
        seen_key=lambda result: f"{result['sample_id']}|{result.get('outcome')}",
        event=event,
    )
