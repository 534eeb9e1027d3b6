"""Where quota alerts go: always the `alerts` queue; also the tenant's HTTPS webhook when configured.

The webhook is held to the egress policy when saved and again when called (the outbound transport connects only
to checked public addresses and follows no redirect off the origin). It is posted by its own queue function
(`queue_alert_webhooks`), never inside the minute timer: a slow receiver delays no one's syncs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pydantic import BaseModel, Field

from integrations.events import cloud_event
from shared.egress import EgressRefused
from shared.errors import FieldError, NotFound, ValidationFailed
from shared.http import Call, OutboundClient, Policy
from shared.queues import Queues
from shared.rows import Row, Rows
from shared.tables import Table

log = logging.getLogger("hub.alerts")
_ROW = "alerts"


class AlertSettings(BaseModel):
    webhook_url: str | None = Field(None, description="HTTPS URL receiving quota alerts as JSON (public hosts only).")
    threshold_pct: float = Field(80.0, ge=1, le=100, description="Alert when a period's usage crosses this %.")


class AlertRow(Row):
    """`PartitionKey = <tenant>`, `RowKey = "alerts"`: where quota alerts go and from which share of the quota."""

    webhook_url: str = Field(alias="WebhookUrl")  # "" when the tenant set none
    threshold_pct: float = Field(alias="ThresholdPct")


@dataclass(frozen=True)
class QuotaAlerts:
    table: Table  # tenantsettings
    queues: Queues
    outbound: OutboundClient
    alerts_queue: str
    webhooks_queue: str
    default_pct: Mapping[str, float]  # tenant → threshold when it set none (HUB_QUOTA_ALERT_PCT)
    ca_bundle: str | None = None  # the receivers' CA bundle (tests); None: the system's
    publish: Callable[[dict[str, Any]], None] | None = None  # the hub's events: the feed and tenants' endpoints

    @cached_property
    def _rows(self) -> Rows[AlertRow]:
        return Rows(self.table, AlertRow)

    def save(self, tenant_id: str, settings: AlertSettings) -> AlertSettings:
        if settings.webhook_url:
            try:
                self.outbound.egress.check_url(settings.webhook_url, schemes=("https",))
            except EgressRefused as exc:
                raise ValidationFailed("The webhook URL is not allowed.", [FieldError("/webhook_url", str(exc))]) from None
        row = AlertRow(
            partition=tenant_id, row=_ROW, webhook_url=settings.webhook_url or "", threshold_pct=settings.threshold_pct
        )
        self._rows.upsert(row)
        return settings

    def load(self, tenant_id: str) -> AlertSettings:
        found = self._rows.find(tenant_id, _ROW)
        if not found:
            return AlertSettings(threshold_pct=self.default_pct.get(tenant_id, 80.0))
        return AlertSettings(webhook_url=found[0].webhook_url or None, threshold_pct=found[0].threshold_pct)

    def deliver(self, tenant_id: str, event: dict[str, Any]) -> None:
        """Record the alert, publish it as a signed `quota.threshold` event (the tenant's event endpoints), and
        hand the legacy unsigned webhook post (if one is configured) to its own queue."""
        self.queues.send(self.alerts_queue, event)
        if self.publish is not None:
            self.publish(
                cloud_event(
                    "quota.threshold",
                    id=f"quota:{tenant_id}:{event.get('period')}:{event.get('period_key')}:{event.get('threshold_pct')}",
                    ref=tenant_id,
                    subject=f"quota/{event.get('period')}/{event.get('period_key')}",
                    data={k: v for k, v in event.items() if k != "type"},
                )
            )
        if self.load(tenant_id).webhook_url:
            self.queues.send(self.webhooks_queue, {"tenant_id": tenant_id, "event": event})

    def post_webhook(self, message: dict[str, Any]) -> bool:
        """The queue function's work: post one alert to the tenant's webhook as it is configured now."""
        tenant_id, event = message["tenant_id"], message["event"]
        url = self.load(tenant_id).webhook_url
        if not url:
            return False
        try:
            self.outbound.egress.check_static(url, schemes=("https",))  # the addresses: checked by the transport
            self.outbound.send(
                Call("POST", url, json=event, timeout_s=10, verify=self.ca_bundle or True),
                Policy(provider="tenant-webhook", max_attempts=3),
            )
        except (EgressRefused, NotFound) as exc:
            log.warning("alert webhook of %s not called: %s", tenant_id, exc)
            return False
        except Exception as exc:  # noqa: BLE001 - the alerts queue has the alert; a failing receiver must not loop
            log.warning("alert webhook of %s failed: %s", tenant_id, type(exc).__name__)
            return False
        return True
