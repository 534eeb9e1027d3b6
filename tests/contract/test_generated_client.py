"""The SDK cannot drift from the server: the Python client is generated from the committed contract in the
suite (no generator warnings allowed) and drives the Fortnox story against the running hub — typed models in,
typed models out, errors as the spec's Problem."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
import requests

import function_app
from devfakes.launcher import Fakes
from tests.helpers import FAST_QUEUES, PUBLIC_BASE, ApiClient, invoices
from tools.client import generate
from tools.runner import LocalRunner


@pytest.fixture(scope="module")
def hub_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    out = generate(tmp_path_factory.mktemp("client"))  # raises on any generator warning
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("hub_client")
    finally:
        sys.path.remove(str(out))


def api(name: str) -> Any:
    return importlib.import_module(f"hub_client.api.{name}")


def test_the_fortnox_story_through_the_generated_client(admin: ApiClient, fakes: Fakes, hub_client: ModuleType) -> None:
    models = importlib.import_module("hub_client.models")
    key = admin.session.headers["Authorization"].removeprefix("Bearer ")
    client = hub_client.AuthenticatedClient(base_url=admin.base_url, token=key, raise_on_unexpected_status=True)
    tenant, fake = admin.tenant, fakes.fortnox

    body = models.AccountingIntegrationCreate.from_dict(
        {
            "family": "accounting",
            "provider": "fortnox",
            "display_name": "Fortnox (finance)",
            "sandbox": True,
            "oauth_client_id": fake.client_id,
            "config": {
                "fiscal_year": {"year": 2026},
                "sync_direction": "push",
                "chart_of_accounts": {"license_fees": "3010", "tournament_fees": "3020"},
            },
        }
    )
    created = api("integrations.create_integration").sync(tenant, client=client, body=body)
    assert isinstance(created, models.AccountingIntegration) and created.status.value == "draft"
    doc_id = created.id

    stored = api("credentials.put_credential").sync(
        tenant, doc_id, "oauth_client_secret_ref", client=client, body=models.SecretIntake(value=fake.client_secret)
    )
    assert isinstance(stored, models.StoredCredentialOut) and "value" not in stored.to_dict()
    start = api("credentials.start_o_auth").sync(tenant, doc_id, client=client)
    assert isinstance(start, models.OAuthStart)
    consent = requests.get(start.authorize_url, allow_redirects=False, timeout=10)  # the fake's consent screen
    callback = consent.headers["Location"].replace(PUBLIC_BASE, admin.base_url)
    assert requests.get(callback, cookies={start.binding_cookie: start.binding}, timeout=30).status_code == 200

    validated = api("integrations.validate_integration").sync(tenant, doc_id, client=client)
    assert isinstance(validated, models.ValidationResponse) and validated.result.passed
    active = api("integrations.activate_integration").sync(tenant, doc_id, client=client)
    assert isinstance(active, models.AccountingIntegration) and active.status.value == "active"

    batch = models.InvoiceBatch.from_dict({"invoices": invoices(142)})
    taken = api("records.enqueue_invoices").sync(tenant, doc_id, client=client, body=batch)
    assert isinstance(taken, models.OutboxResult) and taken.created == 142
    run = api("syncs.trigger_sync").sync(
        tenant, doc_id, client=client, body=models.TriggerSync.from_dict({"operation": "push_invoices"})
    )
    assert isinstance(run, models.SyncRun)
    LocalRunner(function_app.app, queue_settings=FAST_QUEUES).queues["queue_sync_jobs"].drain(timeout=120)
    done = api("syncs.get_sync_run").sync(tenant, doc_id, run.id, client=client)
    assert isinstance(done, models.SyncRun) and done.status.value == "succeeded" and done.created == 142

    usage = api("usage.get_integration_usage").sync(tenant, doc_id, client=client)
    assert isinstance(usage, models.UsageReport)
    push = usage.by_operation["sync.push_invoice"]
    assert (push.requests, push.errors) == (142, 0)

    listed = api("integrations.list_integrations").sync(tenant, client=client)
    assert [i.id for i in listed.items] == [doc_id]

    # an error is the contract's Problem, field by field
    bad = api("integrations.create_integration").sync(
        tenant, client=client, body=models.AccountingIntegrationCreate.from_dict({**body.to_dict(), "display_name": ""})
    )
    assert isinstance(bad, models.Problem) and bad.status == 422 and bad.errors
