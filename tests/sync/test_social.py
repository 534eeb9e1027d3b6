"""Facebook Pages against a loopback Graph fake behind the OAuth flow: the grant's pages listed without their
tokens; selected pages' tokens kept as secret references (never answered, never logged); validation checks the
selected pages are still managed (a precise red when one is not); posts published once per key (text and link,
a photo, a scheduled post), with the page's own token; comments moderated (hide, delete), audited; page insights
as daily series; each capability behind its flag; Meta's usage headers read, its rate-limit errors retriable."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.facebook import usage_percent
from devfakes.launcher import Fakes
from integrations.documents.ref import IntegrationRef
from integrations.wiring import Hub
from tests.helpers import FAST_QUEUES, ApiClient, connect_fortnox, mark_inflight, together

PAGE, OTHER = "104500001", "104500002"


def _connected(admin: ApiClient, fakes: Fakes, provider: str = "facebook", **capabilities: bool) -> str:
    """A social-media integration connected through the OAuth flow against its fake (Instagram: Meta's Graph)."""
    fake = fakes.x if provider == "x" else fakes.facebook
    body = {
        "family": "social_media",
        "provider": provider,
        "display_name": f"SBF på {provider}",
        "oauth_client_id": fake.client_id,
        "capabilities": {"publish": True, "analytics": True, "moderation": True, **capabilities},
    }
    doc = connect_fortnox(admin, fake, body=body)
    return f"{admin.integrations}/{doc['id']}"


def _select_and_activate(admin: ApiClient, path: str) -> None:
    r = admin.request("PUT", f"{path}/social/accounts", json={"account_ids": [PAGE]})
    assert r.status_code == 200, r.text
    result = admin.post(f"{path}:validate").json()["result"]
    assert result["passed"], result
    assert admin.post(f"{path}:activate").status_code == 200


def test_pages_posts_moderation_and_insights_with_page_tokens_kept_secret(
    admin: ApiClient, fakes: Fakes, hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = fakes.facebook
    tokens = [p["access_token"] for p in fake.pages.values()]
    path = _connected(admin, fakes)
    answers: list[str] = []

    listed = admin.get(f"{path}/social/accounts")
    assert listed.status_code == 200, listed.text
    assert {(a["account_id"], a["selected"]) for a in listed.json()} == {(PAGE, False), (OTHER, False)}
    answers.append(listed.text)
    _select_and_activate(admin, path)
    document = hub.integrations.get(IntegrationRef(admin.tenant, path.rsplit("/", 1)[1])).document
    (account,) = document.config.accounts
    assert account.account_id == PAGE and account.access_token_ref  # a reference; the value is in Key Vault
    answers.append(admin.get(path).text)

    # A post once per key, with the page's token (the fake refuses the user's); racing retries make one post.
    post = {"key": "SM-2027-final", "account_id": PAGE, "message": "Finalen börjar 14.00!", "link": "https://boule.se/sm"}
    first = admin.post(f"{path}/social/posts", json=post)
    assert first.status_code == 201, first.text
    racing = together(*[lambda: admin.post(f"{path}/social/posts", json=post) for _ in range(4)])
    assert {r.status_code for r in racing} == {200} and {r.json()["post_id"] for r in racing} == {first.json()["post_id"]}  # type: ignore[attr-defined]
    (made,) = fake.posts.values()
    assert made["message"] == post["message"] and made["link"] == post["link"] and made["is_published"] is True
    answers += [first.text, *(r.text for r in racing)]  # type: ignore[attr-defined]

    later = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    scheduled = {**post, "key": "SM-2027-preview", "scheduled_at": later.isoformat(), "link": None}
    r = admin.post(f"{path}/social/posts", json=scheduled)
    assert r.status_code == 201, r.text
    assert fake.posts[r.json()["post_id"]]["scheduled_publish_time"] == str(int(later.timestamp()))
    photo = {**post, "key": "SM-2027-photo", "link": None, "image_url": "https://boule.se/img/final.jpg"}
    r = admin.post(f"{path}/social/posts", json=photo)
    assert r.status_code == 201 and fake.posts[r.json()["post_id"]]["edge"] == "photos", r.text
    too_soon = {**scheduled, "key": "x", "scheduled_at": (datetime.now(UTC) + timedelta(minutes=2)).isoformat()}
    r = admin.post(f"{path}/social/posts", json=too_soon)
    assert r.status_code == 422 and "/scheduled_at" in r.text, r.text
    r = admin.post(f"{path}/social/posts", json={**post, "key": "other-page", "account_id": OTHER})
    assert r.status_code == 409 and "not selected" in r.json()["detail"], r.text

    # Moderation: a follower's comments on our post, hidden then deleted; each action in the audit trail.
    spam = fake.someone_comments(first.json()["post_id"], "Köp billiga klot!")
    fake.someone_comments(first.json()["post_id"], "Lycka till!")
    listed_comments = admin.get(f"{path}/social/posts/{post['key']}/comments")
    assert listed_comments.status_code == 200 and len(listed_comments.json()) == 2, listed_comments.text
    moderate = f"{path}/social/posts/{post['key']}/comments/{spam}"
    assert admin.post(moderate, json={"action": "hide"}).status_code == 204
    assert fake.comments[spam]["is_hidden"] is True
    assert admin.post(moderate, json={"action": "delete"}).status_code == 204
    assert spam not in fake.comments
    assert admin.post(moderate, json={"action": "delete"}).status_code == 404  # not a comment of that post any more
    audit = admin.get(f"/api/v1/tenants/{admin.tenant}/audit", params={"limit": 100}).json()["items"]
    assert {"social.comment.hide", "social.comment.delete", "social.accounts"} <= {a["action"] for a in audit}

    # Insights: a daily series per metric, read with the page's token.
    r = admin.get(f"{path}/social/accounts/{PAGE}/insights", params={"from": "2026-11-01", "to": "2026-11-07"})
    assert r.status_code == 200, r.text
    series = r.json()
    assert {m["metric"] for m in series} == {"page_impressions", "page_post_engagements", "page_fans"}
    assert len(series) == 21 and all(m["value"] > 0 for m in series)
    bad = admin.get(f"{path}/social/accounts/{PAGE}/insights", params={"from": "2026-11-07", "to": "2026-11-01"})
    assert bad.status_code == 422 and bad.headers["Content-Type"].startswith("application/problem+json")

    # Usage is counted per operation; page tokens appear in no answer and no log line.
    usage = hub.usage.daily(
        IntegrationRef(admin.tenant, path.rsplit("/", 1)[1]), start=datetime.now(UTC).date(), end=datetime.now(UTC).date()
    )
    assert usage and {"social.publish", "social.moderate", "social.insights"} <= set(usage[0].by_operation)
    for token in tokens:
        assert not any(token in a for a in answers) and token not in caplog.text


def test_each_capability_behind_its_flag_and_a_page_no_longer_managed_is_a_precise_red(
    admin: ApiClient, fakes: Fakes
) -> None:
    path = _connected(admin, fakes, moderation=False, analytics=False)
    _select_and_activate(admin, path)
    post = {"key": "k1", "account_id": PAGE, "message": "Hej"}
    assert admin.post(f"{path}/social/posts", json=post).status_code == 201
    r = admin.get(f"{path}/social/posts/k1/comments")
    assert r.status_code == 409 and r.json()["reason"] == "capability_off", r.text
    r = admin.get(f"{path}/social/accounts/{PAGE}/insights", params={"from": "2026-11-01", "to": "2026-11-02"})
    assert r.status_code == 409 and "analytics" in r.json()["detail"], r.text

    page = fakes.facebook.pages.pop(PAGE)  # the user lost the page's admin role
    try:
        result = admin.post(f"{path}:validate").json()["result"]
        assert not result["passed"]
        (red,) = [c for c in result["checks"] if not c["passed"]]
        assert red["name"] == "provider.accounts" and PAGE in red["detail"] and "Svenska Bouleförbundet" in red["detail"]
        r = admin.request("PUT", f"{path}/social/accounts", json={"account_ids": [PAGE]})
        assert r.status_code == 422 and "/account_ids/0" in r.text, r.text
    finally:
        fakes.facebook.pages[PAGE] = page


def test_graphs_rate_limit_error_is_a_retriable_502_and_usage_headers_are_read(admin: ApiClient, fakes: Fakes) -> None:
    path = _connected(admin, fakes)
    _select_and_activate(admin, path)
    fake = fakes.facebook
    before = fake.app_call_budget
    fake.app_call_budget = fake.app_calls  # the app's hourly budget is spent: Graph answers error 4
    try:
        r = admin.post(f"{path}/social/posts", json={"key": "k", "account_id": PAGE, "message": "Hej"})
    finally:
        fake.app_call_budget = before
    assert r.status_code == 502 and "rate limit (code 4)" in r.json()["detail"], r.text

    headers: dict[str, Any] = {
        "X-App-Usage": '{"call_count": 42, "total_time": 91, "total_cputime": 3}',
        "X-Business-Use-Case-Usage": '{"1045": [{"type": "pages", "call_count": 95, "estimated_time_to_regain_access": 7}]}',
    }
    assert usage_percent(headers) == (95, 7.0)
    assert usage_percent({"X-App-Usage": "not json"}) == (0, 0.0)


def test_instagram_publishes_an_image_in_two_steps_and_moderates_with_the_pages_token(
    admin: ApiClient, fakes: Fakes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = fakes.facebook  # one Graph: the Instagram account is linked to the federation's page
    path = _connected(admin, fakes, "instagram")
    ig = "17841400000000001"
    listed = admin.get(f"{path}/social/accounts").json()
    assert [(a["account_id"], a["name"]) for a in listed] == [(ig, "@svenskboule (Svenska Bouleförbundet)")]
    assert admin.request("PUT", f"{path}/social/accounts", json={"account_ids": [ig]}).status_code == 200
    assert admin.post(f"{path}:validate").json()["result"]["passed"]
    assert admin.post(f"{path}:activate").status_code == 200

    text_only = admin.post(f"{path}/social/posts", json={"key": "t", "account_id": ig, "message": "Hej"})
    assert text_only.status_code == 422 and "/image_url" in text_only.text, text_only.text
    post = {"key": "SM-bild", "account_id": ig, "message": "Finalen!", "image_url": "https://boule.se/img/final.jpg"}
    r = admin.post(f"{path}/social/posts", json=post)
    assert r.status_code == 201, r.text
    media = fake.posts[r.json()["post_id"]]
    assert media["edge"] == "instagram" and media["caption"] == "Finalen!" and not fake.containers  # published
    assert admin.post(f"{path}/social/posts", json=post).json()["post_id"] == r.json()["post_id"]

    troll = fake.someone_comments(r.json()["post_id"], "Tråkigt")
    comments = admin.get(f"{path}/social/posts/SM-bild/comments").json()
    assert comments == [{"comment_id": troll, "message": "Tråkigt", "author": "A follower", "hidden": False}]
    assert admin.post(f"{path}/social/posts/SM-bild/comments/{troll}", json={"action": "hide"}).status_code == 204
    assert fake.comments[troll]["is_hidden"] is True
    insights = admin.get(f"{path}/social/accounts/{ig}/insights", params={"from": "2026-11-01", "to": "2026-11-02"})
    assert {m["metric"] for m in insights.json()} == {"impressions", "reach", "profile_views"}, insights.text
    token = fake.pages["104500001"]["access_token"]
    assert token not in caplog.text and token not in str(listed)


def test_x_posts_through_pkce_and_hides_replies_and_a_spent_window_holds_the_next_call(
    admin: ApiClient, fakes: Fakes, hub: Hub
) -> None:
    """X: the consent uses PKCE (the fake refuses a code without its verifier), the account is the user's own
    (no token of its own to store), a post once per key, replies hidden and shown (deleting others' replies is
    X's to refuse: a 422 naming the field), and a window X reports spent holds the shared window until reset."""
    fake = fakes.x
    path = _connected(admin, fakes, "x", analytics=False)
    (account,) = admin.get(f"{path}/social/accounts").json()
    assert (account["name"], account["selected"]) == ("@svenskboule", False)
    assert admin.request("PUT", f"{path}/social/accounts", json={"account_ids": [account["account_id"]]}).status_code == 200
    assert admin.post(f"{path}:validate").json()["result"]["passed"]
    assert admin.post(f"{path}:activate").status_code == 200

    post = {
        "key": "SM-x",
        "account_id": account["account_id"],
        "message": "Finalen börjar 14.00!",
        "link": "https://boule.se/sm",
    }
    r = admin.post(f"{path}/social/posts", json=post)
    assert r.status_code == 201, r.text
    assert fake.tweets[r.json()["post_id"]]["text"] == "Finalen börjar 14.00! https://boule.se/sm"
    assert admin.post(f"{path}/social/posts", json=post).status_code == 200 and len(fake.tweets) == 1
    long = admin.post(f"{path}/social/posts", json={**post, "key": "long", "message": "x" * 280})
    assert long.status_code == 422 and "/message" in long.text, long.text
    # An image: fetched from its web server through the egress policy, uploaded to X, attached by media id.
    host = fakes.provider_urls["x"]["base_url"].removesuffix("/2")
    photo = {
        "key": "SM-x-bild",
        "account_id": account["account_id"],
        "message": "Prisutdelning",
        "image_url": f"{host}/images/pris.jpg",
    }
    pic = admin.post(f"{path}/social/posts", json=photo)
    assert pic.status_code == 201, pic.text
    (media_id,) = fake.tweets[pic.json()["post_id"]]["media_ids"]
    assert fake.media[media_id].startswith(b"\xff\xd8")  # the image's bytes reached X
    not_image = {**photo, "key": "SM-x-fel", "image_url": f"{host}/2/users/me"}  # answers JSON (401), not an image
    bad = admin.post(f"{path}/social/posts", json=not_image)
    assert bad.status_code == 422 and "/image_url" in bad.text, bad.text

    reply = fake.someone_replies(r.json()["post_id"], "Heja!", username="fan")
    assert admin.get(f"{path}/social/posts/SM-x/comments").json() == [
        {"comment_id": reply, "message": "Heja!", "author": "@fan", "hidden": False}
    ]
    assert admin.post(f"{path}/social/posts/SM-x/comments/{reply}", json={"action": "hide"}).status_code == 204
    assert fake.tweets[reply]["hidden"] is True
    refused = admin.post(f"{path}/social/posts/SM-x/comments/{reply}", json={"action": "delete"})
    assert refused.status_code == 422 and "/action" in refused.text and reply in fake.tweets, refused.text

    # X reports the window spent (remaining 0, reset in 2 s): the next call waits for the reset, no 429.
    fake.used, fake.reset_at = fake.per_window - 1, time.time() + 2
    started = time.monotonic()
    assert admin.get(f"{path}/social/posts/SM-x/comments").status_code == 200  # spends the last request
    assert admin.get(f"{path}/social/posts/SM-x/comments").status_code == 200
    assert time.monotonic() - started >= 1.5 and fake.throttled == 0


def test_posts_for_federation_events_are_published_once_each_even_after_a_crash(
    admin: ApiClient, fakes: Fakes, hub: Hub
) -> None:
    """Auto-publish: posts handed to the outbox go out once each through the queue; the platform repeating the
    batch publishes nothing twice, and a run that died after Graph answered finds its post by its text."""
    import function_app
    from tools.runner import LocalRunner

    path = _connected(admin, fakes, auto_publish_events=True)
    _select_and_activate(admin, path)
    worker = LocalRunner(function_app.app, queue_settings=FAST_QUEUES).queues["queue_sync_jobs"]
    posts = [
        {"key": f"result-{i}", "account_id": PAGE, "message": f"Resultat, omgång {i}", "link": "https://boule.se/r"}
        for i in range(3)
    ]
    unselected = admin.post(f"{path}/social/outbox", json={"posts": [{**posts[0], "account_id": OTHER}]})
    assert unselected.status_code == 422 and "/posts/0/account_id" in unselected.text, unselected.text
    assert admin.post(f"{path}/social/outbox", json={"posts": posts}).status_code == 202
    worker.drain(timeout=60)
    assert sorted(p["message"] for p in fakes.facebook.posts.values()) == [p["message"] for p in posts]

    assert admin.post(f"{path}/social/outbox", json={"posts": posts}).status_code == 202  # the platform repeats
    worker.drain(timeout=60)
    assert len(fakes.facebook.posts) == 3
    integration = path.rsplit("/", 1)[1]
    mark_inflight(hub, admin.tenant, integration, "social_post")  # as if the run died after Graph answered
    admin.post(f"{path}/syncs", json={"operation": "auto_publish_posts"})
    worker.drain(timeout=60)
    assert len(fakes.facebook.posts) == 3
    run = admin.get(f"{path}/syncs", params={"limit": 1}).json()["items"][0]
    assert run["skipped"] == 3 and run["status"] == "succeeded", run


def test_auto_publish_is_behind_its_flag_and_each_providers_rules_apply_at_intake(admin: ApiClient, fakes: Fakes) -> None:
    path = _connected(admin, fakes)  # auto_publish_events off
    _select_and_activate(admin, path)
    r = admin.post(f"{path}/social/outbox", json={"posts": [{"key": "k", "account_id": PAGE, "message": "Hej"}]})
    assert r.status_code == 422 and "/posts" in r.text, r.text
    x_path = _connected(admin, fakes, "x", analytics=False, auto_publish_events=True)
    (account,) = admin.get(f"{x_path}/social/accounts").json()
    admin.request("PUT", f"{x_path}/social/accounts", json={"account_ids": [account["account_id"]]})
    too_long = {"key": "k", "account_id": account["account_id"], "message": "x" * 270, "link": "https://boule.se/resultat"}
    r = admin.post(f"{x_path}/social/outbox", json={"posts": [too_long]})
    assert r.status_code == 422 and "/posts/0/message" in r.text, r.text


def test_metas_long_lived_token_is_the_grant_and_its_expiry_asks_for_a_reconnect(
    admin: ApiClient, fakes: Fakes, hub: Hub
) -> None:
    """Meta grants no refresh token: the code's hour-long user token is exchanged once for a 60-day one, kept
    as the grant; its expiry (or revocation) cannot be refreshed away, so the integration says `needs_reauth`
    (status and a precise error) instead of retrying — and page tokens, which do not expire, keep publishing."""
    fake = fakes.facebook
    before = fake.exchanges
    path = _connected(admin, fakes)
    assert fake.exchanges == before + 1  # the code's short-lived token was exchanged once
    _select_and_activate(admin, path)
    status = admin.get(f"{path}/status").json()
    assert status["token_state"] == "connected", status

    fake.expire_user_tokens()  # sixty days on
    r = admin.get(f"{path}/social/accounts")  # the pages list needs the user token
    assert r.status_code >= 400 and "reconnect" in r.json()["detail"], r.text
    assert admin.get(f"{path}/status").json()["token_state"] == "needs_reauth"
    post = {"key": "still", "account_id": PAGE, "message": "Sidans token lever"}
    assert admin.post(f"{path}/social/posts", json=post).status_code == 201  # page tokens do not expire


def test_a_revoked_page_token_is_a_precise_error_and_leaves_the_users_grant_alone(
    admin: ApiClient, fakes: Fakes, hub: Hub
) -> None:
    path = _connected(admin, fakes)
    _select_and_activate(admin, path)
    page = fakes.facebook.pages[PAGE]
    old, page["access_token"] = page["access_token"], "EAAPageRotated"  # the page's admins reset its token
    try:
        r = admin.post(f"{path}/social/posts", json={"key": "k", "account_id": PAGE, "message": "Hej"})
        assert r.status_code == 502 and "token was refused" in r.json()["detail"], r.text
        assert admin.get(f"{path}/status").json()["token_state"] == "connected"  # the user's grant is fine
        assert admin.request("PUT", f"{path}/social/accounts", json={"account_ids": [PAGE]}).status_code == 200
        assert admin.post(f"{path}/social/posts", json={"key": "k", "account_id": PAGE, "message": "Hej"}).status_code == 201
    finally:
        page["access_token"] = old


def test_a_post_whose_attempt_died_after_the_provider_answered_is_found_not_published_twice(
    admin: ApiClient, fakes: Fakes, hub: Hub
) -> None:

    path = _connected(admin, fakes)
    _select_and_activate(admin, path)
    post = {"key": "crash", "account_id": PAGE, "message": "Omgång 3 är igång", "link": "https://boule.se/3"}
    first = admin.post(f"{path}/social/posts", json=post).json()
    before = len(fakes.facebook.posts)
    # As if the process died after Graph answered and before the key's row was completed: the row is pending.
    pk = IntegrationRef(admin.tenant, path.rsplit("/", 1)[1]).partition
    hub.social.table.delete(pk, "post|crash")
    hub.social.table.insert({"PartitionKey": pk, "RowKey": "post|crash", "Pending": True})
    assert admin.get(f"{path}/social/posts/crash").status_code == 404  # not answered while pending
    again = admin.post(f"{path}/social/posts", json=post)
    assert again.status_code == 201 and again.json()["post_id"] == first["post_id"], again.text
    assert len(fakes.facebook.posts) == before  # found by its text among the page's recent posts

    # A scheduled post is not on the page's feed until its time: Graph lists it under scheduled_posts.
    at = int(time.time()) + 3600
    later = {"key": "later", "account_id": PAGE, "message": "Final i morgon", "scheduled_at": at}
    first = admin.post(f"{path}/social/posts", json=later).json()
    hub.social.table.delete(pk, "post|later")
    hub.social.table.insert({"PartitionKey": pk, "RowKey": "post|later", "Pending": True})
    again = admin.post(f"{path}/social/posts", json=later)
    assert again.status_code == 201 and again.json()["post_id"] == first["post_id"], again.text
    assert len(fakes.facebook.posts) == before + 1
