"""Loopback Google Calendar (v3) and Outlook calendar (Microsoft Graph v1.0), behind the OAuth2 code flow of
the accounting fakes (Google's refresh tokens last, Graph's rotate).

Both keep a change log, so incremental reads return exactly what changed since a token, and both can be
made to forget their tokens (`expire_tokens`): Google answers 410 `fullSyncRequired` to a stale `syncToken`,
Graph 410 `SyncStateNotFound` to a stale delta link. Google takes client-chosen event ids (base32hex, 409 on a
second insert); Graph dedupes creates by `transactionId` and finds events by a single-value extended property.
A calendar user's edits are made with `user_edit` / `user_add` / `user_delete`.

Change notifications: Google's `events/watch` channels (a `sync` message on creation, `exists` on each user
change, `channels/stop`) and Graph's subscriptions (the `validationToken` handshake before a create succeeds,
`PATCH` to renew within 10,080 minutes, `DELETE`; a `value[]` notification with `clientState` on each user
change). Both post to the hub's public URL, which `hub_urls` maps to where the hub listens on loopback."""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import requests
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devfakes.oauth_accounting import Handler, OAuthAccountingFake
from devfakes.servers import post_to_hub

GOOGLE_ID = re.compile(r"^[a-v0-9]{5,1024}$")


