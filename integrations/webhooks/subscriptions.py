"""Change subscriptions the hub registers itself: a Google Calendar push channel or a Microsoft Graph
subscription for every active calendar integration that pulls events, so the calendar's changes arrive as
notifications (then the pull, coalesced) instead of waiting for the next scheduled run.

- `follow(document)` after every lifecycle transition: active and pulling → subscribed (created if missing);
  paused, decommissioned or no longer pulling → stopped at the provider and forgotten.
- `renew_due()` from the subscriptions timer: every subscription within its provider's `renew_before_s` of
  expiring is renewed (Graph: a PATCH of its expiry; Google: a new channel, then the old one stopped), and every
  one left `pending` or `failed` (a provider outage, a crash between the two writes) is tried again.

The secret the provider echoes back (Google's channel token, Graph's clientState) is the integration's
`webhook_secret_ref`, the same one the receiver verifies against; when the tenant set none, the hub makes one
(stored like any credential: audited, rotatable). A failure never fails the transition that asked for it: it
is recorded on the row (`GET …/webhook-subscription`), announced once as `subscription.failed`, and the timer
tries again. One row per integration: `PartitionKey = <tenant>|<integration>`, `RowKey = "watch"`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Any

from pydantic import BaseModel, Field

from adapters import capabilities as can
from adapters.base import Adapter
from adapters.calendar import Watch
from adapters.catalog import Catalog
from integrations.credentials import Credentials
from integrations.documents.common import LifecycleStatus
from integrations.documents.document import IntegrationDocument
from integrations.documents.ref import IntegrationRef, OfIntegration
from integrations.events import cloud_event
from integrations.repository import IntegrationRepository
from integrations.sync.operations import offered
from shared.errors import NotFound
from shared.leases import Leases
from shared.redaction import REDACTOR
from shared.rows import Row, Rows
from shared.tables import Table

log = logging.getLogger("hub.subscriptions")
CAPABILITY = "watch_changes"  # the catalog capability; the adapter satisfies can.ChangeWatch
SLOT = "webhook_secret_ref"
ROW = "watch"
EXCLUSIVE_S = 60.0


class SubscriptionStatus(StrEnum):
    pending = "pending"  # being created (or its creation crashed: the timer tries again)
    active = "active"
    failed = "failed"  # the last try failed; the timer tries again


class ChangeSubscription(BaseModel, OfIntegration):
    tenant_id: str
    integration_id: str
    provider: str
    status: SubscriptionStatus
    watch_id: str | None = Field(None, description="The provider's channel or subscription id.")
    resource_id: str | None = Field(None, description="Google's resourceId for the channel.")
    expires_at: datetime | None = None
    created_at: datetime
    renewed_at: datetime | None = None
    last_error: str | None = Field(None, description="Why the last try failed (redacted, bounded).")

    @property
    def watch(self) -> Watch | None:
        return Watch(self.watch_id, self.resource_id, self.expires_at) if self.watch_id and self.expires_at else None


class SubscriptionRow(Row):
    """`Status` and `ExpiresAt` beside the JSON: the renewal timer's query filters on them."""

    status: SubscriptionStatus = Field(alias="Status")
    expires_at: datetime = Field(alias="ExpiresAt")
    meta: str = Field(alias="Meta")

    @classmethod
    def of(cls, sub: ChangeSubscription) -> SubscriptionRow:
        expires = sub.expires_at or sub.created_at
        return cls(partition=sub.ref.partition, row=ROW, status=sub.status, expires_at=expires, meta=sub.model_dump_json())

    def subscription(self) -> ChangeSubscription:
        return ChangeSubscription.model_validate_json(self.meta)


