"""Every CloudEvent the hub emits for a tenant, delivered to each of its endpoints that wants it: signed per
Standard Webhooks, at least once, retried on a schedule, logged per endpoint, replayable.

- `publish(event)`: the platform's feed (`integration-events`) and one fan-out message (`event-fanout`).
- `fan_out(event)` (queue function): a delivery row per wanting endpoint, then every first attempt side by
  side (FANOUT_CONCURRENCY at once), so a slow or failing endpoint delays no other. The rows share the tenant's
  partition, so they are written (and their outcomes recorded) in entity-group transactions of up to 100.
- an attempt POSTs the event's exact bytes with `webhook-id` (the message id — the receiver's dedupe key),
  `webhook-timestamp` and `webhook-signature` (`v1,<sig>`, two during a rotation). A 2xx ends it. Anything
  else is queued on `event-deliveries` with the next delay of RETRY_DELAYS_S, and `deliver(message)` (queue
  function) makes that attempt (the message completes: the schedule is ours, not the queue's). After the last
  attempt the delivery is `exhausted`, and an endpoint whose deliveries are exhausted with no success since it
  was created or re-enabled is disabled, with an `endpoint.disabled` event (to the platform's feed and the
  tenant's other endpoints).

The schedule (after the first attempt): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — 8 attempts over about
27.6 h, Svix's. Rows: `PartitionKey = <tenant>`, `RowKey = <endpoint id>|<message id>` (an endpoint's log is
one range of its tenant's partition).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, Field

from adapters.webhook_verifiers.standard_webhooks import sign
from integrations.events import cloud_event
from integrations.events_out.endpoints import EndpointStatus, EventEndpoint, EventEndpoints
from shared.egress import EgressRefused, blocked_reason
from shared.errors import Conflict, NotFound, PreconditionFailed
from shared.http import Call, OutboundClient, Policy
from shared.queues import Queues
from shared.redaction import REDACTOR
from shared.rows import Row, Rows
from shared.tables import Table, Write

log = logging.getLogger("hub.events_out")
RETRY_DELAYS_S = (5, 300, 1800, 7200, 18000, 36000, 36000)
ATTEMPTS = len(RETRY_DELAYS_S) + 1
TIMEOUT_S = 15.0
FANOUT_RECHECK_S = 5
MARKER = "~fanout|"  # the marker rows' keys: outside every endpoint's `ep_…|` range
OUTCOMES_EARLY = 50  # a fan-out this wide records these first outcomes before the rest are in
FANOUT_CONCURRENCY = 8  # first attempts one fan-out makes at once (remote endpoints answer in tens of ms)


class DeliveryState(StrEnum):
    pending = "pending"  # queued, or waiting for its next attempt
    succeeded = "succeeded"
    exhausted = "exhausted"  # every attempt failed


class DeliveryAttempt(BaseModel):
    at: datetime
    status_code: int | None = Field(None, description="The endpoint's answer (none: no answer).")
    error: str = ""


class EventDelivery(BaseModel):
    message_id: str = Field(description="`webhook-id`: the same for every attempt and replay of this event.")
    endpoint_id: str
    tenant_id: str
    event_type: str
    state: DeliveryState
    attempts: list[DeliveryAttempt] = Field(default_factory=list)
    next_attempt_at: datetime | None = None
    replays: int = Field(0, description="How often it was replayed (a replay starts a fresh schedule).")
    created_at: datetime
    event: dict[str, Any] = Field(description="The CloudEvent, as delivered.")


def message_id(event: dict[str, Any]) -> str:
    return "msg_" + hashlib.sha256(str(event.get("id", "")).encode()).hexdigest()[:24]


def tenant_of(event: dict[str, Any]) -> str | None:
    source = str(event.get("source", ""))  # /tenants/{tenant}[/integrations/{integration}]
    parts = source.split("/")
    return parts[2] if len(parts) > 2 and parts[1] == "tenants" else None


@dataclass(frozen=True)
class EventSender:
    endpoints: EventEndpoints
    log_table: Table
    queues: Queues
    outbound: OutboundClient
    events_queue: str  # the platform's feed
    fanout_queue: str
    deliveries_queue: str
    now: Callable[[], datetime]
    ca_bundle: str | None = None

    @cached_property
    def _log(self) -> Rows[LogRow]:
        return Rows(self.log_table, LogRow)

    @cached_property
    def _markers(self) -> Rows[MarkerRow]:
        return Rows(self.log_table, MarkerRow)

    # --- emitting -------------------------------------------------------------------------------------------
    def publish(self, event: dict[str, Any]) -> None:
        self.queues.send(self.events_queue, event)
        if tenant_of(event):
            self.queues.send(self.fanout_queue, {"event": event})

    def fan_out(self, message: dict[str, Any]) -> int:
        """Returns how many endpoints this run attempted."""
        event = message["event"]
        tenant = tenant_of(event)
        if tenant is None:
            return 0
        kind = str(event.get("type", ""))
        wanting = [e for e in self.endpoints.recent(tenant) if e.status == EndpointStatus.enabled and e.wants(kind)]
        if not wanting:
            return 0
        fresh = [_Claimed(endpoint, self._new_delivery(endpoint, event)) for endpoint in wanting]
        marker = MarkerRow(partition=tenant, row=f"{MARKER}{fresh[0].delivery.message_id}", state="running")
        # One marker row per event claims its fan-out: the first run writes each endpoint's row once, with its
        # first attempt's outcome. The same event again (emitted twice upstream, or this message redelivered)
        # finds the marker: done → nothing to send; a run still under way → this message waits for it;
        # a run that stopped (a crash) → the rows are claimed one by one, and only endpoints with no attempt
        # recorded are attempted (those the crash cut off before their row may get the webhook-id twice).
        now = self.now()
        marker.until = now + timedelta(seconds=TIMEOUT_S * (1 + len(wanting) // FANOUT_CONCURRENCY) + 30)
        try:
            marker_etag = self._markers.insert(marker)
            claimed, first = fresh, True
        except Conflict:
            found, marker_etag = self._markers.get(marker.partition, marker.row)
            if found.state == "done":
                return 0
            if found.until is not None and found.until > now:  # look again shortly: a run usually ends within a second
                self.queues.send(self.fanout_queue, message, delay_s=FANOUT_RECHECK_S)
                return 0
            claimed, first = self._claim(fresh), False
        # Each endpoint's first attempt is made here instead of through a queue message of its own: most
        # deliveries succeed at once, and a message per endpoint cost more storage round trips and a polling
        # delay before every first POST. A slow endpoint holds one worker for at most TIMEOUT_S.
        written: list[_Claimed] = []
        with ThreadPoolExecutor(max_workers=min(FANOUT_CONCURRENCY, max(1, len(claimed)))) as pool:
            body = _body(event)  # one event, the same bytes to every endpoint: serialised once
            attempts = pool.map(lambda c: self._attempt(c.endpoint, c.delivery, body), claimed)
            done: list[_Claimed] = []
            for n, (c, attempt) in enumerate(zip(claimed, attempts, strict=True), 1):
                self._record(c.delivery, attempt)
                done.append(c)
                # A first run records the first half's outcomes while the second half is still being posted (the
                # write overlaps the POSTs); a crash between leaves those rows, which a recovery does not resend.
                if first and n == OUTCOMES_EARLY and len(claimed) > OUTCOMES_EARLY:
                    written += self._insert_outcomes(done)
                    done = []
        written += self._insert_outcomes(done) if first else self._write_outcomes(done)
        for c in written:
            self._follow_up(c.endpoint, c.delivery)
        with contextlib.suppress(PreconditionFailed):  # another run recovering the same event finished first
            self._markers.replace(marker.model_copy(update={"state": "done"}), etag=marker_etag)
        return len(claimed)

    def _new_delivery(self, endpoint: EventEndpoint, event: dict[str, Any]) -> EventDelivery:
        return EventDelivery(
            message_id=message_id(event),
            endpoint_id=endpoint.id,
            tenant_id=endpoint.tenant_id,
            event_type=str(event.get("type", "")),
            state=DeliveryState.pending,
            created_at=self.now(),
            event=event,
        )

    def _claim(self, fresh: list[_Claimed]) -> list[_Claimed]:
        """The rows written before any attempt: batched; a batch that meets a row already there is done row
        by row, and a row already there is attempted only if no attempt was recorded on it."""
        claimed: list[_Claimed] = []
        for batch in _batches(fresh, self._entity):
            chunk = [c for c, _ in batch]
            try:
                etags = self.log_table.transact([Write("insert", entity) for _, entity in batch])
            except Conflict:
                claimed += [c for c in map(self._claim_one, chunk) if c is not None]
                continue
            for c, etag in zip(chunk, etags, strict=True):
                c.etag = etag or ""
                claimed.append(c)
        return claimed

    def _insert_outcomes(self, attempted: list[_Claimed]) -> list[_Claimed]:
        """The rows, each with its first attempt, batched; a row already there (another run recorded it) is
        left as it is and not followed up here."""
        written: list[_Claimed] = []
        for batch in _batches(attempted, self._entity):
            try:
                self.log_table.transact([Write("insert", entity) for _, entity in batch])
                written += [c for c, _ in batch]
            except Conflict:
                for c, entity in batch:
                    try:
                        self.log_table.insert(entity)
                        written.append(c)
                    except Conflict:
                        continue
        return written

    def _claim_one(self, c: _Claimed) -> _Claimed | None:
        try:
            c.etag = self.log_table.insert(self._entity(c.delivery))
            return c
        except Conflict:
            found, etag = self._load(c.delivery.tenant_id, c.delivery.endpoint_id, c.delivery.message_id)
        if found.state != DeliveryState.pending or found.attempts or found.replays:
            return None  # settled, or under way on its schedule
        return _Claimed(c.endpoint, found, etag)  # that fan-out stopped between the row and its attempt

    def _write_outcomes(self, claimed: list[_Claimed]) -> list[_Claimed]:
        """Each attempt recorded on its row (ETag-checked), batched; the ones written, to follow up."""
        written: list[_Claimed] = []
        for batch in _batches(claimed, self._entity):
            try:
                self.log_table.transact([Write("update", entity, etag=c.etag, replace=True) for c, entity in batch])
                written += [c for c, _ in batch]
            except PreconditionFailed:  # a replay took one over meanwhile: it schedules its own attempts
                for c, entity in batch:
                    try:
                        self.log_table.replace(entity, etag=c.etag)
                        written.append(c)
                    except PreconditionFailed:
                        continue
        return written

    @staticmethod
    def _entity(delivery: EventDelivery) -> dict[str, Any]:
        return LogRow.of(delivery).entity()

    def _enqueue(self, delivery: EventDelivery, *, delay_s: int) -> None:
        message = {
            "tenant_id": delivery.tenant_id,
            "endpoint_id": delivery.endpoint_id,
            "message_id": delivery.message_id,
            # Which attempt of which schedule this message is: a replay's fresh schedule ignores the old one's.
            "attempt": len(delivery.attempts),
            "replays": delivery.replays,
        }
        self.queues.send(self.deliveries_queue, message, delay_s=delay_s)

    # --- delivering -----------------------------------------------------------------------------------------
    def _load(self, tenant_id: str, endpoint_id: str, msg: str) -> tuple[EventDelivery, str]:
        found = self._log.find(tenant_id, f"{endpoint_id}|{msg}")
        if found is None:
            raise NotFound(f"No delivery {msg} to endpoint {endpoint_id}.")
        return found[0].delivery(), found[1]

    def deliver(self, message: dict[str, Any]) -> DeliveryState:
        tenant, endpoint_id, msg = message["tenant_id"], message["endpoint_id"], message["message_id"]
        delivery, etag = self._load(tenant, endpoint_id, msg)
        if delivery.state != DeliveryState.pending:
            return delivery.state  # a duplicate message: already settled
        if (message.get("attempt", 0), message.get("replays", 0)) != (len(delivery.attempts), delivery.replays):
            return delivery.state  # a message of an attempt already made, or of a schedule a replay replaced
        try:
            endpoint = self.endpoints.get(tenant, endpoint_id)
        except NotFound:
            return delivery.state  # the endpoint was deleted: nothing to send to
        if endpoint.status != EndpointStatus.enabled:
            return delivery.state  # kept pending: a replay after re-enabling sends it
        self._record(delivery, self._attempt(endpoint, delivery))
        try:
            self.log_table.replace(self._entity(delivery), etag=etag)
        except PreconditionFailed:
            return delivery.state  # a replay took it over meanwhile; it schedules its own attempts
        self._follow_up(endpoint, delivery)
        return delivery.state

    @staticmethod
    def _record(delivery: EventDelivery, attempt: DeliveryAttempt) -> None:
        """The attempt on the delivery: succeeded, exhausted, or pending with the time of the next."""
        delivery.attempts.append(attempt)
        if attempt.status_code is not None and 200 <= attempt.status_code < 300:
            delivery.state, delivery.next_attempt_at = DeliveryState.succeeded, None
        elif len(delivery.attempts) >= ATTEMPTS:
            delivery.state, delivery.next_attempt_at = DeliveryState.exhausted, None
        else:
            delivery.next_attempt_at = attempt.at + timedelta(seconds=RETRY_DELAYS_S[len(delivery.attempts) - 1])

    def _follow_up(self, endpoint: EventEndpoint, delivery: EventDelivery) -> None:
        """After the row is written: the next attempt queued, or the endpoint judged."""
        if delivery.state == DeliveryState.pending and delivery.next_attempt_at is not None:
            self._enqueue(delivery, delay_s=RETRY_DELAYS_S[len(delivery.attempts) - 1])
        if delivery.state == DeliveryState.exhausted:
            self._maybe_disable(endpoint)

    def _attempt(self, endpoint: EventEndpoint, delivery: EventDelivery, body: bytes | None = None) -> DeliveryAttempt:
        at = self.now()
        body = body if body is not None else _body(delivery.event)
        timestamp = int(at.timestamp())
        signatures = " ".join(
            sign(s, delivery.message_id, timestamp, body) for s in self.endpoints.signing_secrets(endpoint)
        )
        headers = {
            "Content-Type": "application/json",
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signatures,
        }
        try:
            status = self.outbound.post_status(
                Call("POST", endpoint.url, headers=headers, data=body, timeout_s=TIMEOUT_S, verify=self.ca_bundle or True),
                Policy(provider="event-endpoint", max_attempts=1),
                schemes=("https",),
            )
            return DeliveryAttempt(at=at, status_code=status)
        except EgressRefused as exc:
            return DeliveryAttempt(at=at, error=f"refused by the egress policy: {exc}")
        except Exception as exc:  # noqa: BLE001 - a failing receiver is recorded, never raised into the queue
            if refusal := blocked_reason(exc):
                return DeliveryAttempt(at=at, error=f"refused by the egress policy: {refusal}")
            return DeliveryAttempt(at=at, error=REDACTOR.excerpt(f"{type(exc).__name__}: {exc}", 300))

    def _maybe_disable(self, endpoint: EventEndpoint) -> None:
        """Sustained failure: no delivery succeeded since the endpoint was created or re-enabled."""
        since = endpoint.disabled_at or endpoint.created_at
        flt, params = _endpoint_range(endpoint.tenant_id, endpoint.id)
        rows = self._log.query(f"{flt} and State eq 'succeeded'", parameters=params)
        if any(r.created_at >= since for r in rows):
            return
        reason = f"every attempt of a delivery failed over {sum(RETRY_DELAYS_S) / 3600:.1f} h and none succeeded"
        disabled = self.endpoints.set_status(endpoint.tenant_id, endpoint.id, EndpointStatus.disabled, reason)
        log.warning("event endpoint %s of %s disabled: %s", endpoint.id, endpoint.tenant_id, reason)
        self.publish(
            cloud_event(
                "endpoint.disabled",
                id=f"endpoint-disabled:{endpoint.id}:{disabled.disabled_at.isoformat() if disabled.disabled_at else ''}",
                ref=endpoint.tenant_id,
                subject=f"event-endpoints/{endpoint.id}",
                data={"endpoint_id": endpoint.id, "url": endpoint.url, "reason": reason},
            )
        )

    # --- the log and replays --------------------------------------------------------------------------------
    def log(self, tenant_id: str, endpoint_id: str, *, state: DeliveryState | None = None) -> list[EventDelivery]:
        flt, params = _endpoint_range(tenant_id, endpoint_id)
        if state is not None:
            flt += " and State eq @state"
            params["state"] = state.value
        items = [r.delivery() for r in self._log.query(flt, parameters=params)]
        return sorted(items, key=lambda d: d.created_at)

    def replay(self, tenant_id: str, endpoint_id: str, msg: str) -> EventDelivery:
        """Send one delivery again: a fresh schedule of attempts, the same `webhook-id` (receivers dedupe)."""
        self.endpoints.get(tenant_id, endpoint_id)
        delivery, etag = self._load(tenant_id, endpoint_id, msg)
        delivery.state, delivery.attempts, delivery.next_attempt_at = DeliveryState.pending, [], None
        delivery.replays += 1
        try:
            self.log_table.replace(self._entity(delivery), etag=etag)
        except PreconditionFailed:
            raise Conflict(f"Delivery {msg} changed meanwhile; retry.") from None
        self._enqueue(delivery, delay_s=0)
        return delivery

    def replay_since(self, tenant_id: str, endpoint_id: str, since: datetime) -> int:
        """Every delivery to the endpoint created at or after `since`, sent again."""
        count = 0
        for delivery in self.log(tenant_id, endpoint_id):
            if delivery.created_at >= since:
                self.replay(tenant_id, endpoint_id, delivery.message_id)
                count += 1
        return count


class MarkerRow(Row):
    """`RowKey = <MARKER><message id>`: one event's fan-out claimed (`running` until `Until`, then `done`)."""

    state: Literal["running", "done"] = Field(alias="State")
    until: datetime | None = Field(None, alias="Until")


