"""The outbound call queue (#20 part 6): a call the platform does not wait for is accepted and checked at once,
run once by the outbound-calls queue function through the adapter, its result recorded and announced; a lost
answer is looked up rather than repeated; transient failures retry with the queue's semantics into a dead
letter the API lists; a replay runs it once more; a permanent failure does not burn the attempts."""

from __future__ import annotations

from typing import Any

import function_app
from devfakes.keyed import GOOD
from devfakes.launcher import Fakes
from integrations.wiring import Hub
from shared.queues import MAX_DEQUEUE_COUNT
from tests.helpers import FAST_QUEUES, ApiClient, take_events
from tests.sync.test_messaging_and_kobo import activate
from tools.runner import LocalRunner, QueueWorker

TWILIO = {
    "family": "messaging",
    "provider": "twilio",
    "display_name": "SMS relay",
    "config": {"account_sid": GOOD["twilio_sid"], "default_sender": "+46701740605"},
}


def relay(key: str, to: str = "+46701234567", body: str = "Matchen flyttas till 18:00") -> dict[str, Any]:
    return {"key": key, "operation": "relay_message", "args": {"to": to, "body": body}}


def worker() -> QueueWorker:
    return LocalRunner(function_app.app, queue_settings=FAST_QUEUES).queues["queue_outbound_calls"]


def test_a_relayed_message_is_sent_once_and_its_result_kept(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    path = activate(admin, TWILIO, GOOD["twilio"])
    r = admin.post(f"{path}/calls", json=relay("R1"))
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued" and r.headers["location"].endswith("/calls/R1")
    again = admin.post(f"{path}/calls", json=relay("R1"))  # the platform repeats itself before the call ran
    assert again.status_code == 200 and again.json()["key"] == "R1"
    assert fakes.keyed.twilio_sent == []  # nothing happened inside the request

    worker().drain(timeout=30)
    sent = fakes.keyed.twilio_sent
    assert len(sent) == 1 and sent[0]["to"] == "+46701234567"
    call = admin.get(f"{path}/calls/R1").json()
    assert call["status"] == "succeeded" and call["result"] == {"message_sid": sent[0]["sid"]} and call["attempts"] == 1
    settled = take_events(hub, ".call.")
    assert [e["type"] for e in settled] == ["dev.integration-hub.call.succeeded"]
    assert settled[0]["data"]["result"] == call["result"]

    # after it ran, the same key is still the same call; another call under it is refused
    assert admin.post(f"{path}/calls", json=relay("R1")).status_code == 200
    worker().drain(timeout=10)
    assert len(sent) == 1
    clash = admin.post(f"{path}/calls", json=relay("R1", body="another text"))
    assert clash.status_code == 409 and clash.json()["reason"] == "key_reused"


def test_bad_calls_are_refused_with_the_field_at_fault(admin: ApiClient, fakes: Fakes) -> None:
    path = activate(admin, TWILIO, GOOD["twilio"])
    r = admin.post(f"{path}/calls", json={"key": "X1", "operation": "publish_post", "args": {}})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/operation"
    assert "relay_message" in r.json()["errors"][0]["message"]
    r = admin.post(f"{path}/calls", json=relay("X2", to="0701234567"))
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/args/to"
    r = admin.post(f"{path}/calls", json={**relay("X3"), "args": {"to": "+46701234567", "body": "x", "cc": "me"}})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/args/cc"
    assert admin.get(f"{path}/calls/X2").status_code == 404
    assert admin.get(f"{path}/calls", params={"status": "failed"}).json()["items"] == []


def test_a_lost_answer_is_looked_up_not_sent_again(admin: ApiClient, fakes: Fakes) -> None:
    path = activate(admin, TWILIO, GOOD["twilio"])
    fakes.keyed.twilio_faults.append("lost")  # Twilio sends it, and its answer never reaches us
    assert admin.post(f"{path}/calls", json=relay("L1")).status_code == 202
    worker().drain(timeout=30)
    sent = fakes.keyed.twilio_sent
    assert len(sent) == 1
    call = admin.get(f"{path}/calls/L1").json()
    assert call["status"] == "succeeded" and call["result"] == {"message_sid": sent[0]["sid"]}


def test_a_call_that_keeps_failing_is_a_dead_letter_replayed_once(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    path = activate(admin, TWILIO, GOOD["twilio"])
    fakes.keyed.twilio_faults.extend(["down"] * MAX_DEQUEUE_COUNT)
    assert admin.post(f"{path}/calls", json=relay("D1")).status_code == 202
    worker().drain(timeout=60)
    assert fakes.keyed.twilio_sent == [] and fakes.keyed.twilio_faults == []
    dead = admin.get(f"{path}/calls", params={"status": "failed"}).json()["items"]
    assert [c["key"] for c in dead] == ["D1"]
    assert dead[0]["attempts"] == MAX_DEQUEUE_COUNT and "502" in dead[0]["last_error"]
    assert GOOD["twilio"] not in str(dead)
    assert [e["type"] for e in take_events(hub, ".call.")] == ["dev.integration-hub.call.failed"]

    replayed = admin.post(f"{path}/calls/D1:replay")
    assert replayed.status_code == 202 and replayed.json()["status"] == "queued"
    assert admin.post(f"{path}/calls/D1:replay").status_code == 409  # once
    worker().drain(timeout=30)
    assert len(fakes.keyed.twilio_sent) == 1
    assert admin.get(f"{path}/calls/D1").json()["status"] == "succeeded"
    assert admin.post(f"{path}/calls/D1:replay").json()["reason"] == "not_failed"


def test_a_permanent_failure_fails_at_once_and_waits_for_a_replay(admin: ApiClient, fakes: Fakes) -> None:
    path = activate(admin, TWILIO, GOOD["twilio"])
    assert admin.post(f"{path}/calls", json=relay("P1")).status_code == 202
    assert admin.post(f"{path}:pause").status_code == 200  # paused before the queue got to it
    refused = admin.post(f"{path}/calls", json=relay("P2"))
    assert refused.status_code == 409 and refused.json()["reason"] == "not_active"
    worker().drain(timeout=30)
    call = admin.get(f"{path}/calls/P1").json()
    assert call["status"] == "failed" and call["attempts"] == 0 and "paused" in call["last_error"]
    assert fakes.keyed.twilio_sent == []

    assert admin.post(f"{path}:validate").json()["result"]["passed"]
    assert admin.post(f"{path}:resume").status_code == 200
    assert admin.post(f"{path}/calls/P1:replay").status_code == 202
    worker().drain(timeout=30)
    assert len(fakes.keyed.twilio_sent) == 1 and admin.get(f"{path}/calls/P1").json()["status"] == "succeeded"
