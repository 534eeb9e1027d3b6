"""Each provider's receiver over loopback HTTP: Xero's intent-to-receive (200 for a correct signature, 401 with
an empty body for a wrong one), Graph's validation handshake, a Google push notification starting the pull it
calls for, Mollie's unsigned pointer re-fetching the payment, and the per-integration ingest limit."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import requests

import function_app
from devfakes.launcher import Fakes
from integrations.wiring import Hub, build_hub, set_hub
from tests.helpers import FAST_QUEUES, ApiClient, fortnox
from tests.setups import CASES, active_gateway, calendar_doc, connect
from tools.runner import LocalRunner


def drain(queue: str = "queue_webhook_deliveries") -> None:
    LocalRunner(function_app.app, queue_settings=FAST_QUEUES).queues[queue].drain(timeout=60)


def with_secret(admin: ApiClient, path: str, value: str) -> None:
    r = admin.request("PUT", f"{path}/credentials/webhook_secret_ref", json={"value": value})
    assert r.status_code == 200, r.text


def test_xero_intent_to_receive(api: str, admin: ApiClient, hub: Hub) -> None:
    doc = admin.create({**fortnox(admin.tenant, credentials={}), "provider": "xero", "oauth_client_id": "xero-app"})
    path = f"{admin.integrations}/{doc['id']}"
    with_secret(admin, path, "xero-webhook-key")
    body = b'{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"QWERTY"}'
    good = base64.b64encode(hmac.new(b"xero-webhook-key", body, hashlib.sha256).digest()).decode()
    url = f"{api}/api/v1/webhooks/xero/{doc['id']}"
    ok = requests.post(url, data=body, headers={"x-xero-signature": good, "Content-Type": "application/json"}, timeout=30)
    assert ok.status_code == 200 and ok.content == b""
    bad = requests.post(
        url, data=body, headers={"x-xero-signature": good[:-4] + "AAA=", "Content-Type": "application/json"}, timeout=30
    )
    assert bad.status_code == 401 and bad.content == b""  # Xero: 401 with an empty body


def test_graph_validation_handshake_echoes_the_token(api: str, admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    doc = admin.create(calendar_doc("outlook", fakes.calendars["outlook"]))
    r = requests.post(f"{api}/api/v1/webhooks/outlook/{doc['id']}?validationToken=Validation%3A%20Testing", timeout=30)
    assert r.status_code == 200 and r.text == "Validation: Testing"
    assert r.headers["Content-Type"].startswith("text/plain")
    forged = json.dumps({"value": [{"clientState": "guess", "resource": "me/events/1", "changeType": "updated"}]})
    r = requests.post(
        f"{api}/api/v1/webhooks/outlook/{doc['id']}", data=forged, headers={"Content-Type": "application/json"}, timeout=30
    )
    assert r.status_code == 401


def test_a_google_push_notification_starts_one_pull(api: str, admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    path = connect(admin, fakes, "google_calendar")
    integration = path.rsplit("/", 1)[1]
    with_secret(admin, path, "channel-token-1")
    url = f"{api}/api/v1/webhooks/google_calendar/{integration}"
    headers = {"X-Goog-Channel-ID": "ch-1", "X-Goog-Channel-Token": "channel-token-1", "X-Goog-Resource-ID": "r-1"}
    created = requests.post(
        url, headers={**headers, "X-Goog-Resource-State": "sync", "X-Goog-Message-Number": "1"}, timeout=30
    )
    assert created.status_code == 200  # the channel's first message: nothing changed yet
    for n in ("2", "3", "3"):  # two changes, one delivered twice
        r = requests.post(
            url, headers={**headers, "X-Goog-Resource-State": "exists", "X-Goog-Message-Number": n}, timeout=30
        )
        assert r.status_code == 200
    forged = requests.post(
        url, headers={**headers, "X-Goog-Channel-Token": "guess", "X-Goog-Resource-State": "exists"}, timeout=30
    )
    assert forged.status_code == 401
    drain()
    runs = admin.get(f"{path}/syncs").json()["items"]
    assert [(r["operation"], r["trigger"]) for r in runs] == [("pull_events", "webhook")]  # coalesced into one
    deliveries = admin.get(f"{path}/webhook-deliveries").json()["items"]
    # (activation's own channel announced itself with a `sync` message too: these are this test's channel's)
    deliveries = [d for d in deliveries if d["headers"].get("x-goog-channel-id") == "ch-1"]
    assert sorted(d["status"] for d in deliveries) == ["processed"] * 3
    assert all("x-goog-channel-token" not in d["headers"] for d in deliveries)  # the channel's secret is not stored


def test_mollie_callbacks_are_pointers_the_hub_re_fetches(api: str, admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    path = active_gateway(admin, fakes, "ideal")
    body = {
        "key": "PAY-M",
        "amount_minor": 1500,
        "currency": "EUR",
        "description": "Licens",
        "return_url": "https://fed.example/back",
    }
    payment = admin.post(f"{path}/payments", json=body).json()
    integration = path.rsplit("/", 1)[1]
    url = f"{api}/api/v1/webhooks/ideal/{integration}"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    # Unsigned, so a lie is harmless: "it was paid" is only a reason to ask Mollie, who says it is still open.
    assert requests.post(url, data=f"id={payment['provider_payment_id']}", headers=form, timeout=30).status_code == 200
    drain()
    assert admin.get(f"{path}/payments/PAY-M").json()["status"] == "pending"
    CASES["ideal"].pay(fakes, payment["provider_payment_id"])
    assert requests.post(url, data=f"id={payment['provider_payment_id']}", headers=form, timeout=30).status_code == 200
    drain()
    assert admin.get(f"{path}/payments/PAY-M").json()["status"] == "succeeded"
    assert requests.post(url, data="id=not-a-payment", headers=form, timeout=30).status_code == 200
    drain()  # a body a reader cannot use is retried, then a dead letter (not dropped)
    failed = admin.get(f"{path}/webhook-deliveries", params={"status": "failed"}).json()["items"]
    assert len(failed) == 1 and failed[0]["last_error"].startswith("MalformedDelivery")


def test_deliveries_beyond_the_ingest_limit_are_429(api: str, admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    """Counted per integration before verification (a forger spends the integration's budget, not the hub's):
    past the burst, 429 with Retry-After and the rate-limit headers; the provider retries later."""
    path = active_gateway(admin, fakes, "stripe")
    url = f"{api}/api/v1/webhooks/stripe/{path.rsplit('/', 1)[1]}"
    set_hub(build_hub(hub.settings.model_copy(update={"webhook_ingest_per_s": 0.5, "webhook_ingest_burst": 5})))
    try:
        answers = [requests.post(url, data=b"{}", headers={"Stripe-Signature": "t=1,v1=00"}, timeout=30) for _ in range(12)]
    finally:
        set_hub(hub)
    assert [r.status_code for r in answers[:5]] == [401] * 5
    limited = [r for r in answers if r.status_code == 429]
    assert len(limited) >= 5 and limited[0].headers["Retry-After"] and "ratelimit" in limited[0].headers
    assert limited[0].headers["Content-Type"].startswith("application/problem+json")


def test_twilio_status_callbacks_reach_the_message(api: str, admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    from twilio.request_validator import RequestValidator

    from devfakes.keyed import GOOD

    doc = admin.create(
        {
            "family": "messaging",
            "provider": "twilio",
            "display_name": "SMS",
            "config": {"account_sid": GOOD["twilio_sid"], "default_sender": "+46701740605"},
        }
    )
    path = f"{admin.integrations}/{doc['id']}"
    assert admin.request("PUT", f"{path}/credentials/api_key_ref", json={"value": GOOD["twilio"]}).status_code == 200
    with_secret(admin, path, "twilio-auth-token")  # the account's auth token signs the callbacks
    assert admin.post(f"{path}:validate").json()["result"]["passed"]
    assert admin.post(f"{path}:activate").status_code == 200
    message = {"key": "MSG-1", "to": "+46701234567", "body": "Välkommen!"}
    assert admin.post(f"{path}/messages", json={"messages": [message]}).status_code == 202
    drain("queue_sync_jobs")
    sent = admin.get(f"{path}/messages/MSG-1").json()
    assert sent["state"] == "synced" and sent["delivery_status"] is None and sent["provider_message_id"]
    public = f"https://hub.test/api/v1/webhooks/twilio/{doc['id']}"  # the URL Twilio was given, and signs
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    def callback(status: str, token: str = "twilio-auth-token") -> int:
        params = {"MessageSid": sent["provider_message_id"], "MessageStatus": status, "AccountSid": GOOD["twilio_sid"]}
        signature = RequestValidator(token).compute_signature(public, params)
        body = "&".join(f"{k}={v}" for k, v in params.items())
        url = f"{api}/api/v1/webhooks/twilio/{doc['id']}"
        return requests.post(url, data=body, headers={**form, "X-Twilio-Signature": signature}, timeout=30).status_code

    assert callback("delivered", token="not-the-token") == 401
    assert callback("delivered") == 200
    drain()
    assert callback("sent") == 200  # out of order: arrives after "delivered"
    drain()
    assert admin.get(f"{path}/messages/MSG-1").json()["delivery_status"] == "delivered"
    events = hub.queues.peek_all(hub.settings.queue_integration_events)
    assert "dev.integration-hub.message.delivered" in [e["type"] for e in events]
    assert admin.get(f"{path}/messages/NOPE").status_code == 404


def test_paypal_deliveries_are_verified_by_paypal(api: str, admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    path = active_gateway(admin, fakes, "paypal")
    with_secret(admin, path, "WH-4KH30237RB3361024")  # the id of the webhook registered at PayPal
    body = {
        "key": "PAY-P",
        "amount_minor": 2500,
        "currency": "EUR",
        "description": "Licens",
        "return_url": "https://fed.example/back",
    }
    payment = admin.post(f"{path}/payments", json=body).json()
    CASES["paypal"].pay(fakes, payment["provider_payment_id"])
    event = {
        "id": "WH-EVT-1",
        "event_type": "CHECKOUT.ORDER.APPROVED",
        "resource": {"id": payment["provider_payment_id"], "status": "APPROVED"},
    }
    url = f"{api}/api/v1/webhooks/paypal/{path.rsplit('/', 1)[1]}"
    data = json.dumps(event)
    json_type = {"Content-Type": "application/json"}
    forged = fakes.keyed.paypal_sign(event, "WH-SOMEONE-ELSES")
    assert requests.post(url, data=data, headers={**forged, **json_type}, timeout=30).status_code == 401
    headers = fakes.keyed.paypal_sign(event, "WH-4KH30237RB3361024")
    tampered = json.dumps({**event, "resource": {**event["resource"], "status": "COMPLETED"}})
    assert requests.post(url, data=tampered, headers={**headers, **json_type}, timeout=30).status_code == 401
    assert requests.post(url, data=data, headers={**headers, **json_type}, timeout=30).status_code == 200
    drain()
    assert admin.get(f"{path}/payments/PAY-P").json()["status"] == "succeeded"
