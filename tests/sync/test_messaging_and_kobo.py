"""Seed 004's other integrations: Twilio sends each message once (even when a run dies after sending), and
Kobo form submissions become registration events once each, page by page, resuming where the last
import stopped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import function_app
from devfakes.keyed import GOOD
from devfakes.launcher import Fakes
from integrations.wiring import Hub
from tests.helpers import FAST_QUEUES, ApiClient, mark_inflight, run_sync, take_events
from tools.runner import LocalRunner


def activate(admin: ApiClient, body: dict[str, Any], secret: str) -> str:
    doc = admin.create(body)
    path = f"{admin.integrations}/{doc['id']}"
    assert admin.request("PUT", f"{path}/credentials/api_key_ref", json={"value": secret}).status_code == 200
    result = admin.post(f"{path}:validate").json()["result"]
    assert result["passed"], result
    assert admin.post(f"{path}:activate").status_code == 200
    return path


def sms(n: int) -> list[dict[str, Any]]:
    return [{"key": f"MSG-{i}", "to": f"+4670123456{i}", "body": f"Välkommen till klubben, medlem {i}!"} for i in range(n)]


def test_twilio_sends_each_message_once(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    path = activate(
        admin,
        {
            "family": "messaging",
            "provider": "twilio",
            "display_name": "SMS",
            "config": {"account_sid": GOOD["twilio_sid"], "default_sender": "+46701740605"},
        },
        GOOD["twilio"],
    )
    worker = LocalRunner(function_app.app, queue_settings=FAST_QUEUES).queues["queue_sync_jobs"]
    r = admin.post(
        f"{path}/messages", json={"messages": [{"key": "W1", "to": "+46701234567", "body": "hej", "channel": "whatsapp"}]}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/messages/0/channel"

    assert admin.post(f"{path}/messages", json={"messages": sms(5)}).status_code == 202
    worker.drain(timeout=60)
    sent = fakes.keyed.twilio_sent
    assert len(sent) == 5 and {m["from"] for m in sent} == {"+46701740605"}
    integration = path.rsplit("/", 1)[1]
    assert sent[0]["status_callback"] == f"https://hub.test/api/v1/webhooks/twilio/{integration}"

    # the platform repeats the batch: nothing is sent twice
    admin.post(f"{path}/messages", json={"messages": sms(5)})
    worker.drain(timeout=60)
    assert len(sent) == 5
    # a run that died after Twilio accepted but before we recorded it: found by recipient and body
    mark_inflight(hub, admin.tenant, integration, "message")
    admin.post(f"{path}/syncs", json={"operation": "send_messages"})
    worker.drain(timeout=60)
    assert len(sent) == 5
    run = admin.get(f"{path}/syncs", params={"limit": 1}).json()["items"][0]
    assert run["skipped"] == 5 and run["status"] == "succeeded", run


def test_kobo_submissions_become_registrations_once(admin: ApiClient, fakes: Fakes, hub: Hub, monkeypatch: Any) -> None:
    monkeypatch.setitem(hub.settings.provider_page_sizes, "kobo", 3)
    kobo = fakes.keyed
    for i in range(7):
        kobo.kobo_submit(
            "aFormForClubs01", {"name": f"Club {i}", "group/contact": f"c{i}@ex.org"}, at=f"2026-11-20T10:0{i}:00"
        )
    for i in range(2):
        kobo.kobo_submit("aFormForPlayers1", {"name": f"Player {i}"}, at=f"2026-11-21T09:0{i}:00")
    # a form on the hub's registration template: the event carries it as a canonical Registration too
    entry = {"registration_id": "REG-7", "competition": "SM-2026", "member_number": "M-0042", "entry_fee": "250,00",
             "currency": "SEK", "status": "registered"}  # fmt: skip
    kobo.kobo_submit("aFormForPlayers1", entry, at="2026-11-21T09:05:00")
    path = activate(
        admin,
        {
            "family": "data_collection",
            "provider": "kobo",
            "display_name": "Kobo registrations",
            "config": {"server_url": "https://eu.kobotoolbox.org", "asset_uids": ["aFormForClubs01", "aFormForPlayers1"]},
        },
        GOOD["kobo"],
    )

    def run() -> dict[str, Any]:
        return run_sync(admin, path, "import_registrations")

    first = run()
    assert first["status"] == "succeeded" and first["pulled"] == 10, first
    events = [e for e in take_events(hub) if e["type"] == "dev.integration-hub.registration.submitted"]
    assert len(events) == 10 and len({e["id"] for e in events}) == 10
    club = next(e for e in events if e["data"]["answers"].get("name") == "Club 3")
    assert club["data"]["answers"] == {"name": "Club 3", "group/contact": "c3@ex.org"}  # no Kobo bookkeeping
    assert club["data"]["asset_uid"] == "aFormForClubs01" and club["data"]["submitted_at"] == "2026-11-20T10:03:00"
    assert club["data"]["registration"] is None  # not the registration template
    reg = next(e for e in events if e["data"]["answers"].get("registration_id") == "REG-7")["data"]["registration"]
    assert reg == {"registration_id": "REG-7", "competition_id": "SM-2026", "member_id": "M-0042", "status": "registered",
                   "registered_at": "2026-11-21T09:05:00Z", "fee_minor": 25000, "currency": "SEK"}  # fmt: skip

    calls = kobo.kobo_data_calls
    again = run()
    assert again["pulled"] == 0 and take_events(hub) == []
    assert kobo.kobo_data_calls - calls == 2  # one page per form: it resumed at the newest submission

    kobo.kobo_submit("aFormForClubs01", {"name": "Club 7"}, at="2026-11-22T08:00:00")
    assert run()["pulled"] == 1
    assert [e["data"]["answers"]["name"] for e in take_events(hub) if ".registration." in e["type"]] == ["Club 7"]


def test_a_pull_cursor_never_passes_the_run_start(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    """Singer's signpost: a submission stamped after the run began (a server clock ahead of ours) must not
    carry the cursor past the run's start, or a submission committed later with an earlier stamp — still after
    the run began — would fall behind the cursor and never be imported."""
    kobo = fakes.keyed
    later = lambda **delta: (datetime.now(UTC) + timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%S")  # noqa: E731
    kobo.kobo_submit("aFormSignpost001", {"name": "Ahead"}, at=later(hours=2))
    path = activate(
        admin,
        {
            "family": "data_collection",
            "provider": "kobo",
            "display_name": "Kobo signpost",
            "config": {"server_url": "https://eu.kobotoolbox.org", "asset_uids": ["aFormSignpost001"]},
        },
        GOOD["kobo"],
    )
    assert run_sync(admin, path, "import_registrations")["pulled"] == 1
    kobo.kobo_submit("aFormSignpost001", {"name": "Late but earlier"}, at=later(hours=1))
    again = run_sync(admin, path, "import_registrations")
    assert again["pulled"] == 1 and again["skipped"] == 1, again  # the ahead one is re-read and skipped
    names = [e["data"]["answers"]["name"] for e in take_events(hub) if ".registration." in e["type"]]
    assert names == ["Ahead", "Late but earlier"]
