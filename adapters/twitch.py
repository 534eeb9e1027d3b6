"""Twitch (Helix): every call carries the app's `Client-Id` beside the user's token. A federation event becomes
a segment of the channel's stream schedule; the channel's stream key (`/streams/key`) is kept as the
`stream_key_ref` secret and never answered — the ingest address is Twitch's RTMP server. Helix answers
`Ratelimit-Limit/-Remaining/-Reset` (800 points a minute per user token).

`stream.online`/`offline` arrive through the EventSub receiver. Their subscriptions (one per type, for the
connected channel, to the integration's webhook URL, signed with its webhook secret) are managed with the
app's token, as Twitch requires for webhooks: made when the integration turns active, checked by the
subscription timer (one Twitch revoked or failed to verify is replaced), deleted on pause or decommission.
Twitch subscriptions do not expire; the hub's expiry is only when it looks again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.base import Adapter
from adapters.calendar import Watch
from adapters.streaming import Broadcast, LiveStream
from integrations.documents.document import StreamingIntegration
from shared.errors import ProviderError

INGEST = "rtmp://live.twitch.tv/app"
EVENTS = ("stream.online", "stream.offline")
SUBSCRIPTIONS = "/eventsub/subscriptions"


class TwitchAdapter(Adapter[StreamingIntegration]):
    def auth_headers(self, operation: str) -> dict[str, str]:
        return {**super().auth_headers(operation), "Client-Id": str(self.document.oauth_client_id)}

    def _user(self) -> dict[str, Any]:
        users = self.request("GET", "/users", operation="streaming.channels").json().get("data") or []
        if not users:
            raise ProviderError(detail="Twitch: the token names no user", provider=self.spec.id)
        return dict(users[0])

    def create_stream(self, title: str) -> LiveStream:
        """Twitch has one stream per channel: its key is what an encoder needs."""
        user = self._user()
        data = self.request(
            "GET", "/streams/key", operation="streaming.create_stream", params={"broadcaster_id": user["id"]}
        ).json()["data"]
        return LiveStream(str(user["id"]), INGEST, str(data[0]["stream_key"]))

    def create_broadcast(self, *, title: str, scheduled_start: str, privacy: str, stream_id: str) -> Broadcast:
        body = {
            "start_time": datetime.fromisoformat(scheduled_start.replace("Z", "+00:00"))
            .astimezone(UTC)
            .isoformat()
            .replace("+00:00", "Z"),  # RFC 3339 in UTC
            "timezone": "Europe/Stockholm",
            "duration": "240",
            "is_recurring": False,
            "title": title[:140],
        }
        data = self.request(
            "POST",
            "/schedule/segment",
            operation="streaming.create_broadcast",
            params={"broadcaster_id": stream_id},
            json=body,
        ).json()["data"]
        segment = data["segments"][0]
        login = data.get("broadcaster_login", stream_id)
        return Broadcast(str(segment["id"]), f"https://www.twitch.tv/{login}", scheduled_start, "public")

    # --- EventSub (capability watch_changes) -------------------------------------------------------------------
    def _as_app(self, operation: str) -> dict[str, str]:
        if self.ctx.app_token is None:
            raise ProviderError(
                detail="Twitch: EventSub needs the app's token (catalog auth.app_tokens)", provider=self.spec.id
            )
        return {"Authorization": f"Bearer {self.ctx.app_token(operation).token}"}

    def _subscriptions(self, broadcaster: str, operation: str) -> list[dict[str, Any]]:
        found = self.request(
            "GET", SUBSCRIPTIONS, operation=operation, params={"user_id": broadcaster}, headers=self._as_app(operation)
        ).json()
        return [s for s in found.get("data") or [] if s.get("transport", {}).get("callback") == self.ctx.callback_url]

    def _subscribe(self, kind: str, broadcaster: str, secret: str) -> str:
        operation = "webhook.subscribe"
        body = {
            "type": kind,
            "version": "1",
            "condition": {"broadcaster_user_id": broadcaster},
            "transport": {"method": "webhook", "callback": self.ctx.callback_url, "secret": secret},
        }
        response = self.request(
            "POST", SUBSCRIPTIONS, operation=operation, json=body, headers=self._as_app(operation), expect=frozenset({409})
        )
        if response.status_code == 409:  # ours from a try that crashed before it was recorded: its secret may be stale
            for old in self._subscriptions(broadcaster, operation):
                if old["type"] == kind:
                    self._delete(str(old["id"]), operation)
            response = self.request("POST", SUBSCRIPTIONS, operation=operation, json=body, headers=self._as_app(operation))
        return str(response.json()["data"][0]["id"])

    def _delete(self, subscription_id: str, operation: str) -> None:
        self.request(
            "DELETE",
            SUBSCRIPTIONS,
            operation=operation,
            params={"id": subscription_id},
            headers=self._as_app(operation),
            expect=frozenset({404}),
        )

    def watch_changes(self, secret: str, expires_at: datetime) -> Watch:
        broadcaster = str(self._user()["id"])
        return Watch(",".join(self._subscribe(kind, broadcaster, secret) for kind in EVENTS), broadcaster, expires_at)

    def renew_watch(self, watch: Watch, secret: str, expires_at: datetime) -> Watch:
        """Keep what is enabled; replace what Twitch revoked, failed to verify or lost."""
        broadcaster = watch.resource_id or str(self._user()["id"])
        live = {str(s["id"]): s for s in self._subscriptions(broadcaster, "webhook.renew")}
        kept: list[str] = []
        for kind in EVENTS:
            mine = [i for i in watch.id.split(",") if i in live and live[i]["type"] == kind]
            if mine and live[mine[0]]["status"] in ("enabled", "webhook_callback_verification_pending"):
                kept.append(mine[0])
                continue
            for stale in mine:
                self._delete(stale, "webhook.renew")
            kept.append(self._subscribe(kind, broadcaster, secret))
        return Watch(",".join(kept), broadcaster, expires_at)

    def stop_watch(self, watch: Watch) -> None:
        for subscription_id in watch.id.split(","):
            self._delete(subscription_id, "webhook.unsubscribe")
