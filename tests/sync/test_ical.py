"""iCal feeds against a loopback HTTPS feed server: validation green, and precisely red for a missing feed, a
non-calendar answer and a feed over the size limit; pulls that emit each change once, find edits, cancellations
and removals, skip an unchanged feed with a 304 (no download), honour the event-type filter; no push."""

from __future__ import annotations

from typing import Any

from devfakes.launcher import Fakes
from integrations.wiring import Hub
from tests.helpers import ApiClient, run_sync, take_events


def feed_doc(fakes: Fakes, feed: str, **config: Any) -> dict[str, Any]:
    return {
        "family": "calendar",
        "provider": "ical",
        "display_name": "Förbundets tävlingskalender (iCal)",
        "capabilities": {"pull_events": True, "push_events": False},
        "config": {"sync_direction": "pull", "ics_url": f"{fakes.provider_urls['ical']['feeds']}/{feed}.ics", **config},
    }


def check(admin: ApiClient, path: str) -> dict[str, Any]:
    result = admin.post(f"{path}:validate").json()["result"]
    return {"passed": result["passed"], **{c["name"]: c["detail"] for c in result["checks"]}}


def seed(fakes: Fakes, feed: str) -> None:
    fakes.ical.put(
        feed,
        "sm-2027@petanque.se",
        summary="SM i boule",
        start="20270612T070000Z",
        end="20270613T150000Z",
        location="Kungsholmen",
        category="Tournament",
    )
    fakes.ical.put(feed, "camp@petanque.se", summary="Läger", start="20270701", end="20270704", category="Meeting")
    fakes.ical.put(
        feed, "tr-1@petanque.se", summary="Träning", start="20270601T160000Z", end="20270601T180000Z", category="Training"
    )


def test_validation_is_green_or_precisely_red(admin: ApiClient, fakes: Fakes) -> None:
    seed(fakes, "club")
    green = check(admin, f"{admin.integrations}/{admin.create(feed_doc(fakes, 'club'))['id']}")
    assert green["passed"] and "3 events" in green["provider.authenticate"], green
    missing = check(admin, f"{admin.integrations}/{admin.create(feed_doc(fakes, 'gone'))['id']}")
    assert not missing["passed"] and "404" in missing["provider.authenticate"], missing
    huge = check(admin, f"{admin.integrations}/{admin.create(feed_doc(fakes, 'huge'))['id']}")
    assert not huge["passed"] and "limit" in huge["provider.authenticate"], huge  # refused while streaming in


def test_pulls_follow_the_feed_and_an_unchanged_feed_costs_a_304(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    seed(fakes, "fed")
    path = f"{admin.integrations}/{admin.create(feed_doc(fakes, 'fed', event_type_filter=['tournament', 'meeting']))['id']}"
    assert check(admin, path)["passed"] and admin.post(f"{path}:activate").status_code == 200
    take_events(hub)

    run = run_sync(admin, path, "pull_events")
    assert run["status"] == "succeeded" and run["pulled"] == 2 and run["skipped"] == 1, run  # the training filtered
    changed = take_events(hub, ".calendar_event.changed")
    assert sorted(e["data"]["title"] for e in changed) == ["Läger", "SM i boule"]
    camp = next(e["data"] for e in changed if e["data"]["title"] == "Läger")
    assert camp["all_day"] and camp["starts_at"] == "2027-07-01" and camp["owner"] == "calendar"

    downloads = fakes.ical.downloads
    run = run_sync(admin, path, "pull_events")
    assert run["pulled"] == 0 and fakes.ical.downloads == downloads  # If-None-Match → 304: nothing downloaded
    assert take_events(hub, ".calendar_event.") == []

    fakes.ical.put("fed", "sm-2027@petanque.se", location="Hall B")
    fakes.ical.put(
        "fed", "cup@petanque.se", summary="Cupen", start="20270801T080000Z", end="20270801T160000Z", category="Tournament"
    )
    fakes.ical.cancel("fed", "camp@petanque.se")
    run = run_sync(admin, path, "pull_events")
    assert run["pulled"] == 3, run
    events = take_events(hub, ".calendar_event.")
    kinds = sorted((e["type"].rsplit(".", 1)[1], e["data"].get("title") or e["data"]["external_id"]) for e in events)
    assert kinds == [("changed", "Cupen"), ("changed", "SM i boule"), ("deleted", "camp@petanque.se")], kinds

    fakes.ical.remove("fed", "cup@petanque.se")  # gone from the feed altogether: found by absence
    run = run_sync(admin, path, "pull_events")
    assert run["pulled"] == 1, run
    (gone,) = take_events(hub, ".calendar_event.")
    assert gone["type"].endswith(".deleted") and gone["data"]["external_id"] == "cup@petanque.se"


def test_a_feed_is_read_only(admin: ApiClient, fakes: Fakes) -> None:
    seed(fakes, "ro")
    body = feed_doc(fakes, "ro")
    r = admin.post(admin.integrations, json={**body, "config": {**body["config"], "sync_direction": "bidirectional"}})
    assert r.status_code == 422 and "read-only" in r.text
    path = f"{admin.integrations}/{admin.create(body)['id']}"
    assert check(admin, path)["passed"] and admin.post(f"{path}:activate").status_code == 200
    r = admin.post(f"{path}/syncs", json={"operation": "push_events"})
    assert r.status_code == 422, r.text
