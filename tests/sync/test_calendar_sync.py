"""Calendar sync against loopback Google Calendar and Outlook (Graph): the platform's events are written once
each and updated in place, the calendar's own changes come back as events once each (our own writes are not
echoed), an expired sync token / delta link means one full read that finds deletions without false changes,
and 429s and outages do not duplicate anything."""

from __future__ import annotations

from typing import Any

import pytest

from devfakes.launcher import Fakes
from integrations.wiring import Hub
from tests.helpers import ApiClient, connect_fortnox, mark_inflight, run_sync, take_events
from tests.setups import calendar_doc, connect


def events(n: int, **over: Any) -> list[dict[str, Any]]:
    return [
        {
            "key": f"EV-{i}",
            "title": f"SM i boule, omgång {i}",
            "starts_at": f"2027-06-{10 + i:02d}T09:00:00+02:00",
            "ends_at": f"2027-06-{10 + i:02d}T17:00:00+02:00",
            "location": "Boulebanan, Kungsholmen",
            "event_type": "tournament",
            **over,
        }
        for i in range(n)
    ]


@pytest.mark.parametrize("provider", ["google_calendar", "outlook"])
def test_bidirectional_calendar_sync(admin: ApiClient, fakes: Fakes, hub: Hub, provider: str, monkeypatch: Any) -> None:
    monkeypatch.setitem(hub.settings.provider_page_sizes, "outlook", 2)  # Graph: several nextLink pages per read
    fake = fakes.calendars[provider]
    path = connect(admin, fakes, provider)

    # push: the filter leaves the training out; the all-day camp is a date span
    batch = [*events(3), {**events(1)[0], "key": "TR-1", "event_type": "training"}]
    batch.append(
        {"key": "CAMP", "title": "Läger", "starts_at": "2027-07-01", "ends_at": "2027-07-04", "event_type": "meeting"}
    )
    r = admin.post(f"{path}/outbox/calendar-events", json={"events": batch})
    assert r.status_code == 202 and r.json()["created"] == 4 and r.json()["filtered"] == 1, r.text
    run = run_sync(admin, path, "push_events")
    assert run["status"] == "succeeded" and run["created"] == 4, run
    assert len(fake.live()) == 4

    # first pull is a full read: everything there is our own, so nothing is news
    run = run_sync(admin, path, "pull_events")
    assert run["status"] == "succeeded" and run["pulled"] == 0 and run["skipped"] == 4, run
    assert take_events(hub, ".calendar_event.") == []

    # the calendar's users: an edit to one of ours, a new event of their own
    first = next(i for i, e in fake.live().items() if (e.get("summary") or e.get("subject")) == "SM i boule, omgång 0")
    fake.user_edit(first, location={"displayName": "Hall B"} if provider == "outlook" else "Hall B")
    own = fake.user_add("Styrelsemöte", "2027-06-20T16:00:00Z", "2027-06-20T18:00:00Z")
    run = run_sync(admin, path, "pull_events")
    assert run["pulled"] == 2, run
    changed = {e["data"]["external_id"]: e for e in take_events(hub, ".calendar_event.")}
    assert changed[first]["data"]["key"] == "EV-0" and changed[first]["data"]["owner"] == "platform"
    assert changed[first]["data"]["location"] == "Hall B"
    assert changed[own]["data"]["owner"] == "calendar" and changed[own]["data"]["key"] is None
    assert changed[own]["data"]["starts_at"] == "2027-06-20T16:00:00Z"
    assert run_sync(admin, path, "pull_events")["pulled"] == 0  # nothing new: nothing emitted

    # a new version of EV-1 updates in place; the cancelled EV-2 is removed; neither echoes back
    moved = {**events(3)[1], "starts_at": "2027-06-11T10:00:00+02:00"}
    r = admin.post(f"{path}/outbox/calendar-events", json={"events": [moved, {**events(3)[2], "cancelled": True}]})
    assert r.json()["replaced"] == 2, r.text
    run = run_sync(admin, path, "push_events")
    assert run["updated"] == 2 and run["created"] == 0, run
    assert len(fake.live()) == 4  # 3 of ours (EV-2 gone) + the users' own
    run = run_sync(admin, path, "pull_events")
    assert run["pulled"] == 0, run
    assert take_events(hub, ".calendar_event.") == []

    # the users delete their own event: reported once
    fake.user_delete(own)
    assert run_sync(admin, path, "pull_events")["pulled"] == 1
    (gone,) = take_events(hub, ".calendar_event.")
    assert gone["type"].endswith(".deleted") and gone["data"]["external_id"] == own

    # the provider forgets our token while a user deletes EV-0: one full read finds the deletion, no false news
    fake.user_delete(first)
    fake.expire_tokens()
    run = run_sync(admin, path, "pull_events")
    assert run["status"] == "succeeded" and "expired" in run["reason"], run
    assert run["pulled"] == 1, run
    (deleted,) = take_events(hub, ".calendar_event.")
    assert deleted["type"].endswith(".deleted") and deleted["data"]["key"] == "EV-0"
    assert run_sync(admin, path, "pull_events")["pulled"] == 0  # the new token works

    # the platform still holds EV-0: its next version brings it back (deleted there → created again)
    r = admin.post(f"{path}/outbox/calendar-events", json={"events": [{**events(1)[0], "title": "SM, omgång 0 (ny tid)"}]})
    run = run_sync(admin, path, "push_events")
    assert run["status"] == "succeeded" and run["failed"] == 0, run
    titles = sorted(e.get("summary") or e.get("subject") for e in fake.live().values())
    assert titles == ["Läger", "SM i boule, omgång 1", "SM, omgång 0 (ny tid)"], titles


