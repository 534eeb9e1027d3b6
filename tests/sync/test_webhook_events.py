"""processWebhookEvent: a provider event becomes the read it calls for — once per event id, a burst of
notifications coalescing into the pull already queued, a payment event re-fetching the payment — through the
registered webhook-events queue function; a malformed message ends in the poison queue, not in silence."""

from __future__ import annotations

import function_app
from devfakes.launcher import Fakes
from integrations.wiring import Hub
from tests.helpers import FAST_QUEUES, ApiClient
from tests.setups import CASES, active_gateway, connect
from tools.runner import LocalRunner


def test_calendar_notifications_trigger_one_pull(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    path = connect(admin, fakes, "google_calendar")
    runner = LocalRunner(function_app.app, queue_settings=FAST_QUEUES)
    for n in ("n1", "n2", "n3", "n3"):  # Google says "exists" four times, once twice over
        r = admin.post(f"{path}/webhook-events", json={"id": n, "type": "exists"})
        assert r.status_code == 202, r.text
    runner.queues["queue_webhook_events"].drain(timeout=30)
    runs = admin.get(f"{path}/syncs").json()["items"]
    assert [(r["operation"], r["trigger"], r["status"]) for r in runs] == [("pull_events", "webhook", "queued")]

    fakes.calendars["google_calendar"].user_add("Domarmöte", "2027-03-01T17:00:00Z", "2027-03-01T19:00:00Z")
    runner.queues["queue_sync_jobs"].drain(timeout=60)
    (run,) = admin.get(f"{path}/syncs").json()["items"]
    assert run["status"] == "succeeded" and run["pulled"] == 1, run
    # the same notification delivered again later: already processed, no new run
    admin.post(f"{path}/webhook-events", json={"id": "n1", "type": "exists"})
    runner.queues["queue_webhook_events"].drain(timeout=30)
    assert len(admin.get(f"{path}/syncs").json()["items"]) == 1

    # paused: events are taken (and remembered) but start nothing
    assert admin.post(f"{path}:pause").status_code == 200
    admin.post(f"{path}/webhook-events", json={"id": "n9", "type": "exists"})
    runner.queues["queue_webhook_events"].drain(timeout=30)
    assert len(admin.get(f"{path}/syncs").json()["items"]) == 1


def test_a_payment_event_refreshes_the_payment(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    path = active_gateway(admin, fakes, "stripe")
    body = {"key": "PAY-9", "amount_minor": 45000, "currency": CASES["stripe"].currency, "description": "Licens"}
    payment = admin.post(f"{path}/payments", json=body).json()
    CASES["stripe"].pay(fakes, payment["provider_payment_id"])
    assert admin.get(f"{path}/payments/PAY-9").json()["status"] == "pending"  # stored state, not yet re-fetched
    r = admin.post(
        f"{path}/webhook-events", json={"id": "evt_1", "type": "payment_intent.succeeded", "data": {"payment_key": "PAY-9"}}
    )
    assert r.status_code == 202
    LocalRunner(function_app.app, queue_settings=FAST_QUEUES).queues["queue_webhook_events"].drain(timeout=30)
    assert admin.get(f"{path}/payments/PAY-9").json()["status"] == "succeeded"


def test_malformed_events_end_in_the_poison_queue(admin: ApiClient, hub: Hub) -> None:
    hub.queues.send(hub.settings.queue_webhook_events, {"tenant_id": admin.tenant, "unexpected": True})
    LocalRunner(function_app.app, queue_settings=FAST_QUEUES).queues["queue_webhook_events"].drain(timeout=60)
    poisoned = hub.queues.peek_all(f"{hub.settings.queue_webhook_events}-poison")
    assert poisoned == [{"tenant_id": admin.tenant, "unexpected": True}]
    r = admin.post(f"{admin.integrations}/int_000000000000000000000000/webhook-events", json={"id": "x", "type": "y"})
    assert r.status_code == 404
