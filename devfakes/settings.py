"""Settings for a hub on a private storage prefix (tests and benches share one Azurite this way)."""

from __future__ import annotations

import secrets

from shared.settings import Settings


def make_settings(conn: str, **overrides: object) -> Settings:
    prefix = "t" + secrets.token_hex(5)
    values: dict[str, object] = dict(
        environment="test",
        storage_connection=conn,
        table_prefix=prefix,
        sync_lease_s=3.0,
        queue_sync_jobs=f"{prefix}-sync-jobs",
        queue_webhook_events=f"{prefix}-webhook-events",
        queue_webhook_deliveries=f"{prefix}-webhook-deliveries",
        queue_integration_events=f"{prefix}-integration-events",
        queue_event_fanout=f"{prefix}-event-fanout",
        queue_event_deliveries=f"{prefix}-event-deliveries",
        queue_outbound_calls=f"{prefix}-outbound-calls",
        queue_alerts=f"{prefix}-alerts",
        queue_alert_webhooks=f"{prefix}-alert-webhooks",
        local_secret_key="test-local-secret-key",
        api_key_pepper="test-pepper",
        state_signing_key="test-state-key",
    )
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]
