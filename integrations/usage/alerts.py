"""Where quota alerts go: always the `alerts` queue; also the tenant's HTTPS webhook when configured.

The webhook is held to the egress policy when saved and again when called (the outbound transport connects only
to checked public addresses and follows no redirect off the origin). It is posted by its own queue function
(`queue_alert_webhooks`), never inside the minute timer: a slow receiver delays no one's syncs."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, Field

from integrations.table_names import TableName
from shared.egress import EgressRefused
from shared.errors import FieldError, NotFound, ValidationFailed
from shared.http import Call, Policy

log = logging.getLogger("hub.alerts")
_ROW = "alerts"


class AlertSettings(BaseModel):
    webhook_url: str | None = Field(None, description="HTTPS URL receiving quota alerts as JSON (public hosts only).")
    threshold_pct: float = Field(80.0, ge=1, le=100, description="Alert when a period's usage crosses this %.")


def save(hub: Any, tenant_id: str, settings: AlertSettings) -> AlertSettings:
    if settings.webhook_url:
        try:
            hub.outbound.egress.check_url(settings.webhook_url, schemes=("https",))
        except EgressRefused as exc:
            raise ValidationFailed("The webhook URL is not allowed.", [FieldError("/webhook_url", str(exc))]) from None
    hub.tables.table(TableName.tenantsettings).upsert(
        {
            "PartitionKey": tenant_id,
            "RowKey": _ROW,
            "WebhookUrl": settings.webhook_url or "",
            "ThresholdPct": settings.threshold_pct,
        }
    )
    return settings


def load(hub: Any, tenant_id: str) -> AlertSettings:
    found = hub.tables.table(TableName.tenantsettings).find(tenant_id, _ROW)
    if not found:
        return AlertSettings(threshold_pct=hub.settings.quota_alert_pct.get(tenant_id, 80.0))
    return AlertSettings(webhook_url=found[0]["WebhookUrl"] or None, threshold_pct=found[0]["ThresholdPct"])


def deliver(hub: Any, tenant_id: str, event: dict[str, Any]) -> None:
    """Record the alert, and hand the webhook post (if any) to its own queue."""
    hub.queues.send(hub.settings.queue_alerts, event)
    if load(hub, tenant_id).webhook_url:
        hub.queues.send(hub.settings.queue_alert_webhooks, {"tenant_id": tenant_id, "event": event})


def post_webhook(hub: Any, message: dict[str, Any]) -> bool:
    """The queue function's work: post one alert to the tenant's webhook as it is configured now."""
    tenant_id, event = message["tenant_id"], message["event"]
    url = load(hub, tenant_id).webhook_url
    if not url:
        return False
    try:
        hub.outbound.egress.check_static(url, schemes=("https",))  # the addresses: checked by the transport at connect
        hub.outbound.send(
            Call("POST", url, json=event, timeout_s=10, verify=hub.settings.alert_webhook_ca_bundle or True),
            Policy(provider="tenant-webhook", max_attempts=3),
        )
    except (EgressRefused, NotFound) as exc:
        log.warning("alert webhook of %s not called: %s", tenant_id, exc)
        return False
    except Exception as exc:  # noqa: BLE001 - the alerts queue has the alert; a failing receiver must not loop
        log.warning("alert webhook of %s failed: %s", tenant_id, type(exc).__name__)
        return False
    return True
