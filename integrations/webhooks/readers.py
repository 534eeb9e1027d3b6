"""What a verified delivery says, per provider: the events in it, each with the provider's id (the dedupe key;
a content hash where the provider gives none) and what its handler needs.

Deliveries are mostly pointers ("invoice X changed", "payment tr_… moved", an empty Google push): readers
extract ids and never trust amounts or statuses from an unsigned body — the handlers re-fetch. A body a
reader cannot parse raises MalformedDelivery: retried, then a dead letter with the reason (never dropped)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from integrations.webhooks.deliveries import WebhookDelivery


class MalformedDelivery(ValueError):
    pass


@dataclass(frozen=True)
class InboundEvent:
    id: str
    type: str
    data: dict[str, Any] = field(default_factory=dict)


Reader = Callable[[WebhookDelivery, bytes], list[InboundEvent]]


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        raise MalformedDelivery("the body is not JSON") from None


def _form(body: bytes) -> dict[str, str]:
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _hash(*parts: object) -> str:
    return hashlib.sha256("\0".join(map(str, parts)).encode()).hexdigest()[:32]


def stripe(delivery: WebhookDelivery, body: bytes) -> list[InboundEvent]:
    event = _json(body)
    try:
        obj = event["data"]["object"]
        kind, event_id = str(event["type"]), str(event["id"])
    except (KeyError, TypeError):
        raise MalformedDelivery("a Stripe event has id, type and data.object") from None
    data: dict[str, Any] = {}
    if kind.startswith("payment_intent.") and isinstance(obj, dict):
        data = {"payment_key": (obj.get("metadata") or {}).get("hub_key"), "provider_payment_id": obj.get("id")}
    return [InboundEvent(event_id, kind, data)]


def paypal(delivery: WebhookDelivery, body: bytes) -> list[InboundEvent]:
    """Order events name the order in `resource.id`; capture events in `supplementary_data.related_ids`."""
    event = _json(body)
    try:
        kind, event_id, resource = str(event["event_type"]), str(event["id"]), event["resource"]
    except (KeyError, TypeError):
        raise MalformedDelivery("a PayPal event has id, event_type and resource") from None
    related = ((resource.get("supplementary_data") or {}).get("related_ids") or {}) if isinstance(resource, dict) else {}
    order = related.get("order_id") or (resource.get("id") if kind.startswith("CHECKOUT.ORDER.") else None)
    return [InboundEvent(event_id, kind, {"provider_payment_id": order} if order else {})]


def mollie(delivery: WebhookDelivery, body: bytes) -> list[InboundEvent]:
    payment = _form(body).get("id", "")
    if not payment.startswith("tr_"):
        raise MalformedDelivery("a Mollie callback posts id=tr_…")
    return [InboundEvent(delivery.id, "payment.changed", {"provider_payment_id": payment})]


def swish(delivery: WebhookDelivery, body: bytes) -> list[InboundEvent]:
    callback = _json(body)
    if not isinstance(callback, dict) or not callback.get("id"):
        raise MalformedDelivery("a Swish callback carries the payment request's id")
    return [InboundEvent(delivery.id, "payment.changed", {"provider_payment_id": str(callback["id"])})]


def xero(delivery: WebhookDelivery, body: bytes) -> list[InboundEvent]:
    payload = _json(body)  # intent-to-receive: "events": [] — verified, nothing to do
    return [
        InboundEvent(
            _hash(e.get("resourceId"), e.get("eventCategory"), e.get("eventType"), e.get("eventDateUtc")),
            f"{e.get('eventCategory', '')}.{e.get('eventType', '')}".lower(),
            {"resource_id": e.get("resourceId")},
        )
        for e in (payload.get("events") or [] if isinstance(payload, dict) else [])
        if isinstance(e, dict)
    ]


def quickbooks(delivery: WebhookDelivery, body: bytes) -> list[InboundEvent]:
    payload = _json(body)
    events = []
    for notification in payload.get("eventNotifications") or [] if isinstance(payload, dict) else []:
        for entity in (notification.get("dataChangeEvent") or {}).get("entities") or []:
            events.append(
                InboundEvent(
                    _hash(notification.get("realmId"), entity.get("name"), entity.get("id"), entity.get("lastUpdated")),
                    f"{entity.get('name', '')}.{entity.get('operation', '')}".lower(),
                    {"resource_id": entity.get("id")},
                )
            )
    return events


def google_calendar(delivery: WebhookDelivery, body: bytes) -> list[InboundEvent]:
    if delivery.headers.get("x-goog-resource-state") == "sync":
        return []  # the channel was created: nothing changed yet
    channel, number = delivery.headers.get("x-goog-channel-id", ""), delivery.headers.get("x-goog-message-number", "")
    return [InboundEvent(f"{channel}:{number}" if number else delivery.id, "calendar.changed")]


def outlook(delivery: WebhookDelivery, body: bytes) -> list[InboundEvent]:
    payload = _json(body)
    return [
        InboundEvent(
            _hash(n.get("subscriptionId"), n.get("resource"), n.get("changeType"), n.get("lifecycleEvent")),
            str(n.get("lifecycleEvent") or f"calendar.{n.get('changeType', 'changed')}"),
        )
        for n in payload.get("value") or []
        if isinstance(n, dict)
    ]


def twilio(delivery: WebhookDelivery, body: bytes) -> list[InboundEvent]:
    form = _form(body)
    sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "")
    if not sid:
        raise MalformedDelivery("a Twilio status callback carries MessageSid")
    return [InboundEvent(f"{sid}:{status}", "message.status", {"message_sid": sid, "status": status})]


def records(id_fields: tuple[str, ...]) -> Reader:
    """A JSON record or array of records (EspoCRM batches, a Kobo submission): one event per record."""

    def read(delivery: WebhookDelivery, body: bytes) -> list[InboundEvent]:
        payload = _json(body)
        items = payload if isinstance(payload, list) else [payload]
        return [
            InboundEvent(_hash(*(item.get(f) for f in id_fields), json.dumps(item, sort_keys=True)), "record.changed")
            for item in items
            if isinstance(item, dict)
        ]

    return read


def twitch(delivery: WebhookDelivery, body: bytes) -> list[InboundEvent]:
    """EventSub: a notification is its subscription's type (`stream.online`/`stream.offline`, the channel and
    when it went live); a revocation says which subscription Twitch ended and why."""
    payload = _json(body)
    message_id = delivery.headers.get("twitch-eventsub-message-id") or delivery.id
    subscription = payload.get("subscription") or {} if isinstance(payload, dict) else {}
    if delivery.headers.get("twitch-eventsub-message-type") == "revocation":
        data = {"subscription_type": str(subscription.get("type", "")), "reason": str(subscription.get("status", ""))}
        return [InboundEvent(message_id, "subscription.revoked", data)]
    event = payload.get("event") or {} if isinstance(payload, dict) else {}
    kept = ("broadcaster_user_id", "broadcaster_user_login", "type", "started_at")
    return [
        InboundEvent(message_id, str(subscription.get("type") or "notification"), {k: event[k] for k in kept if k in event})
    ]


def one_event(delivery: WebhookDelivery, body: bytes) -> list[InboundEvent]:
    """Signed JSON notifications (Standard Webhooks, Meta, X): one event, id from the signed headers."""
    event_id = delivery.headers.get("webhook-id") or delivery.id
    payload = _json(body) if body else {}
    kind = str(payload.get("type") or "notification") if isinstance(payload, dict) else "notification"
    return [InboundEvent(event_id, kind)]


READERS: dict[str, Reader] = {
    "stripe": stripe,
    "paypal": paypal,
    "ideal": mollie,
    "swish": swish,
    "xero": xero,
    "quickbooks": quickbooks,
    "google_calendar": google_calendar,
    "outlook": outlook,
    "twilio": twilio,
    "espocrm": records(("id", "modifiedAt")),
    "kobo": records(("_uuid", "_id")),
    "twitch": twitch,
}


def read_events(delivery: WebhookDelivery, body: bytes) -> list[InboundEvent]:
    return READERS.get(delivery.provider, one_event)(delivery, body)
