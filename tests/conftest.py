"""Shared fixtures: real Azurite (one per run, or one per worker when run without ./hub test), a storage
prefix per test, and the real API served over loopback HTTP by uvicorn."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

from devfakes.launcher import Fakes, start_fakes
from devfakes.settings import make_settings
from integrations.wiring import Hub, build_hub, set_hub
from shared.settings import Settings
from tests import status_coverage
from tests.helpers import PUBLIC_BASE, ApiClient, serve


@pytest.fixture(scope="session")
def storage_connection() -> Iterator[str]:
    conn = os.environ.get("HUB_TEST_STORAGE")
    if conn:
        yield conn
        return
    from tools import azurite

    with azurite.start(in_memory=True) as store:
        yield store.connection_string


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    """The loopback fake providers; Fortnox's 5-second window scaled to 1 s to keep tests quick."""
    f = start_fakes(window_s=1.0)
    yield f
    f.stop()


@pytest.fixture
def settings(storage_connection: str, request: pytest.FixtureRequest) -> Settings:
    if "fakes" in request.fixturenames:
        f: Fakes = request.getfixturevalue("fakes")
        return make_settings(
            storage_connection,
            **f.hub_settings(),
            public_base_url=PUBLIC_BASE,
            provider_daily_quotas={"fortnox": f.fortnox.daily_quota},
            provider_rate_limits={"fortnox": {"requests": 25, "per_seconds": f.fortnox.window_s}},
        )
    return make_settings(storage_connection)


@pytest.fixture
def hub(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hub]:
    # The trigger bindings name app settings (%HUB_QUEUE_SYNC_JOBS%, AzureWebJobsStorage): point them here.
    monkeypatch.setenv("AzureWebJobsStorage", settings.storage_connection or "")
    monkeypatch.setenv("HUB_QUEUE_SYNC_JOBS", settings.queue_sync_jobs)
    monkeypatch.setenv("HUB_DUE_SYNCS_SCHEDULE", "0 * * * * *")
    monkeypatch.setenv("HUB_SUBSCRIPTIONS_SCHEDULE", "0 */10 * * * *")
    monkeypatch.setenv("HUB_KEY_ROTATION_SCHEDULE", "0 15 3 * * *")
    monkeypatch.setenv("HUB_QUEUE_WEBHOOK_EVENTS", settings.queue_webhook_events)
    monkeypatch.setenv("HUB_QUEUE_INTEGRATION_EVENTS", settings.queue_integration_events)
    monkeypatch.setenv("HUB_QUEUE_ALERT_WEBHOOKS", settings.queue_alert_webhooks)
    monkeypatch.setenv("HUB_QUEUE_WEBHOOK_DELIVERIES", settings.queue_webhook_deliveries)
    monkeypatch.setenv("HUB_QUEUE_EVENT_FANOUT", settings.queue_event_fanout)
    monkeypatch.setenv("HUB_QUEUE_EVENT_DELIVERIES", settings.queue_event_deliveries)
    monkeypatch.setenv("HUB_QUEUE_OUTBOUND_CALLS", settings.queue_outbound_calls)
    hub = build_hub(settings)
    set_hub(hub)
    yield hub
    set_hub(None)


@pytest.fixture
def api(hub: Hub, request: pytest.FixtureRequest) -> Iterator[str]:
    from integrations.api.app import create_api

    with serve(create_api(max_body=hub.settings.max_body_bytes, observe_status=status_coverage.observe)) as base_url:
        if "fakes" in request.fixturenames:
            for calendar in request.getfixturevalue("fakes").calendars.values():
                calendar.hub_urls[PUBLIC_BASE] = base_url  # change notifications reach this hub over loopback
            request.getfixturevalue("fakes").twitch.hub_urls[PUBLIC_BASE] = base_url  # EventSub messages too
        yield base_url


@pytest.fixture
def tenant() -> str:
    return "fed-" + secrets.token_hex(4)


@pytest.fixture
def admin(api: str, hub: Hub, tenant: str) -> ApiClient:
    from integrations.auth.principal import Scope

    key = hub.api_keys.issue(tenant_id=tenant, scopes=[Scope.integrations_admin], name="test-admin")
    return ApiClient(api, key.secret, tenant)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    worker = getattr(session.config, "workerinput", None)
    if worker is not None:
        status_coverage.write(worker["workerid"])
        return
    if os.environ.get("HUB_STATUS_COVERAGE") != "1" or exitstatus != 0:
        return
    missing, per_operation = status_coverage.gaps()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and per_operation:
        reporter.write_line(
            f"status coverage: {len(per_operation)} operations have documented codes no test produced "
            f"(information): " + "; ".join(f"{op} {sorted(c)}" for op, c in sorted(per_operation.items())[:12])
        )
    if missing:
        if reporter is not None:
            reporter.write_line(f"status coverage: documented status codes no test produced: {sorted(missing)}", red=True)
        session.exitstatus = 1
