"""Sync jobs under redelivery, crashes and failure: waiting for a leased integration never spends the
message's attempts, a live run's message stays invisible while it runs (the runner renews it, as the host
does), and a job that fails every attempt is kept with each attempt's error and can be replayed once."""

from __future__ import annotations

import threading
import time

import azure.functions as func

import function_app
from devfakes.launcher import Fakes
from integrations.wiring import Hub
from tests.helpers import ApiClient, active_fortnox
from tools.runner import LocalRunner, QueueSettings, QueueWorker, queue_client

ONE_ATTEMPT = QueueSettings(batch_size=4, visibility_timeout_s=2, max_dequeue_count=1, max_polling_interval_s=0.2)


def test_a_leased_integration_defers_the_job_instead_of_failing_it(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    """A crashed run's lease (its holder died; it lapses in 3 s): the next job waits for it without spending
    attempts — with a single attempt allowed, spending one would poison it."""
    doc_id = active_fortnox(admin, fakes)
    path = f"{admin.integrations}/{doc_id}"
    assert hub.leases.try_acquire(f"sync-{admin.tenant}-{doc_id}", ttl_s=3, owner="crashed-run") is not None
    run = admin.post(f"{path}/syncs", json={"operation": "push_invoices"}).json()
    worker = LocalRunner(function_app.app, queue_settings=ONE_ATTEMPT).queues["queue_sync_jobs"]
    worker.drain(timeout=60)
    final = admin.get(f"{path}/syncs/{run['id']}").json()
    assert final["status"] == "succeeded" and final["attempts"] == 1, final
    assert worker.poison.peek_messages(max_messages=5) == []
    assert admin.get(f"{path}/syncs/dead-letters").json()["items"] == []


def test_a_running_message_is_not_redelivered_while_its_function_runs(hub: Hub) -> None:
    """Visibility 2 s, a function that works 5 s: another consumer polling meanwhile receives nothing."""
    app = func.FunctionApp()
    calls: list[str] = []

    @app.function_name("slow")
    @app.queue_trigger(arg_name="message", queue_name=hub.settings.queue_alert_webhooks, connection="AzureWebJobsStorage")
    def slow(message: func.QueueMessage) -> None:
        calls.append(message.id)
        time.sleep(5)

    settings = QueueSettings(batch_size=1, visibility_timeout_s=2, max_dequeue_count=5, max_polling_interval_s=0.2)
    worker = QueueWorker(app.get_functions()[0], settings)
    worker.queue.send_message(b"{}")
    handler = threading.Thread(target=worker.poll_once)
    handler.start()
    other = queue_client(hub.settings.storage_connection or "", hub.settings.queue_alert_webhooks)
    stolen = []
    while handler.is_alive():
        stolen += list(other.receive_messages(visibility_timeout=1, max_messages=1))
        time.sleep(0.2)
    handler.join()
    assert calls and stolen == []
    assert worker.queue.get_queue_properties().approximate_message_count == 0  # done: deleted with the new receipt


def test_a_job_failing_every_attempt_is_kept_with_its_errors_and_replayed_once(
    admin: ApiClient, fakes: Fakes, hub: Hub
) -> None:
    doc_id = active_fortnox(admin, fakes)
    path = f"{admin.integrations}/{doc_id}"
    hub.outbound._sleep = lambda s: None  # the client's own backoff is not what this test waits for
    fakes.fortnox.fail_next(10_000, 503)  # Fortnox is down for longer than the queue's attempts
    run = admin.post(f"{path}/syncs", json={"operation": "push_invoices"}).json()
    settings = QueueSettings(batch_size=4, visibility_timeout_s=0, max_dequeue_count=5, max_polling_interval_s=0.1)
    worker = LocalRunner(function_app.app, queue_settings=settings).queues["queue_sync_jobs"]
    worker.drain(timeout=120)
    assert len(worker.poison.peek_messages(max_messages=5)) == 1
    letters = admin.get(f"{path}/syncs/dead-letters", params={"status": "dead"}).json()["items"]
    assert len(letters) == 1, letters
    letter = letters[0]
    assert letter["message"]["run_id"] == run["id"] and [a["dequeue_count"] for a in letter["attempts"]] == [1, 2, 3, 4, 5]
    assert all(a["error_type"] == "ProviderError" and "503" in a["error"] for a in letter["attempts"]), letter
    assert admin.get(f"{path}/syncs/{run['id']}").json()["status"] == "failed"

    fakes.fortnox.injected.clear()  # Fortnox is back
    assert admin.post(f"{path}:pause").status_code == 200
    refused = admin.post(f"{path}/syncs/dead-letters/{letter['id']}:replay")
    assert refused.status_code == 409 and refused.json()["reason"] == "not_active", refused.text
    assert [x["status"] for x in admin.get(f"{path}/syncs/dead-letters").json()["items"]] == ["dead"]  # kept
    assert admin.post(f"{path}:resume").status_code == 200
    replayed = admin.post(f"{path}/syncs/dead-letters/{letter['id']}:replay")
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["status"] == "replayed" and replayed.json()["replayed_as"] != run["id"]
    again = admin.post(f"{path}/syncs/dead-letters/{letter['id']}:replay")
    assert again.status_code == 409 and again.json()["reason"] == "not_dead"
    worker.drain(timeout=60)
    new_run = admin.get(f"{path}/syncs/{replayed.json()['replayed_as']}").json()
    assert new_run["status"] == "succeeded" and new_run["trigger"] == "replay" and len(fakes.fortnox.invoices) == 142
    assert admin.post(f"{path}/syncs/dead-letters/nope:replay").status_code == 404
