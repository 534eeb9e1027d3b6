"""The app the Azure worker indexes: function names, triggers, routes, schedules, queues, connections."""

from __future__ import annotations

import json
import os

import function_app
from tools.runner import indexed_functions


def test_indexed_function_metadata() -> None:
    # The binding JSON exactly as the worker reads it.
    functions = {
        f.get_function_name(): json.loads(f.get_function_json())["bindings"] for f in indexed_functions(function_app.app)
    }
    assert set(functions) == {
        "http_api",
        "timer_due_syncs",
        "queue_sync_jobs",
        "queue_webhook_events",
        "queue_alert_webhooks",
        "queue_webhook_deliveries",
        "queue_event_fanout",
        "queue_event_deliveries",
        "queue_outbound_calls",
        "timer_subscriptions",
        "timer_key_rotation",
    }

    http_trigger = functions["http_api"][0]
    assert http_trigger["type"] == "httpTrigger" and http_trigger["route"] == "/{*route}"
    assert http_trigger["authLevel"] == "ANONYMOUS"  # the hub authenticates every route itself
    assert set(http_trigger["methods"]) >= {"GET", "POST", "PATCH", "DELETE", "PUT"}

    timer = functions["timer_due_syncs"][0]
    assert timer["type"] == "timerTrigger" and timer["schedule"] == "%HUB_DUE_SYNCS_SCHEDULE%"
    renewals = functions["timer_subscriptions"][0]
    assert renewals["type"] == "timerTrigger" and renewals["schedule"] == "%HUB_SUBSCRIPTIONS_SCHEDULE%"

    for name, setting in (
        ("queue_sync_jobs", "HUB_QUEUE_SYNC_JOBS"),
        ("queue_webhook_events", "HUB_QUEUE_WEBHOOK_EVENTS"),
        ("queue_alert_webhooks", "HUB_QUEUE_ALERT_WEBHOOKS"),
        ("queue_webhook_deliveries", "HUB_QUEUE_WEBHOOK_DELIVERIES"),
        ("queue_event_fanout", "HUB_QUEUE_EVENT_FANOUT"),
        ("queue_event_deliveries", "HUB_QUEUE_EVENT_DELIVERIES"),
        ("queue_outbound_calls", "HUB_QUEUE_OUTBOUND_CALLS"),
    ):
        trigger = functions[name][0]
        assert trigger["type"] == "queueTrigger"
        assert trigger["queueName"] == f"%{setting}%"  # an app setting, resolved by the host
        assert trigger["connection"] == "AzureWebJobsStorage"  # names a setting, never a literal


def test_http_function_wraps_our_api() -> None:
    asgi = function_app.app.middleware._app
    paths = set(asgi.openapi()["paths"]) | {asgi.openapi_url}
    assert "/api/v1/tenants/{tenant_id}/integrations" in paths
    assert "/api/openapi.json" in paths


def test_sample_settings_name_every_binding_setting() -> None:
    import json
    from pathlib import Path

    values = json.loads(Path("local.settings.sample.json").read_text())["Values"]
    for key in (
        "AzureWebJobsStorage",
        "HUB_DUE_SYNCS_SCHEDULE",
        "HUB_SUBSCRIPTIONS_SCHEDULE",
        "HUB_KEY_ROTATION_SCHEDULE",
        "HUB_QUEUE_SYNC_JOBS",
        "HUB_QUEUE_WEBHOOK_EVENTS",
        "FUNCTIONS_WORKER_RUNTIME",
    ):
        assert key in values
    assert os.path.exists("host.json")
