"""receiveWebhook end to end over loopback HTTP, real Azurite and the registered queue function: a Stripe
delivery signed by the `stripe` library turns a payment `succeeded` without `?refresh=true`; a forged,
unknown, oversized or paused delivery stores nothing; the same delivery three times at once is processed once;
a delivery whose handler keeps failing is a dead letter after five attempts, listed, and replayed once."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import requests
import stripe

import function_app
from devfakes.blackhole import Blackhole
from devfakes.launcher import Fakes
from integrations.wiring import Hub, build_hub, set_hub
from tests.helpers import FAST_QUEUES, ApiClient
from tests.setups import CASES, active_gateway
from tools.runner import LocalRunner

WHSEC = "whsec_test_0123456789abcdef"


def stripe_payment(admin: ApiClient, fakes: Fakes, key: str = "PAY-1") -> tuple[str, str, dict[str, Any]]:
    """An active Stripe integration with a webhook secret, and a payment the payer completed at Stripe."""
    path = active_gateway(admin, fakes, "stripe")
    put = admin.request("PUT", f"{path}/credentials/webhook_secret_ref", json={"value": WHSEC})
    assert put.status_code == 200, put.text
    body = {"key": key, "amount_minor": 45000, "currency": CASES["stripe"].currency, "description": "Licens"}
    payment = admin.post(f"{path}/payments", json=body).json()
    CASES["stripe"].pay(fakes, payment["provider_payment_id"])
    return path, path.rsplit("/", 1)[1], payment


def succeeded_event(fakes: Fakes, payment: dict[str, Any], event_id: str = "evt_1") -> bytes:
    intent = fakes.keyed.stripe_intents[payment["provider_payment_id"]]
    event = {"id": event_id, "object": "event", "type": "payment_intent.succeeded", "data": {"object": intent}}
    return json.dumps(event).encode()


def post_stripe(api: str, integration: str, body: bytes, secret: str = WHSEC, **headers: str) -> requests.Response:
    signature = stripe.WebhookSignature.generate_signature_header(body.decode(), secret)
    return requests.post(
        f"{api}/api/v1/webhooks/stripe/{integration}",
        data=body,
        headers={"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": signature, **headers},
        timeout=30,
    )


def deliveries(admin: ApiClient, path: str, status: str | None = None) -> list[dict[str, Any]]:
    r = admin.get(f"{path}/webhook-deliveries", params={"status": status} if status else {})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def drain() -> None:
    LocalRunner(function_app.app, queue_settings=FAST_QUEUES).queues["queue_webhook_deliveries"].drain(timeout=60)


def test_a_signed_stripe_delivery_turns_the_payment_succeeded(api: str, admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    path, integration, payment = stripe_payment(admin, fakes)
    r = post_stripe(api, integration, succeeded_event(fakes, payment))
    assert r.status_code == 200 and r.content == b"", r.text
    assert "ratelimit" in r.headers  # rate-limit headers on the receiver too
    assert admin.get(f"{path}/payments/PAY-1").json()["status"] == "pending"  # stored, not processed yet
    (queued,) = hub.queues.peek_all(hub.settings.queue_webhook_deliveries)  # the durable copy: the message
    assert queued["delivery"]["status"] == "received" and "stripe-signature" not in queued["delivery"]["headers"]
    assert "Stripe-Signature" not in json.dumps(queued) and "v1=" not in json.dumps(queued)
    drain()
    assert admin.get(f"{path}/payments/PAY-1").json()["status"] == "succeeded"  # no ?refresh=true
    (done,) = deliveries(admin, path)
    assert done["status"] == "processed" and done["outcomes"] == [
        "payment_intent.succeeded: refreshed payment PAY-1 is succeeded"
    ]
    events = hub.queues.peek_all(hub.settings.queue_integration_events)
    assert [e["type"] for e in events if e["type"].endswith("payment.succeeded")] == [
        "dev.integration-hub.payment.succeeded"
    ]


def test_forged_unknown_and_oversized_deliveries_store_nothing(api: str, admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    path, integration, payment = stripe_payment(admin, fakes)
    body = succeeded_event(fakes, payment)
    forged = post_stripe(api, integration, body, secret="whsec_guessed")
    assert forged.status_code == 401 and forged.headers["Content-Type"].startswith("application/problem+json")
    assert "whsec" not in forged.text and "v1=" not in forged.text
    signature = stripe.WebhookSignature.generate_signature_header(body.decode(), WHSEC)
    r = requests.post(  # signed, then one byte changed in flight
        f"{api}/api/v1/webhooks/stripe/{integration}",
        data=body.replace(b"45000", b"45001"),
        headers={"Content-Type": "application/json", "Stripe-Signature": signature},
        timeout=30,
    )
    assert r.status_code == 401
    unsigned = requests.post(f"{api}/api/v1/webhooks/stripe/{integration}", data=body, timeout=30)
    assert unsigned.status_code == 401
    for url in (
        f"{api}/api/v1/webhooks/stripe/int_000000000000000000000000",  # no such integration
        f"{api}/api/v1/webhooks/paypal/{integration}",  # not this integration's provider
        f"{api}/api/v1/webhooks/acme/{integration}",  # no such provider
        f"{api}/api/v1/webhooks/stripe/not-an-id",
    ):
        r = requests.post(url, data=body, headers={"Stripe-Signature": signature}, timeout=30)
        assert r.status_code == 404 and r.json()["detail"] == "No webhook receiver here.", (url, r.text)
    big = b'{"pad":"' + b"x" * (300 * 1024) + b'"}'
    assert post_stripe(api, integration, big).status_code == 413
    assert deliveries(admin, path) == []


def test_paused_and_decommissioned_integrations_drop_deliveries(api: str, admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    path, integration, payment = stripe_payment(admin, fakes)
    # Receivers reuse a looked-up integration for a few seconds; this one reads it per delivery.
    set_hub(build_hub(hub.settings.model_copy(update={"webhook_lookup_cache_s": 0.0})))
    assert admin.post(f"{path}:pause").status_code == 200
    r = post_stripe(api, integration, succeeded_event(fakes, payment))
    assert r.status_code == 200  # accepted and dropped: Stripe keeps the endpoint enabled through the pause
    assert deliveries(admin, path) == []
    assert admin.delete(path).status_code == 200
    assert post_stripe(api, integration, succeeded_event(fakes, payment, "evt_2")).status_code == 410
    assert deliveries(admin, path) == []
    assert admin.get(f"{path}/payments/PAY-1").json()["status"] == "pending"
    set_hub(hub)


def test_the_same_delivery_three_times_at_once_is_processed_once(api: str, admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    path, integration, payment = stripe_payment(admin, fakes)
    body = succeeded_event(fakes, payment)
    signature = stripe.WebhookSignature.generate_signature_header(body.decode(), WHSEC)
    answers: list[int] = []

    def send() -> None:
        r = requests.post(
            f"{api}/api/v1/webhooks/stripe/{integration}",
            data=body,
            headers={"Content-Type": "application/json", "Stripe-Signature": signature},
            timeout=30,
        )
        answers.append(r.status_code)

    threads = [threading.Thread(target=send) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [200, 200, 200]
    before = fakes.keyed.calls.get("stripe", 0)
    drain()
    (done,) = deliveries(admin, path)
    assert done["status"] == "processed" and done["attempts"] == 1, done
    assert fakes.keyed.calls.get("stripe", 0) - before == 1  # one re-fetch of the payment, not three
    # Stripe retrying the same event later (a new signature, a new timestamp): a duplicate, nothing re-done
    assert post_stripe(api, integration, body).status_code == 200
    drain()
    assert fakes.keyed.calls.get("stripe", 0) - before == 1


def test_a_failing_delivery_is_a_dead_letter_then_replayed_once(api: str, admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    path, integration, payment = stripe_payment(admin, fakes)
    body = succeeded_event(fakes, payment)
    intent = fakes.keyed.stripe_intents.pop(payment["provider_payment_id"])  # Stripe answers 404 on the re-fetch
    assert post_stripe(api, integration, body).status_code == 200
    drain()
    (dead,) = deliveries(admin, path, "failed")
    assert dead["attempts"] == 5 and dead["last_error"].startswith("ProviderError"), dead
    assert admin.get(f"{path}/payments/PAY-1").json()["status"] == "pending"

    fakes.keyed.stripe_intents[intent["id"]] = intent  # the fix
    replay = admin.post(f"{path}/webhook-deliveries/{dead['id']}:replay")
    assert replay.status_code == 202 and replay.json()["status"] == "received", replay.text
    again = admin.post(f"{path}/webhook-deliveries/{dead['id']}:replay")
    assert again.status_code == 409  # once
    drain()
    assert admin.get(f"{path}/payments/PAY-1").json()["status"] == "succeeded"
    (done,) = deliveries(admin, path)
    assert done["status"] == "processed" and done["replayed_at"] is not None
    assert admin.post(f"{path}/webhook-deliveries/whd_{'0' * 32}:replay").status_code == 404


def test_storage_down_during_receipt_is_a_503_and_the_retry_is_processed_once(
    api: str, admin: ApiClient, fakes: Fakes, hub: Hub, storage_connection: str
) -> None:
    """Storage stopped (connections refused, as when Azurite is down) → 503, the provider retries, and nothing
    is stored: neither with the tables down (the integration cannot be looked up) nor with only the queue down
    (the message is the delivery's durable copy). The retry after the restart is processed once."""
    path, integration, payment = stripe_payment(admin, fakes)
    body = succeeded_event(fakes, payment)
    ports = {
        kind: int(re.search(rf"{kind}Endpoint=http://127.0.0.1:(\d+)/", storage_connection).group(1))  # type: ignore[union-attr]
        for kind in ("Table", "Queue")
    }
    holes = {kind: Blackhole(port) for kind, port in ports.items()}
    conn = storage_connection
    for kind, port in ports.items():
        conn = conn.replace(f"127.0.0.1:{port}/", f"127.0.0.1:{holes[kind].port}/")
    outage_hub = build_hub(hub.settings.model_copy(update={"storage_connection": conn}))
    set_hub(outage_hub)
    try:
        for kind in ("Table", "Queue"):
            holes[kind].refuse()
            r = post_stripe(api, integration, body)
            assert r.status_code == 503 and r.headers["Content-Type"].startswith("application/problem+json"), r.text
            assert "Retry-After" in r.headers
            holes[kind].resume()
            assert deliveries(admin, path) == []  # nothing half-written
            assert hub.queues.peek_all(hub.settings.queue_webhook_deliveries) == []
        assert post_stripe(api, integration, body).status_code == 200  # the provider's retry, storage back
    finally:
        set_hub(hub)
        for hole in holes.values():
            hole.resume()
            hole.stop()
    before = fakes.keyed.calls.get("stripe", 0)
    drain()
    (done,) = deliveries(admin, path)
    assert done["status"] == "processed" and done["attempts"] == 1
    assert fakes.keyed.calls.get("stripe", 0) - before == 1
    assert admin.get(f"{path}/payments/PAY-1").json()["status"] == "succeeded"
