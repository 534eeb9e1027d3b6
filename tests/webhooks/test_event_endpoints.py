"""Events out to tenants: an endpoint registered through the API receives each event once, signed per Standard
Webhooks and verified here by the `standardwebhooks` library; a failing endpoint gets the documented retry
schedule (time-travel: the sender's clock, not sleeps) and is disabled at the end with an event saying so; a
replay re-sends with the same webhook-id; a rotation signs with both secrets during the overlap."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import standardwebhooks
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import function_app
from devfakes.servers import loopback, serve
from devfakes.swish import SwishFake
from integrations.documents.ref import IntegrationRef
from integrations.events import cloud_event
from integrations.events_out.delivery import ATTEMPTS, MARKER, RETRY_DELAYS_S, DeliveryAttempt, EventSender, message_id
from integrations.wiring import Hub
from shared.http import OutboundClient
from tests.helpers import FAST_QUEUES, ApiClient
from tools.runner import LocalRunner


class Receiver:
    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.status = 204

    async def hook(self, request: Request) -> Response:
        self.received.append((dict(request.headers), await request.body()))
        return Response(status_code=self.status)


@pytest.fixture
def receiver(hub: Hub) -> Any:
    certs = SwishFake.create()  # a test CA and a 127.0.0.1 server certificate
    tls = {k: v for k, v in certs.ssl_options().items() if k in ("ssl_certfile", "ssl_keyfile")}
    box = Receiver()
    with serve(Starlette(routes=[Route("/events", box.hook, methods=["POST"])]), **tls) as base:
        hub.outbound = OutboundClient(egress=loopback(base))  # the operator's exemption for this receiver only
        hub.settings.alert_webhook_ca_bundle = str(certs.ca_pem)
        box.url = f"{base}/events"  # type: ignore[attr-defined]
        yield box


def event(tenant: str, n: int, kind: str = "payment.succeeded") -> dict[str, Any]:
    return cloud_event(
        kind, id=f"evt-{n}", ref=IntegrationRef(tenant, "int_1"), subject=f"payments/P{n}", data={"key": f"P{n}"}
    )


def drain() -> None:
    runner = LocalRunner(function_app.app, queue_settings=FAST_QUEUES)
    runner.queues["queue_event_fanout"].drain(timeout=30)
    runner.queues["queue_event_deliveries"].drain(timeout=30)


def register(admin: ApiClient, receiver: Receiver, **body: Any) -> dict[str, Any]:
    r = admin.post(f"/api/v1/tenants/{admin.tenant}/event-endpoints", json={"url": receiver.url, **body})  # type: ignore[attr-defined]
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_an_endpoint_gets_each_event_once_signed(admin: ApiClient, hub: Hub, receiver: Receiver) -> None:
    created = register(admin, receiver, event_types=["payment.*"])
    secret, endpoint = created["secret"], created["endpoint"]
    listed = admin.get(f"/api/v1/tenants/{admin.tenant}/event-endpoints").json()["items"]
    assert [e["id"] for e in listed] == [endpoint["id"]] and secret not in json.dumps(listed)  # shown once only
    hub.event_sender.publish(event(admin.tenant, 1))
    hub.event_sender.publish(event(admin.tenant, 1))  # emitted twice (at least once upstream): delivered once
    hub.event_sender.publish(event(admin.tenant, 2, "sync.succeeded"))  # not a type it wants
    drain()
    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    payload = standardwebhooks.Webhook(secret).verify(body, headers)  # the library's own check
    assert payload["type"] == "dev.integration-hub.payment.succeeded" and payload["data"] == {"key": "P1"}
    log = admin.get(f"/api/v1/tenants/{admin.tenant}/event-endpoints/{endpoint['id']}/deliveries").json()["items"]
    assert [(d["state"], len(d["attempts"]), d["attempts"][0]["status_code"]) for d in log] == [("succeeded", 1, 204)]
    audit = admin.get(f"/api/v1/tenants/{admin.tenant}/audit", params={"action": "secret.read"}).json()["items"]
    signing = [a for a in audit if "evtep" in a["target"]["name"]]
    assert signing and signing[0]["target"]["operation"] == "events.sign" and secret not in json.dumps(audit)


def test_bad_endpoint_urls_are_field_errors(admin: ApiClient, hub: Hub) -> None:
    for bad in ("http://hooks.example.org/x", "https://127.0.0.1/x", "https://169.254.169.254/latest"):
        r = admin.post(f"/api/v1/tenants/{admin.tenant}/event-endpoints", json={"url": bad})
        assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/url", (bad, r.text)
    r = admin.post(
        f"/api/v1/tenants/{admin.tenant}/event-endpoints", json={"url": "https://x.example", "event_types": ["Bad Type"]}
    )
    assert r.status_code == 422


def test_a_failing_endpoint_gets_the_schedule_then_is_disabled(admin: ApiClient, hub: Hub, receiver: Receiver) -> None:
    created = register(admin, receiver)
    endpoint_id = created["endpoint"]["id"]
    receiver.status = 500
    clock = [datetime(2026, 12, 3, 10, 0, tzinfo=UTC)]
    base = hub.event_sender
    sender = EventSender(**{**base.__dict__, "now": lambda: clock[0]})  # the same collaborators, a clock we move
    assert sender.fan_out({"event": event(admin.tenant, 7)}) == 1  # the fan-out makes the first attempt
    (pending,) = sender.log(admin.tenant, endpoint_id)
    assert pending.next_attempt_at is not None
    waits = [(pending.next_attempt_at - clock[0]).total_seconds()]
    clock[0] = pending.next_attempt_at
    for attempt in range(1, ATTEMPTS):  # the queue's messages, each when it becomes visible
        message = {
            "tenant_id": admin.tenant,
            "endpoint_id": endpoint_id,
            "message_id": pending.message_id,
            "attempt": attempt,
        }
        state = sender.deliver(message)
        (delivery,) = sender.log(admin.tenant, endpoint_id)
        if delivery.next_attempt_at is not None:
            waits.append((delivery.next_attempt_at - clock[0]).total_seconds())
            clock[0] = delivery.next_attempt_at  # time travel to the next attempt
    assert waits == list(RETRY_DELAYS_S) and state == "exhausted"
    assert len(receiver.received) == ATTEMPTS and sum(RETRY_DELAYS_S) / 3600 == pytest.approx(27.6, abs=0.1)
    assert len({h["webhook-id"] for h, _ in receiver.received}) == 1  # one message id across its attempts
    endpoint = admin.get(f"/api/v1/tenants/{admin.tenant}/event-endpoints").json()["items"][0]
    assert endpoint["status"] == "disabled" and endpoint["disabled_reason"]
    feed = [e["type"] for e in hub.queues.peek_all(hub.settings.queue_integration_events)]
    assert "dev.integration-hub.endpoint.disabled" in feed

    assert sender.deliver({**message, "attempt": 3}) == "exhausted" and len(receiver.received) == ATTEMPTS  # stale
    hub.queues.client(hub.settings.queue_event_deliveries).clear_messages()  # the schedule's messages (hours ahead)

    # fixed and re-enabled: the replay sends the same event (same webhook-id) and it is delivered
    receiver.status = 204
    path = f"/api/v1/tenants/{admin.tenant}/event-endpoints/{endpoint_id}"
    assert admin.post(f"{path}:enable").json()["status"] == "enabled"
    r = admin.post(f"{path}/deliveries/{pending.message_id}:replay")
    assert r.status_code == 202 and r.json()["state"] == "pending", r.text
    drain()
    assert pending.message_id in [h["webhook-id"] for h, _ in receiver.received[ATTEMPTS:]]
    log = {d["event_type"]: d for d in admin.get(f"{path}/deliveries").json()["items"]}
    done = log["dev.integration-hub.payment.succeeded"]
    assert done["message_id"] == pending.message_id and done["state"] == "succeeded" and done["replays"] == 1
    # fanned out after the re-enable, the event that it had been disabled reached it too
    assert log["dev.integration-hub.endpoint.disabled"]["state"] == "succeeded"
    # a message left from the first schedule arriving now: ignored (not a ninth attempt)
    assert sender.deliver({**message, "attempt": 1, "replays": 0}) == "succeeded"
    since = (clock[0] - timedelta(days=30)).isoformat()
    assert admin.post(f"{path}:replay", json={"since": since}).json() == {"replayed": 2}


def test_a_rotation_signs_with_both_secrets_during_the_overlap(admin: ApiClient, hub: Hub, receiver: Receiver) -> None:
    created = register(admin, receiver)
    old, endpoint_id = created["secret"], created["endpoint"]["id"]
    path = f"/api/v1/tenants/{admin.tenant}/event-endpoints/{endpoint_id}"
    rotated = admin.post(f"{path}:rotate-secret", json={"overlap_seconds": 3600})
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new != old
    hub.event_sender.publish(event(admin.tenant, 9))
    drain()
    headers, body = receiver.received[-1]
    assert len(headers["webhook-signature"].split()) == 2
    for secret in (old, new):  # a receiver still on the old secret, and one already on the new
        standardwebhooks.Webhook(secret).verify(body, headers)
    assert admin.delete(path).status_code == 204
    assert admin.get(f"/api/v1/tenants/{admin.tenant}/event-endpoints").json()["items"] == []


def test_quota_alerts_reach_endpoints_signed(admin: ApiClient, hub: Hub, receiver: Receiver) -> None:
    secret = register(admin, receiver, event_types=["quota.*"])["secret"]
    alert = {"type": "dev.integration-hub.quota.threshold", "tenant_id": admin.tenant, "period": "day"}
    alert |= {"period_key": "2026-12-03", "used": 9, "limit": 10, "pct": 90.0, "threshold_pct": 80.0, "plan": "free"}
    hub.quota_alerts.deliver(admin.tenant, alert)
    drain()
    ((headers, body),) = receiver.received
    payload = standardwebhooks.Webhook(secret).verify(body, headers)
    assert payload["type"] == "dev.integration-hub.quota.threshold" and payload["data"]["pct"] == 90.0


def test_a_fan_out_cut_off_by_a_crash_sends_only_what_it_had_not_recorded(
    admin: ApiClient, hub: Hub, receiver: Receiver
) -> None:
    first, second = (register(admin, receiver)["endpoint"]["id"] for _ in range(2))
    sender = hub.event_sender
    evt = event(admin.tenant, 11)
    done = sender.fan_out({"event": evt})
    assert done == 2 and len(receiver.received) == 2
    assert sender.fan_out({"event": evt}) == 0 and len(receiver.received) == 2  # the same event again: nothing

    # A run that died after recording the first endpoint's attempt but before the second's: its marker says
    # `running` until a time now past, and the second endpoint has no row.
    evt = event(admin.tenant, 12)
    msg = message_id(evt)
    sender.log_table.insert(
        {"PartitionKey": admin.tenant, "RowKey": f"{MARKER}{msg}", "State": "running", "Until": hub.now()}
    )
    (crashed,) = [e for e in sender.endpoints.of_tenant(admin.tenant) if e.id == first]
    recorded = sender._new_delivery(crashed, evt)
    sender._record(recorded, DeliveryAttempt(at=hub.now(), status_code=204))
    sender.log_table.insert(sender._entity(recorded))
    receiver.received.clear()
    assert sender.fan_out({"event": evt}) == 1  # only the endpoint the crash cut off
    assert len(receiver.received) == 1
    assert [d.state for d in sender.log(admin.tenant, second) if d.message_id == msg] == ["succeeded"]
    assert [len(d.attempts) for d in sender.log(admin.tenant, first) if d.message_id == msg] == [1]

    # A run still under way: the same event waits for it (re-queued shortly), nothing is sent twice.
    evt = event(admin.tenant, 13)
    until = hub.now() + timedelta(minutes=1)
    sender.log_table.insert(
        {"PartitionKey": admin.tenant, "RowKey": f"{MARKER}{message_id(evt)}", "State": "running", "Until": until}
    )
    receiver.received.clear()
    assert sender.fan_out({"event": evt}) == 0 and receiver.received == []