@pytest.mark.parametrize("provider", ["google_calendar", "outlook"])
def test_replayed_push_never_duplicates(admin: ApiClient, fakes: Fakes, hub: Hub, provider: str) -> None:
    fake = fakes.calendars[provider]
    path = connect(admin, fakes, provider)
    admin.post(f"{path}/outbox/calendar-events", json={"events": events(5)})
    assert run_sync(admin, path, "push_events")["created"] == 5
    # a run that died after the calendar took the events, before we recorded it (outcomes unknown)
    hub.outbox._table.merge_many(
        [
            {**row, "ExternalId": ""}
            for row in hub.outbox._table.query(
                "PartitionKey eq @pk", parameters={"pk": f"{admin.tenant}|{path.rsplit('/', 1)[1]}"}
            )
        ]
    )
    mark_inflight(hub, admin.tenant, path.rsplit("/", 1)[1], "calendar_event")
    run = run_sync(admin, path, "push_events")
    assert run["status"] == "succeeded" and run["skipped"] == 5 and run["created"] == 0, run
    assert len(fake.live()) == 5


def test_rate_limits_and_outages_lose_nothing(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    fake = fakes.calendars["google_calendar"]
    path = connect(admin, fakes, "google_calendar")
    fake.per_minute, fake.window_s = 4, 1.0
    fake.fail_next = 2
    admin.post(f"{path}/outbox/calendar-events", json={"events": events(12)})
    run = run_sync(admin, path, "push_events", timeout=120)
    assert run["status"] == "succeeded" and run["created"] == 12, run
    assert fake.throttled > 0
    assert sorted(e["extendedProperties"]["private"]["hubKey"] for e in fake.live().values()) == sorted(
        f"EV-{i}" for i in range(12)
    )


def test_calendar_intake_answers_field_by_field(admin: ApiClient, fakes: Fakes) -> None:
    path = connect(admin, fakes, "google_calendar")
    bad = [
        {**events(1)[0], "ends_at": "2027-06-10T08:00:00+02:00"},
        {**events(1)[0], "ends_at": "2027-06-11"},
        {**events(1)[0], "starts_at": "2027-06-10T09:00:00"},
    ]
    for i, event in enumerate(bad):
        r = admin.post(f"{path}/outbox/calendar-events", json={"events": [event]})
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), r.text
        assert r.json()["errors"][0]["pointer"].startswith("/events/0"), (i, r.text)

    fake = fakes.calendars["google_calendar"]
    pull_only = connect_fortnox(admin, fake, body=calendar_doc("google_calendar", fake, sync_direction="pull"))
    r = admin.post(f"{admin.integrations}/{pull_only['id']}/outbox/calendar-events", json={"events": events(1)})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/events", r.text
    r = admin.post(f"{admin.integrations}/{pull_only['id']}/syncs", json={"operation": "push_events"})
    assert r.status_code == 422


def test_outlook_pull_needs_the_primary_calendar(admin: ApiClient, fakes: Fakes) -> None:
    fake = fakes.calendars["outlook"]
    doc = connect_fortnox(admin, fake, body=calendar_doc("outlook", fake, calendar_id="cal-primary"))
    result = admin.post(f"{admin.integrations}/{doc['id']}:validate").json()["result"]
    assert result["passed"] is False
    (red,) = [c for c in result["checks"] if not c["passed"]]
    assert red["name"] == "config.calendar_id" and "primary calendar" in red["detail"]
