"""The local runner honours host.json's queue contract: failures come back, then land in `<queue>-poison`."""

from __future__ import annotations

import json

import function_app
from integrations.wiring import Hub
from tools.runner import LocalRunner, QueueSettings


def test_failing_message_goes_to_poison_after_max_dequeue(hub: Hub) -> None:
    settings = QueueSettings(batch_size=4, visibility_timeout_s=0, max_dequeue_count=3, max_polling_interval_s=0.1)
    runner = LocalRunner(function_app.app, queue_settings=settings)
    worker = runner.queues["queue_sync_jobs"]
    hub.queues.send(
        hub.settings.queue_sync_jobs,
        {
            "tenant_id": "fed",
            "integration_id": "int_" + "0" * 24,
            "run_id": "0000000000000-00000000",
            "operation": "push_invoices",
        },
    )
    worker.drain(timeout=30)
    poisoned = [json.loads(m.content) for m in worker.poison.peek_messages(max_messages=5)]
    assert len(poisoned) == 1 and poisoned[0]["run_id"] == "0000000000000-00000000"
    assert worker.queue.get_queue_properties().approximate_message_count == 0


def test_host_json_settings_are_what_the_runner_reads() -> None:
    settings = QueueSettings.from_host_json()
    assert (settings.batch_size, settings.visibility_timeout_s, settings.max_dequeue_count) == (8, 30.0, 5)


def test_timer_schedule_is_ncrontab_every_minute(hub: Hub) -> None:
    from datetime import UTC, datetime

    timer = LocalRunner(function_app.app).timers["timer_due_syncs"]
    assert timer.next_after(datetime(2026, 11, 25, 2, 0, 30, tzinfo=UTC)) == datetime(2026, 11, 25, 2, 1, tzinfo=UTC)