@dataclass(frozen=True)
class ChangeSubscriptions:
    table: Table
    integrations: IntegrationRepository
    catalog: Catalog
    credentials: Credentials
    leases: Leases
    adapter_for: Callable[[Any], Adapter[Any]]
    set_secret_ref: Callable[[IntegrationRef, str], None]  # the secret reference, recorded on the document
    publish: Callable[[dict[str, Any]], None]
    now: Callable[[], datetime]

    def wanted(self, document: IntegrationDocument) -> bool:
        if document.status != LifecycleStatus.active:
            return False
        spec = self.catalog.get(document.provider)
        if CAPABILITY not in spec.capabilities:
            return False
        return spec.webhook.subscribe == "while_active" or any(op.on_change for op in offered(document, spec.capabilities))

    @cached_property
    def _rows(self) -> Rows[SubscriptionRow]:
        return Rows(self.table, SubscriptionRow)

    def get(self, ref: IntegrationRef) -> ChangeSubscription | None:
        found = self._rows.find(ref.partition, ROW)
        return found[0].subscription() if found else None

    def _save(self, sub: ChangeSubscription) -> None:
        self._rows.upsert(SubscriptionRow.of(sub))

    # --- after a transition ---------------------------------------------------------------------------------
    def follow(self, document: IntegrationDocument) -> ChangeSubscription | None:
        if CAPABILITY not in self.catalog.get(document.provider).capabilities:
            return None  # most writes: no lease, no read
        with self.leases.held(document.ref.lease("watch"), ttl_s=EXCLUSIVE_S, wait_s=EXCLUSIVE_S):
            current = self.get(document.ref)
            if not self.wanted(document):
                if current is not None:
                    self._remove(document, current)
                return None
            if current is not None and current.status == SubscriptionStatus.active:
                return current
            return self._subscribe(document, current)

    def _subscribe(self, document: IntegrationDocument, current: ChangeSubscription | None) -> ChangeSubscription:
        spec = self.catalog.get(document.provider).webhook
        now = self.now()
        sub = ChangeSubscription(
            tenant_id=document.tenant_id,
            integration_id=document.id,
            provider=document.provider,
            status=SubscriptionStatus.pending,
            created_at=now,
        )
        self._save(sub)  # first: a crash after the provider said yes leaves a row the timer finishes
        try:
            adapter: can.ChangeWatch = self.adapter_for(document)  # type: ignore[assignment]
            expires = now + timedelta(seconds=spec.subscription_ttl_s or 86400)
            watch = adapter.watch_changes(self._secret(document), expires)
        except Exception as exc:
            return self._failed(sub, exc, already=current is not None and current.status == SubscriptionStatus.failed)
        sub.status, sub.watch_id, sub.resource_id, sub.expires_at = (
            SubscriptionStatus.active,
            watch.id,
            watch.resource_id,
            watch.expires_at,
        )
        self._save(sub)
        log.info("subscribed to %s changes for %s until %s", document.provider, document.id, watch.expires_at)
        return sub

    def _secret(self, document: IntegrationDocument) -> str:
        if getattr(document.credentials, SLOT, None):
            return self.credentials.resolve(document, SLOT, operation="webhook.subscribe")
        value = secrets.token_urlsafe(32)
        stored = self.credentials.put(document.ref, SLOT, value, actor="hub", reason="subscription")
        self.set_secret_ref(document.ref, stored.ref)
        return value

    def _failed(self, sub: ChangeSubscription, exc: Exception, *, already: bool) -> ChangeSubscription:
        sub.status, sub.last_error = SubscriptionStatus.failed, REDACTOR.error(exc, 500)
        self._save(sub)
        log.warning("change subscription for %s failed: %s", sub.integration_id, sub.last_error)
        if not already:  # announced once per failure, not on every timer tick
            self.publish(
                cloud_event(
                    "subscription.failed",
                    id=f"subscription-{sub.integration_id}-{sub.created_at.isoformat()}",
                    ref=sub.ref,
                    subject="webhook-subscription",
                    data={"provider": sub.provider, "error": sub.last_error},
                )
            )
        return sub

    def _remove(self, document: IntegrationDocument, sub: ChangeSubscription) -> None:
        watch = sub.watch
        if watch is not None:
            try:
                adapter: can.ChangeWatch = self.adapter_for(document)  # type: ignore[assignment]
                adapter.stop_watch(watch)
            except Exception as exc:  # it expires on its own; its notifications meet a paused integration
                log.warning("could not stop %s's %s subscription: %s", sub.integration_id, sub.provider, exc)
        self.table.delete(sub.ref.partition, ROW)

    # --- the timer ------------------------------------------------------------------------------------------
    def renew_due(self) -> int:
        """Renew what expires soon and retry what is not active; returns how many were touched."""
        horizon = self.now() + timedelta(seconds=max(s.webhook.renew_before_s for s in self.catalog.all()))
        rows = self._rows.query(
            "RowKey eq @row and (Status ne 'active' or ExpiresAt le @horizon )",  # the SDK: a space before ')'
            parameters={"row": ROW, "horizon": horizon},
        )
        touched = 0
        for row in rows:
            sub = row.subscription()
            try:
                if self._renew(sub):
                    touched += 1
            except Exception:  # one integration's trouble never stops the others' renewals
                log.exception("renewing %s's subscription failed", sub.integration_id)
        return touched

    def _renew(self, sub: ChangeSubscription) -> bool:
        with self.leases.held(sub.ref.lease("watch"), ttl_s=EXCLUSIVE_S, wait_s=EXCLUSIVE_S):
            current = self.get(sub.ref)
            if current is None:
                return False
            try:
                document = self.integrations.get(sub.ref).document
            except NotFound:
                self.table.delete(sub.ref.partition, ROW)
                return True
            if not self.wanted(document):
                self._remove(document, current)
                return True
            watch, spec = current.watch, self.catalog.get(document.provider).webhook
            if current.status != SubscriptionStatus.active or watch is None:
                self._subscribe(document, current)
                return True
            if watch.expires_at - self.now() > timedelta(seconds=spec.renew_before_s):
                return False  # another provider's horizon brought it here
            try:
                adapter: can.ChangeWatch = self.adapter_for(document)  # type: ignore[assignment]
                renewed = adapter.renew_watch(
                    watch, self._secret(document), self.now() + timedelta(seconds=spec.subscription_ttl_s or 86400)
                )
            except Exception as exc:
                if watch.expires_at <= self.now():
                    self._failed(current, exc, already=False)  # lapsed: the next tick subscribes afresh
                else:
                    current.last_error = REDACTOR.error(exc, 500)  # still live: the next tick renews again
                    self._save(current)
                return True
            current.watch_id, current.resource_id, current.expires_at = renewed.id, renewed.resource_id, renewed.expires_at
            current.renewed_at, current.last_error = self.now(), None
            self._save(current)
            return True