class LogRow(Row):
    """`RowKey = <endpoint>|<message id>`: one event's delivery to one endpoint, with every attempt (in `Body`);
    its state and creation time also as columns, for the log's filters."""

    state: DeliveryState = Field(alias="State")
    created_at: datetime = Field(alias="CreatedAt")
    body: str = Field(alias="Body")

    @classmethod
    def of(cls, delivery: EventDelivery) -> LogRow:
        return cls(
            partition=delivery.tenant_id,
            row=f"{delivery.endpoint_id}|{delivery.message_id}",
            state=delivery.state,
            created_at=delivery.created_at,
            body=delivery.model_dump_json(),
        )

    def delivery(self) -> EventDelivery:
        return EventDelivery.model_validate_json(self.body)


@dataclass
class _Claimed:
    """A delivery this fan-out attempts: its endpoint, and the row's ETag once written."""

    endpoint: EventEndpoint
    delivery: EventDelivery
    etag: str = ""


def _batches(
    claimed: list[_Claimed], entity: Callable[[EventDelivery], dict[str, Any]]
) -> Iterator[list[tuple[_Claimed, dict[str, Any]]]]:
    """Entity-group transactions of (delivery, its row) — each row serialised once: at most 100 writes and
    4 MiB; an event may be up to a 64 KiB property."""
    chunk: list[tuple[_Claimed, dict[str, Any]]] = []
    size = 0
    for c in claimed:
        row = entity(c.delivery)
        weight = len(row["Body"]) + 1024
        if chunk and (len(chunk) == 100 or size + weight > 3 * 1024 * 1024):
            yield chunk
            chunk, size = [], 0
        chunk.append((c, row))
        size += weight
    if chunk:
        yield chunk


def _endpoint_range(tenant_id: str, endpoint_id: str) -> tuple[str, dict[str, str]]:
    """One endpoint's rows: the `<endpoint>|` range of its tenant's partition ('}' sorts right after '|')."""
    return (
        "PartitionKey eq @pk and RowKey gt @lo and RowKey lt @hi",
        {"pk": tenant_id, "lo": f"{endpoint_id}|", "hi": f"{endpoint_id}}}"},
    )


def _body(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode()
