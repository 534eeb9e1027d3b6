"""Change subscriptions the hub keeps at calendar providers: activating a pulling calendar opens a Google push
channel or a Graph subscription (Graph checks the URL with its validationToken first) whose secret is the
integration's webhook secret; a user's change at the calendar then reaches the receiver and starts the pull;
pausing or decommissioning stops it at the provider; the timer renews it before it expires (Google: a new
channel, then the old one stopped; Graph: a PATCH of the expiry) and retries one a provider outage failed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

import function_app
from devfakes.launcher import Fakes
from integrations.documents.ref import IntegrationRef
from integrations.wiring import Hub
from tests.helpers import FAST_QUEUES, ApiClient, connect_fortnox, take_events
from tests.setups import calendar_doc, connect
from tools.runner import LocalRunner

PROVIDERS = ["google_calendar", "outlook"]
Calendar = tuple[str, Any, str]  # (provider, its fake, the integration's path)


def drain() -> None:
    LocalRunner(function_app.app, queue_settings=FAST_QUEUES).queues["queue_webhook_deliveries"].drain(timeout=60)


def subscription(admin: ApiClient, path: str) -> dict[str, object]:
    r = admin.get(f"{path}/webhook-subscription")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.fixture(params=PROVIDERS)
def calendar(request: pytest.FixtureRequest, api: str, admin: ApiClient, fakes: Fakes) -> Calendar:
    """An active calendar integration that pulls, at each provider in turn."""
    return request.param, fakes.calendars[request.param], connect(admin, fakes, request.param)


def secret_of(watch: dict[str, object]) -> object:
    return watch.get("token") or watch.get("clientState")


def test_activating_a_pulling_calendar_subscribes_and_changes_start_the_pull(
    admin: ApiClient, fakes: Fakes, hub: Hub, calendar: Calendar
) -> None:
    provider, fake, path = calendar
    integration = path.rsplit("/", 1)[1]

    sub = subscription(admin, path)
    assert sub["status"] == "active" and sub["watch_id"] in fake.watches, sub
    watch = fake.watches[str(sub["watch_id"])]
    address = str(watch.get("address") or watch.get("notificationUrl"))
    assert address == f"https://hub.test/api/v1/webhooks/{provider}/{integration}"
    # The secret the provider echoes is the integration's webhook secret, made by the hub and held as a ref.
    document = admin.get(path).json()
    assert document["credentials"]["webhook_secret_ref"], document["credentials"]
    held = hub.integrations.get(IntegrationRef(admin.tenant, integration)).document
    stored = hub.credentials.resolve(held, "webhook_secret_ref", operation="test")
    assert secret_of(watch) == stored and stored not in str(sub)

    fake.user_add("Styrelsemöte", "2027-06-20T16:00:00Z", "2027-06-20T18:00:00Z")
    assert fake.sent[-1][1] in (200, 202), fake.sent  # the receiver verified the provider's message
    drain()
    runs = admin.get(f"{path}/syncs").json()["items"]
    assert [(r["operation"], r["trigger"]) for r in runs] == [("pull_events", "webhook")], runs


def test_pause_stops_it_resume_opens_a_new_one_decommission_removes_it(
    admin: ApiClient, fakes: Fakes, hub: Hub, calendar: Calendar
) -> None:
    provider, fake, path = calendar
    first = subscription(admin, path)["watch_id"]

    assert admin.post(f"{path}:pause").status_code == 200
    assert fake.watches == {}
    assert admin.get(f"{path}/webhook-subscription").status_code == 404
    before = len(fake.sent)
    fake.user_add("Träning", "2027-06-21T16:00:00Z", "2027-06-21T18:00:00Z")
    assert len(fake.sent) == before  # nothing is posted for a stopped subscription

    assert admin.post(f"{path}:resume").status_code == 200
    again = subscription(admin, path)
    assert again["status"] == "active" and again["watch_id"] != first and list(fake.watches) == [again["watch_id"]]

    assert admin.request("DELETE", path).status_code == 200
    assert fake.watches == {}
    assert admin.get(f"{path}/webhook-subscription").status_code == 404


def test_a_calendar_that_only_pushes_is_not_subscribed(api: str, admin: ApiClient, fakes: Fakes) -> None:
    path = connect(admin, fakes, "google_calendar", sync_direction="push")
    assert admin.get(f"{path}/webhook-subscription").status_code == 404
    assert fakes.calendars["google_calendar"].watches == {}


def test_the_timer_renews_before_expiry(admin: ApiClient, fakes: Fakes, hub: Hub, calendar: Calendar) -> None:
    provider, fake, path = calendar
    integration = path.rsplit("/", 1)[1]
    assert hub.subscriptions.renew_due() == 0  # a week away: nothing to do

    # Age it: it now expires within the provider's renewal margin.
    current = hub.subscriptions.get(IntegrationRef(admin.tenant, integration))
    assert current is not None and current.expires_at is not None
    current.expires_at = hub.now() + timedelta(hours=2)
    hub.subscriptions._save(current)

    assert hub.subscriptions.renew_due() == 1
    renewed = subscription(admin, path)
    assert renewed["status"] == "active" and renewed["renewed_at"] is not None
    assert list(fake.watches) == [renewed["watch_id"]]  # Google: the old channel was stopped after the new one
    if provider == "outlook":
        assert renewed["watch_id"] == current.watch_id  # Graph extends the same subscription
    else:
        assert renewed["watch_id"] != current.watch_id
    assert hub.subscriptions.renew_due() == 0

    fake.user_add("Domarmöte", "2027-06-22T16:00:00Z", "2027-06-22T18:00:00Z")
    assert fake.sent[-1][1] in (200, 202), fake.sent  # the renewed subscription still carries the right secret


def test_a_provider_outage_fails_the_subscription_not_the_activation(
    api: str, admin: ApiClient, fakes: Fakes, hub: Hub
) -> None:
    fake = fakes.calendars["outlook"]
    doc = connect_fortnox(admin, fake, body=calendar_doc("outlook", fake))
    path = f"{admin.integrations}/{doc['id']}"
    assert admin.post(f"{path}:validate").json()["result"]["passed"]
    take_events(hub)
    fake.fail_next = 50  # Graph is down while the integration is activated
    r = admin.post(f"{path}:activate")
    assert r.status_code == 200 and r.json()["status"] == "active", r.text  # the transition happened
    fake.fail_next = 0
    sub = subscription(admin, path)
    assert sub["status"] == "failed" and "503" in str(sub["last_error"]) and fake.watches == {}, sub
    failed = take_events(hub, "subscription.failed")
    assert len(failed) == 1 and failed[0]["data"]["provider"] == "outlook"

    assert hub.subscriptions.renew_due() == 1  # the timer's next tick tries again
    sub = subscription(admin, path)
    assert sub["status"] == "active" and sub["last_error"] is None and list(fake.watches) == [sub["watch_id"]]