def _token(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


def _untoken(value: str) -> dict[str, Any] | None:
    try:
        parsed: dict[str, Any] = json.loads(base64.urlsafe_b64decode(value.encode()))
        return parsed
    except ValueError:
        return None


def gated(handler: Handler) -> Handler:
    """Every calendar call passes `CalendarFake._gate` first: counted, authorised, failed on demand, throttled."""

    @functools.wraps(handler)
    async def checked(self: CalendarFake, request: Request) -> Response:
        return denied if (denied := self._gate(request)) else await handler(self, request)

    return checked


@dataclass
class CalendarFake(OAuthAccountingFake):
    events: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → event (with "_seq", "_deleted")
    seq: int = 0
    token_floor: int = 0  # tokens issued before this change number are forgotten
    fail_next: int = 0  # the next N calls answer 503 (an outage)
    calls: int = 0
    hub_urls: dict[str, str] = field(default_factory=dict)  # public URL prefix → the hub's loopback URL
    watches: dict[str, dict[str, Any]] = field(default_factory=dict)  # live channels / subscriptions by id
    sent: list[tuple[str, int]] = field(default_factory=list)  # notifications posted: (kind, the hub's status)

    def _change(self, event_id: str, event: dict[str, Any]) -> dict[str, Any]:
        self.seq += 1
        event["_seq"] = self.seq
        self.events[event_id] = event
        return event

    def user_edit(self, event_id: str, **fields: Any) -> None:
        with self.lock:
            self._change(event_id, {**self.events[event_id], **fields})
        self._notify_change(event_id)

    def user_delete(self, event_id: str) -> None:
        with self.lock:
            self._change(event_id, {**self.events[event_id], "_deleted": True})
        self._notify_change(event_id)

    def _post(self, url: str, kind: str, **kw: Any) -> requests.Response:
        def record(status: int) -> None:
            with self.lock:
                self.sent.append((kind, status))

        response: requests.Response = post_to_hub(url, self.hub_urls, record, **kw)
        return response

    def _notify_change(self, event_id: str) -> None:
        raise NotImplementedError

    def expire_tokens(self) -> None:
        with self.lock:
            self.token_floor = self.seq + 1

    def live(self) -> dict[str, dict[str, Any]]:
        return {i: e for i, e in self.events.items() if not e.get("_deleted")}

    def _gate(self, request: Request) -> Response | None:
        self.calls += 1
        if not self._bearer_ok(request):
            return JSONResponse({"error": {"code": 401, "status": "UNAUTHENTICATED"}}, status_code=401)
        if self.fail_next > 0:
            self.fail_next -= 1
            return JSONResponse({"error": {"code": 503, "message": "Backend Error"}}, status_code=503)
        return self._throttle()

    def _throttle(self) -> Response | None:
        if (wait := self._over_limit()) is None:
            return None
        body = {"error": {"code": 429, "errors": [{"reason": "rateLimitExceeded"}]}}
        return JSONResponse(body, status_code=429, headers={"Retry-After": wait})


@dataclass
class GoogleCalendarFake(CalendarFake):
    calendar_id: str = "primary"

    def _public(self, event: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in event.items() if not k.startswith("_")}
        if event.get("_deleted"):
            out = {"id": event["id"], "status": "cancelled"}
        return out

    def user_add(self, summary: str, start: str, end: str) -> str:
        event_id = secrets.token_hex(8)
        with self.lock:
            self._change(event_id, {"id": event_id, "summary": summary, "status": "confirmed", **_times(start, end)})
        self._notify_change(event_id)
        return event_id

    def _channel_message(self, channel: dict[str, Any], state: str) -> None:
        with self.lock:
            channel["number"] += 1
            number = channel["number"]
        headers = {
            "X-Goog-Channel-ID": channel["id"],
            "X-Goog-Channel-Token": channel["token"],
            "X-Goog-Channel-Expiration": channel["expiration_text"],
            "X-Goog-Resource-ID": channel["resourceId"],
            "X-Goog-Resource-URI": channel["resourceUri"],
            "X-Goog-Resource-State": state,
            "X-Goog-Message-Number": str(number),
        }
        self._post(channel["address"], state, headers=headers, data=b"")  # Google's messages have no body

    def _notify_change(self, event_id: str) -> None:
        now_ms = time.time() * 1000
        for channel in list(self.watches.values()):
            if channel["expiration"] > now_ms:
                with contextlib.suppress(requests.RequestException):  # undelivered: Google drops it
                    self._channel_message(channel, "exists")

    @gated
    async def watch(self, request: Request) -> Response:
        if request.path_params["cal"] != self.calendar_id:
            return JSONResponse({"error": {"code": 404, "message": "Not Found"}}, status_code=404)
        body = await request.json()
        channel_id, address = str(body.get("id") or ""), str(body.get("address") or "")
        if body.get("type") != "web_hook" or not re.fullmatch(r"[A-Za-z0-9\-_+/=]{1,64}", channel_id):
            return JSONResponse({"error": {"code": 400, "message": "Invalid channel id or type."}}, status_code=400)
        if not address.startswith("https://"):
            return JSONResponse({"error": {"code": 400, "message": "WebHook callback must be HTTPS."}}, status_code=400)
        if channel_id in self.watches:
            return JSONResponse({"error": {"code": 400, "message": "Channel id not unique."}}, status_code=400)
        longest = (time.time() + 30 * 86400) * 1000
        expiration = min(float(body.get("expiration") or longest), longest)
        channel = {
            "kind": "api#channel",
            "id": channel_id,
            "resourceId": "res-" + secrets.token_hex(6),
            "resourceUri": f"{request.url.replace(query='')}".removesuffix("/watch"),
            "token": str(body.get("token") or ""),
            "expiration": expiration,
            "expiration_text": datetime.fromtimestamp(expiration / 1000, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT"),
            "address": address,
            "number": 0,
        }
        with self.lock:
            self.watches[channel_id] = channel
        with contextlib.suppress(requests.RequestException):  # the channel opens whether or not this arrives
            await anyio.to_thread.run_sync(self._channel_message, channel, "sync")
        public = {k: channel[k] for k in ("kind", "id", "resourceId", "resourceUri", "token")}
        return JSONResponse({**public, "expiration": str(int(expiration))})

    @gated
    async def stop(self, request: Request) -> Response:
        body = await request.json()
        with self.lock:
            channel = self.watches.get(str(body.get("id")))
            if channel is None or channel["resourceId"] != body.get("resourceId"):
                return JSONResponse({"error": {"code": 404, "message": "Channel not found"}}, status_code=404)
            del self.watches[channel["id"]]
        return Response(status_code=204)

    @gated
    async def calendar(self, request: Request) -> Response:
        if request.path_params["cal"] != self.calendar_id:
            return JSONResponse({"error": {"code": 404, "message": "Not Found"}}, status_code=404)
        return JSONResponse({"id": self.calendar_id, "summary": "Förbundets tävlingar", "timeZone": "Europe/Stockholm"})

    @gated
    async def list_or_insert(self, request: Request) -> Response:
        if request.path_params["cal"] != self.calendar_id:
            return JSONResponse({"error": {"code": 404, "message": "Not Found"}}, status_code=404)
        if request.method == "POST":
            return self._insert(await request.json())
        q = request.query_params
        size = min(int(q.get("maxResults", "250")), 2500)
        with self.lock:
            if page := q.get("pageToken"):
                state = _untoken(page)
                if state is None:
                    return JSONResponse({"error": {"code": 400, "message": "Invalid pageToken"}}, status_code=400)
            else:
                since = None
                if token := q.get("syncToken"):
                    parsed = _untoken(token)
                    if parsed is None or parsed["seq"] < self.token_floor:
                        gone = {"error": {"code": 410, "errors": [{"reason": "fullSyncRequired"}]}}
                        return JSONResponse(gone, status_code=410)
                    since = parsed["seq"]
                state = {"since": since, "upto": self.seq, "offset": 0}
            since, upto, offset = state["since"], state["upto"], state["offset"]
            changed = sorted(
                (e for e in self.events.values() if e["_seq"] <= upto and (since is None or e["_seq"] > since)),
                key=lambda e: e["_seq"],
            )
            if since is None:
                changed = [e for e in changed if not e.get("_deleted")]  # a full read lists what exists
            items = [self._public(e) for e in changed[offset : offset + size]]
        body: dict[str, Any] = {"kind": "calendar#events", "items": items}
        if offset + size < len(changed):
            body["nextPageToken"] = _token({**state, "offset": offset + size})
        else:
            body["nextSyncToken"] = _token({"seq": upto})
        return JSONResponse(body)

    def _insert(self, event: dict[str, Any]) -> Response:
        event_id = event.get("id") or secrets.token_hex(8)
        if not GOOGLE_ID.match(event_id):
            return JSONResponse({"error": {"code": 400, "message": "Invalid resource id value."}}, status_code=400)
        if not event.get("start") or not event.get("end"):
            return JSONResponse({"error": {"code": 400, "message": "Missing end time."}}, status_code=400)
        with self.lock:
            if event_id in self.events:
                body = {"error": {"code": 409, "message": "The requested identifier already exists."}}
                return JSONResponse(body, status_code=409)
            stored = self._change(event_id, {**event, "id": event_id, "status": "confirmed"})
        return JSONResponse(self._public(stored))

    @gated
    async def one(self, request: Request) -> Response:
        event_id = request.path_params["id"]
        with self.lock:
            current = self.events.get(event_id)
            if current is None:
                return JSONResponse({"error": {"code": 404, "message": "Not Found"}}, status_code=404)
            if request.method == "GET":
                if current.get("_deleted"):
                    return JSONResponse({"error": {"code": 410, "message": "Resource has been deleted"}}, status_code=410)
                return JSONResponse(self._public(current))
            if request.method == "DELETE":
                if current.get("_deleted"):
                    return JSONResponse({"error": {"code": 410, "message": "Resource has been deleted"}}, status_code=410)
                self._change(event_id, {**current, "_deleted": True})
                return Response(status_code=204)
        event = await request.json()  # PUT: the whole event (a cancelled one is restored)
        with self.lock:
            stored = self._change(event_id, {**event, "id": event_id, "status": event.get("status", "confirmed")})
        return JSONResponse(self._public(stored))

    def api_routes(self) -> list[Route]:
        return [
            Route("/calendar/v3/calendars/{cal}", self.calendar),
            Route("/calendar/v3/calendars/{cal}/events", self.list_or_insert, methods=["GET", "POST"]),
            Route("/calendar/v3/calendars/{cal}/events/watch", self.watch, methods=["POST"]),
            Route("/calendar/v3/calendars/{cal}/events/{id}", self.one, methods=["GET", "PUT", "DELETE"]),
            Route("/calendar/v3/channels/stop", self.stop, methods=["POST"]),
        ]


def _times(start: str, end: str) -> dict[str, Any]:
    def one(v: str) -> dict[str, str]:
        return {"dateTime": v, "timeZone": "UTC"} if "T" in v else {"date": v}

    return {"start": one(start), "end": one(end)}


GRAPH_EVENT_MAX_MINUTES = 10080  # an Outlook event subscription's longest life
KEY_FILTER = re.compile(r"ep/id eq '(?P<id>[^']+)' and ep/value eq '(?P<value>(?:[^']|'')*)'\)$")


@dataclass
class GraphCalendarFake(CalendarFake):
    calendar_ids: tuple[str, ...] = ("cal-primary",)
    transactions: dict[str, str] = field(default_factory=dict)  # transactionId → event id
    created: int = 0

    def _public(self, event: dict[str, Any]) -> dict[str, Any]:
        if event.get("_deleted"):
            return {"id": event["id"], "@removed": {"reason": "deleted"}}
        return {k: v for k, v in event.items() if not k.startswith("_") and k != "singleValueExtendedProperties"}

    def user_add(self, subject: str, start: str, end: str) -> str:
        with self.lock:
            self.created += 1
            event_id = f"AAMkAD-user-{self.created}"
            self._change(event_id, {"id": event_id, "subject": subject, **_graph_times(start, end)})
        self._notify_change(event_id)
        return event_id

    def _notify_change(self, event_id: str) -> None:
        now = datetime.now(UTC)
        for sub in list(self.watches.values()):
            if datetime.fromisoformat(sub["expirationDateTime"]) <= now:
                continue
            item = {
                "subscriptionId": sub["id"],
                "subscriptionExpirationDateTime": sub["expirationDateTime"],
                "clientState": sub["clientState"],
                "changeType": "updated",
                "resource": f"Users/{self.company_id}/Events/{event_id}",
                "tenantId": self.company_id,
                "resourceData": {"@odata.type": "#Microsoft.Graph.Event", "id": event_id},
            }
            with contextlib.suppress(requests.RequestException):  # undelivered: dropped here (Graph retries)
                self._post(sub["notificationUrl"], "notification", json={"value": [item]})

    def _expiry(self, body: dict[str, Any]) -> str | Response:
        try:
            at = datetime.fromisoformat(str(body.get("expirationDateTime", "")).replace("Z", "+00:00"))
        except ValueError:
            return self._error(400, "InvalidRequest")
        now = datetime.now(UTC)
        if at.tzinfo is None or at <= now or at > now + timedelta(minutes=GRAPH_EVENT_MAX_MINUTES):
            return self._error(400, "InvalidRequest")  # "Subscription expiration can only be 10070 minutes…"
        return at.astimezone(UTC).isoformat().replace("+00:00", "Z")

    @gated
    async def subscribe(self, request: Request) -> Response:
        body = await request.json()
        url, state = str(body.get("notificationUrl") or ""), str(body.get("clientState") or "")
        if not url.startswith("https://") or not body.get("resource") or not body.get("changeType") or len(state) > 128:
            return self._error(400, "InvalidRequest")
        expiry = self._expiry(body)
        if isinstance(expiry, Response):
            return expiry
        token = secrets.token_urlsafe(24)
        sep = "&" if "?" in url else "?"
        try:
            echo = await anyio.to_thread.run_sync(lambda: self._post(f"{url}{sep}validationToken={token}", "validation"))
            valid = (
                echo.status_code == 200
                and echo.text == token
                and echo.headers.get("content-type", "").startswith("text/plain")
            )
        except requests.RequestException:
            valid = False
        if not valid:
            return self._error(400, "ValidationError")  # "Subscription validation request failed."
        sub = {
            "id": str(uuid.uuid4()),
            "resource": body["resource"],
            "changeType": body["changeType"],
            "notificationUrl": url,
            "expirationDateTime": expiry,
            "clientState": state,
        }
        with self.lock:
            self.watches[sub["id"]] = sub
        return JSONResponse({k: v for k, v in sub.items() if k != "clientState"} | {"clientState": state}, status_code=201)

    @gated
    async def subscription(self, request: Request) -> Response:
        sub_id = request.path_params["id"]
        with self.lock:
            sub = self.watches.get(sub_id)
        if sub is None:
            return self._error(404, "ResourceNotFound")
        if request.method == "DELETE":
            with self.lock:
                self.watches.pop(sub_id, None)
            return Response(status_code=204)
        expiry = self._expiry(await request.json())
        if isinstance(expiry, Response):
            return expiry
        with self.lock:
            sub["expirationDateTime"] = expiry
        return JSONResponse(sub)

    def _error(self, status: int, code: str) -> Response:
        return JSONResponse({"error": {"code": code, "message": code}}, status_code=status)

    @gated
    async def calendar(self, request: Request) -> Response:
        cal = request.path_params.get("cal", self.calendar_ids[0])
        if cal not in self.calendar_ids:
            return self._error(404, "ErrorItemNotFound")
        return JSONResponse({"id": cal, "name": "Calendar", "canEdit": True})

    @gated
    async def create(self, request: Request) -> Response:
        cal = request.path_params.get("cal", self.calendar_ids[0])
        if cal not in self.calendar_ids:
            return self._error(404, "ErrorItemNotFound")
        event = await request.json()
        if not event.get("subject") or not (event.get("start") or {}).get("timeZone") or not event.get("end"):
            return self._error(400, "ErrorInvalidRequest")
        with self.lock:
            if (tx := event.get("transactionId")) and tx in self.transactions:
                return JSONResponse(self._public(self.events[self.transactions[tx]]), status_code=201)
            self.created += 1
            event_id = f"AAMkAD-{self.created:06d}"
            if tx:
                self.transactions[tx] = event_id
            stored = self._change(event_id, {**event, "id": event_id, "_calendar": cal})
        return JSONResponse(self._public(stored), status_code=201)

    @gated
    async def find(self, request: Request) -> Response:
        match = KEY_FILTER.search(request.query_params.get("$filter", ""))
        if not match:
            return self._error(400, "ErrorInvalidUrlQueryFilter")
        value = match["value"].replace("''", "'")
        with self.lock:
            rows = [
                {"id": e["id"]}
                for e in self.live().values()
                for p in e.get("singleValueExtendedProperties", [])
                if p["id"] == match["id"] and p["value"] == value
            ]
        return JSONResponse({"value": rows})

    @gated
    async def one(self, request: Request) -> Response:
        event_id = request.path_params["id"]
        with self.lock:
            current = self.live().get(event_id)
            if current is None:
                return self._error(404, "ErrorItemNotFound")
            if request.method == "DELETE":
                self._change(event_id, {**current, "_deleted": True})
                return Response(status_code=204)
        patch = await request.json()
        with self.lock:
            stored = self._change(event_id, {**current, **patch})
        return JSONResponse(self._public(stored))

    @gated
    async def delta(self, request: Request) -> Response:
        q = request.query_params
        prefer = request.headers.get("prefer", "")
        size = int(m[1]) if (m := re.search(r"odata\.maxpagesize=(\d+)", prefer)) else 10
        base = str(request.url.replace(query=""))
        with self.lock:
            if skip := q.get("$skiptoken"):
                state = _untoken(skip)
            elif delta := q.get("$deltatoken"):
                parsed = _untoken(delta)
                if parsed is None or parsed["seq"] < self.token_floor:
                    return self._error(410, "SyncStateNotFound")
                state = {**parsed, "since": parsed["seq"], "upto": self.seq, "offset": 0}
            else:
                if not q.get("startDateTime") or not q.get("endDateTime"):
                    return self._error(400, "ErrorInvalidParameter")
                state = {"start": q["startDateTime"], "end": q["endDateTime"], "since": None, "upto": self.seq, "offset": 0}
            if state is None:
                return self._error(400, "ErrorInvalidParameter")
            since, upto, offset = state["since"], state["upto"], state["offset"]

            def in_window(e: dict[str, Any]) -> bool:
                start = e.get("start", {}).get("dateTime", "")[:19]
                return bool(state["start"][:19] <= start <= state["end"][:19])

            changed = sorted(
                (
                    e
                    for e in self.events.values()
                    if e["_seq"] <= upto and (since is None or e["_seq"] > since) and (e.get("_deleted") or in_window(e))
                ),
                key=lambda e: e["_seq"],
            )
            if since is None:
                changed = [e for e in changed if not e.get("_deleted")]
            items = [self._public(e) for e in changed[offset : offset + size]]
        body: dict[str, Any] = {"value": items}
        if offset + size < len(changed):
            body["@odata.nextLink"] = f"{base}?$skiptoken={_token({**state, 'offset': offset + size})}"
        else:
            token = _token({"start": state["start"], "end": state["end"], "seq": upto})
            body["@odata.deltaLink"] = f"{base}?$deltatoken={token}"
        return JSONResponse(body)

    def api_routes(self) -> list[Route]:
        return [
            Route("/v1.0/me/calendar", self.calendar),
            Route("/v1.0/me/calendars/{cal}", self.calendar),
            Route("/v1.0/me/calendar/events", self.create, methods=["POST"]),
            Route("/v1.0/me/calendars/{cal}/events", self.create, methods=["POST"]),
            Route("/v1.0/me/events", self.find),
            Route("/v1.0/me/events/{id}", self.one, methods=["PATCH", "DELETE"]),
            Route("/v1.0/me/calendarView/delta", self.delta),
            Route("/v1.0/subscriptions", self.subscribe, methods=["POST"]),
            Route("/v1.0/subscriptions/{id}", self.subscription, methods=["PATCH", "DELETE"]),
        ]


def _graph_times(start: str, end: str) -> dict[str, Any]:
    return {
        "start": {"dateTime": start.removesuffix("Z") + ".0000000", "timeZone": "UTC"},
        "end": {"dateTime": end.removesuffix("Z") + ".0000000", "timeZone": "UTC"},
        "isAllDay": False,
        "body": {"contentType": "text", "content": ""},
        "location": {"displayName": ""},
    }


def urls(name: str, base: str) -> dict[str, str]:
    api = {"google_calendar": f"{base}/calendar/v3", "outlook": f"{base}/v1.0"}[name]
    return {"authorize_url": f"{base}/oauth/authorize", "token_url": f"{base}/oauth/token", "base_url": api}
