"""Facebook Pages (Graph API): the user token an OAuth grant gives lists the pages the user manages, each with
its own page access token; every page call (publish, comments, insights) is made with that page's token, which
the hub keeps as a Key Vault reference per page (`config.accounts[].access_token_ref`) and passes in per call.

Graph answers errors as `{"error": {"code", "error_subcode", "message"}}`: code 190 is an invalid token, 4/17/32
are rate limits (Meta sends no 429), 100 is a bad parameter. `X-App-Usage` and `X-Business-Use-Case-Usage`
carry the app's usage of its hourly budget in percent: at USAGE_HOLD_PERCENT or more, the adapter holds the
integration's rate window (on every instance: the window is shared) for the time Meta says access returns, or
a minute — so the hub slows down before Meta starts refusing, instead of after."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import requests

from adapters.checks import timed
from adapters.social import Comment, ManagedAccount, MetricDay, Post, SocialAdapter
from integrations.documents.document import ValidationCheck
from shared.errors import ProviderError

RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
# Calls made with a page's own token: the user's token is neither fetched nor sent (it may have expired while
# page tokens, which do not, keep working).
PAGE_OPERATIONS = frozenset(
    {"social.page", "social.publish", "social.find", "social.comments", "social.moderate", "social.insights"}
)
USAGE_HOLD_PERCENT = 90
USAGE_HOLD_S = 60.0
INSIGHT_METRICS = ("page_impressions", "page_post_engagements", "page_fans")


class FacebookAdapter(SocialAdapter):
    insight_metrics: tuple[str, ...] = INSIGHT_METRICS

    def validate(self) -> list[ValidationCheck]:
        """The user token works (the catalog's `GET /me`), and every selected page is still one it manages."""
        checks = super().validate()
        selected = {a.account_id: a.name for a in self.document.config.accounts}
        if not checks[0].passed or not selected:
            return checks

        def pages() -> str:
            managed = {a.account_id for a in self.managed_accounts()}
            if gone := sorted(set(selected) - managed):
                raise ProviderError(
                    detail=f"no longer managed by the authorised user: {', '.join(f'{selected[g]} ({g})' for g in gone)}",
                    provider=self.spec.id,
                )
            return f"{len(selected)} selected page(s) managed"

        return [*checks, timed("provider.accounts", pages)]

    # -- the user's pages (user token) -------------------------------------------------------------------------

    def managed_accounts(self) -> list[ManagedAccount]:
        data = self._graph("GET", "/me/accounts", "social.accounts", params={"fields": "id,name,access_token"})
        return [ManagedAccount(str(p["id"]), str(p["name"]), str(p["access_token"])) for p in data.get("data", [])]

    def check_account(self, account_id: str, token: str) -> str:
        """The page's name, read with its own token (validation of a selected page)."""
        return str(self._graph("GET", f"/{account_id}", "social.page", token=token, params={"fields": "id,name"})["name"])

    # -- a page (its token) -----------------------------------------------------------------------------------

    def publish(self, account_id: str, token: str, post: Post) -> str:
        form: dict[str, Any] = {"message": post.message}
        if post.scheduled_at is not None:
            form |= {"published": "false", "scheduled_publish_time": str(post.scheduled_at)}
        if post.image_url:
            form |= {"url": post.image_url, "caption": form.pop("message")}
            data = self._graph("POST", f"/{account_id}/photos", "social.publish", token=token, data=form)
            return str(data.get("post_id") or data["id"])
        if post.link:
            form["link"] = post.link
        return str(self._graph("POST", f"/{account_id}/feed", "social.publish", token=token, data=form)["id"])

    def recent_posts(self, account_id: str, token: str) -> list[tuple[str, str]]:
        """The page's recent posts, scheduled ones included: Graph's feed lists only what is published, and a
        scheduled post waits in `scheduled_posts` until its time."""
        found: list[tuple[str, str]] = []
        for edge in ("feed", "scheduled_posts"):
            data = self._graph(
                "GET", f"/{account_id}/{edge}", "social.find", token=token, params={"fields": "id,message", "limit": 25}
            )
            found += [(str(p["id"]), str(p.get("message", ""))) for p in data.get("data", [])]
        return found

    def comments(self, post_id: str, token: str) -> list[Comment]:
        data = self._graph(
            "GET", f"/{post_id}/comments", "social.comments", token=token, params={"fields": "id,message,from,is_hidden"}
        )
        return [
            Comment(
                str(c["id"]), str(c.get("message", "")), str(c.get("from", {}).get("name", "")), bool(c.get("is_hidden"))
            )
            for c in data.get("data", [])
        ]

    def hide_comment(self, comment_id: str, token: str, hidden: bool) -> None:
        self._graph("POST", f"/{comment_id}", "social.moderate", token=token, data={"is_hidden": str(hidden).lower()})

    def delete_comment(self, comment_id: str, token: str) -> None:
        self._graph("DELETE", f"/{comment_id}", "social.moderate", token=token)

    def insights(self, account_id: str, token: str, start: date, end: date) -> Iterator[MetricDay]:
        since = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp())
        until = int(datetime(end.year, end.month, end.day, tzinfo=UTC).timestamp()) + 86400
        params = {"metric": ",".join(self.insight_metrics), "period": "day", "since": since, "until": until}
        data = self._graph("GET", f"/{account_id}/insights", "social.insights", token=token, params=params)
        for series in data.get("data", []):
            for point in series.get("values", []):
                day = datetime.fromisoformat(str(point["end_time"]).replace("+0000", "+00:00")).date()
                yield MetricDay(str(series["name"]), day, int(point.get("value") or 0))

    # -- plumbing -----------------------------------------------------------------------------------------------

    def _graph(self, method: str, path: str, operation: str, *, token: str | None = None, **kwargs: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else None  # a page token replaces the user's
        expect = frozenset({400, 401, 403})
        response = self.request(method, path, operation=operation, headers=headers, expect=expect, **kwargs)
        self._heed_usage(response, operation)
        if response.status_code >= 400:
            raise self._refusal(response)
        body: dict[str, Any] = response.json()
        return body

    def auth_headers(self, operation: str) -> dict[str, str]:
        return {} if operation in PAGE_OPERATIONS else super().auth_headers(operation)

    def _heed_usage(self, response: requests.Response, operation: str) -> None:
        """Meta's usage percentages into the limiter: near the budget, hold the window until access returns."""
        percent, wait_min = usage_percent(response.headers)
        policy = self.policy(operation)
        if percent >= USAGE_HOLD_PERCENT and policy.limit_key and policy.window:
            self.ctx.outbound.limiter.penalise(policy.limit_key, policy.window, max(USAGE_HOLD_S, wait_min * 60))

    def _refusal(self, response: requests.Response) -> ProviderError:
        try:
            error = response.json().get("error", {})
        except ValueError:
            error = {}
        code = int(error.get("code") or 0)
        message = str(error.get("message") or response.reason)
        if code in RATE_LIMIT_CODES:
            usage = response.headers.get("X-App-Usage", "")
            detail = f"Facebook: rate limit (code {code}); app usage {json.loads(usage) if usage else 'unknown'}"
            return ProviderError(detail=detail, provider=self.spec.id, retriable=True)
        if code == 190:
            return ProviderError(detail=f"Facebook: the token was refused ({message})", provider=self.spec.id)
        return ProviderError(detail=f"Facebook: {message} (code {code})", provider=self.spec.id)


def usage_percent(headers: Any) -> tuple[int, float]:
    """(the highest percentage in `X-App-Usage` / `X-Business-Use-Case-Usage`, minutes until access returns)."""
    highest, wait = 0, 0.0
    try:
        app = json.loads(headers.get("X-App-Usage") or "{}")
        highest = max([highest, *(int(app.get(k) or 0) for k in ("call_count", "total_time", "total_cputime"))])
        for entries in json.loads(headers.get("X-Business-Use-Case-Usage") or "{}").values():
            for e in entries:
                highest = max([highest, *(int(e.get(k) or 0) for k in ("call_count", "total_time", "total_cputime"))])
                wait = max(wait, float(e.get("estimated_time_to_regain_access") or 0))
    except (ValueError, AttributeError, TypeError):
        return 0, 0.0  # a malformed header never fails the call it came with
    return highest, wait
