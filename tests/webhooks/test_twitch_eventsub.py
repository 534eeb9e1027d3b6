"""Twitch EventSub: activating a Twitch integration subscribes to the channel's stream.online/offline with the
app's token (Twitch refuses a user token for webhooks), to the integration's HTTPS webhook URL, signed with its
webhook secret; the receiver answers Twitch's verification challenge, so both subscriptions turn `enabled`;
going live reaches the platform's feed as a `stream.online` event, once. Pausing deletes them at Twitch,
resuming makes new ones, and the timer replaces one Twitch revoked."""

from __future__ import annotations

from datetime import timedelta

import function_app
from devfakes.launcher import Fakes
from integrations.documents.ref import IntegrationRef
from integrations.wiring import Hub
from tests.helpers import FAST_QUEUES, ApiClient, connect_fortnox, take_events
from tools.runner import LocalRunner


def drain() -> None:
    LocalRunner(function_app.app, queue_settings=FAST_QUEUES).queues["queue_webhook_deliveries"].drain(timeout=60)


def connect_twitch(admin: ApiClient, fakes: Fakes) -> str:
    body = {
        "family": "streaming",
        "provider": "twitch",
        "display_name": "SBF på Twitch",
        "oauth_client_id": fakes.twitch.client_id,
        "capabilities": {"channel_management": True},
    }
    doc = connect_fortnox(admin, fakes.twitch, body=body)
    path = f"{admin.integrations}/{doc['id']}"
    assert admin.post(f"{path}:validate").json()["result"]["passed"]
    assert admin.post(f"{path}:activate").status_code == 200
    return path


def test_activating_subscribes_with_the_app_token_and_going_live_reaches_the_feed(
    api: str, admin: ApiClient, fakes: Fakes, hub: Hub
) -> None:
    fake = fakes.twitch
    path = connect_twitch(admin, fakes)
    integration = path.rsplit("/", 1)[1]

    sub = admin.get(f"{path}/webhook-subscription").json()
    assert sub["status"] == "active", sub
    made = {s["type"]: s for s in fake.subscriptions.values()}
    assert set(made) == {"stream.online", "stream.offline"} and sorted(str(sub["watch_id"]).split(",")) == sorted(
        s["id"] for s in made.values()
    )
    for s in made.values():
        assert s["status"] == "enabled", s  # the receiver echoed Twitch's challenge
        assert s["transport"]["callback"] == f"https://hub.test/api/v1/webhooks/twitch/{integration}"
        assert s["condition"] == {"broadcaster_user_id": "141981764"}
    document = hub.integrations.get(IntegrationRef(admin.tenant, integration)).document
    secret = hub.credentials.resolve(document, "webhook_secret_ref", operation="test")
    assert {s["transport"]["secret"] for s in made.values()} == {secret} and secret not in str(sub)
    assert ("webhook_callback_verification", 200) in fake.sent

    take_events(hub)  # what activation announced
    assert fake.go_live() == 1
    assert fake.sent[-1] == ("notification", 200)
    drain()
    (online,) = take_events(hub, "stream.")
    assert online["type"] == "dev.integration-hub.stream.online" and online["source"].endswith(
        f"/integrations/{integration}"
    )
    assert online["data"]["broadcaster_user_login"] == "bouleforbundet" and online["data"]["type"] == "live"


def test_a_user_token_cannot_subscribe(api: str, admin: ApiClient, fakes: Fakes) -> None:
    """The fake holds the hub to Twitch's rule: webhook subscriptions are the app's (its client credentials)."""
    import requests

    fake = fakes.twitch
    connect_twitch(admin, fakes)
    user_token = next(iter(fake.access))
    r = requests.post(
        f"{fakes.provider_urls['twitch']['base_url']}/eventsub/subscriptions",
        headers={"Authorization": f"Bearer {user_token}", "Client-Id": fake.client_id},
        json={"type": "stream.online", "version": "1", "condition": {"broadcaster_user_id": "141981764"}},
        timeout=5,
    )
    assert r.status_code == 400 and "app access token" in r.json()["message"]


def test_pause_deletes_them_resume_makes_new_ones(api: str, admin: ApiClient, fakes: Fakes) -> None:
    fake = fakes.twitch
    path = connect_twitch(admin, fakes)
    first = set(fake.subscriptions)
    assert admin.post(f"{path}:pause").status_code == 200
    assert fake.subscriptions == {}
    assert admin.get(f"{path}/webhook-subscription").status_code == 404
    assert admin.post(f"{path}:resume").status_code == 200
    assert len(fake.subscriptions) == 2 and not first & set(fake.subscriptions)
    assert all(s["status"] == "enabled" for s in fake.subscriptions.values())


def test_the_timer_replaces_a_revoked_subscription(api: str, admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    fake = fakes.twitch
    path = connect_twitch(admin, fakes)
    integration = path.rsplit("/", 1)[1]
    online = next(i for i, s in fake.subscriptions.items() if s["type"] == "stream.online")
    offline = next(i for i, s in fake.subscriptions.items() if s["type"] == "stream.offline")

    take_events(hub)
    fake.revoke(online, "notification_failures_exceeded")
    assert fake.sent[-1] == ("revocation", 200)
    drain()
    (revoked,) = take_events(hub, "subscription.revoked")
    assert revoked["data"] == {
        "provider": "twitch",
        "subscription_type": "stream.online",
        "reason": "notification_failures_exceeded",
    }

    current = hub.subscriptions.get(IntegrationRef(admin.tenant, integration))
    assert current is not None and current.expires_at is not None
    current.expires_at = hub.now() + timedelta(minutes=30)  # within Twitch's renewal margin: the timer looks
    hub.subscriptions._save(current)
    assert hub.subscriptions.renew_due() == 1

    replaced = {s["type"]: i for i, s in fake.subscriptions.items()}
    assert replaced["stream.offline"] == offline  # the healthy one is kept
    assert replaced["stream.online"] != online and fake.subscriptions[replaced["stream.online"]]["status"] == "enabled"
    assert online not in fake.subscriptions  # the revoked one was deleted, not left beside the new one
    sub = admin.get(f"{path}/webhook-subscription").json()
    assert sorted(str(sub["watch_id"]).split(",")) == sorted(replaced.values())
    assert fake.go_live() == 1
