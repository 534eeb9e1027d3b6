"""Where quota alerts go: always the `alerts` queue; also the tenant's HTTPS webhook when configured
(SSRF-guarded when saved and again before each delivery)."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, Field

from shared.errors import FieldError, NotFound, ValidationFailed
from shared.http import Call, Policy
from shared.ssrf import check_public_https

log = logging.getLogger("hub.alerts")
_ROW = "alerts"


class AlertSettings(BaseModel):
    webhook_url: str | None = Field(None, description="HTTPS URL receiving quota alerts as JSON (public hosts only).")
    threshold_pct: float = Field(80.0, ge=1, le=100, description="Alert when a period's usage crosses this %.")


def save(hub: Any, tenant_id: str, settings: AlertSettings) -> AlertSettings:
    if settings.webhook_url:
        try:
            check_public_https(settings.webhook_url, allow_hosts=frozenset(hub.settings.alert_webhook_allow_hosts))
        except ValueError as exc:
            raise ValidationFailed("The webhook URL is not allowed.", [FieldError("/webhook_url", str(exc))]) from None
    hub.tables.table("tenantsettings").upsert(
        {
            "PartitionKey": tenant_id,
            "RowKey": _ROW,
            "WebhookUrl": settings.webhook_url or "",
            "ThresholdPct": settings.threshold_pct,
        }
    )
    return settings


def load(hub: Any, tenant_id: str) -> AlertSettings:
    found = hub.tables.table("tenantsettings").find(tenant_id, _ROW)
    if not found:
        return AlertSettings(threshold_pct=hub.settings.quota_alert_pct.get(tenant_id, 80.0))
    return AlertSettings(webhook_url=found[0]["WebhookUrl"] or None, threshold_pct=found[0]["ThresholdPct"])


def deliver(hub: Any, tenant_id: str, event: dict[str, Any]) -> None:
    hub.queues.send(hub.settings.queue_alerts, event)
    url = load(hub, tenant_id).webhook_url
    if not url:
        return
    try:
        check_public_https(url, allow_hosts=frozenset(hub.settings.alert_webhook_allow_hosts))
        hub.outbound.send(
            Call("POST", url, json=event, timeout_s=10, verify=hub.settings.alert_webhook_ca_bundle or True),
            Policy(provider="tenant-webhook", max_attempts=3),
        )
    except (ValueError, NotFound) as exc:
        log.warning("alert webhook of %s not called: %s", tenant_id, exc)
    except Exception as exc:  # noqa: BLE001 - the queue has the alert; a failing receiver must not break us
        log.warning("alert webhook of %s failed: %s", tenant_id, type(exc).__name__)
