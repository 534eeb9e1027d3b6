"""The review's low-severity findings (7), each refused with a clear problem and never a 500."""

from __future__ import annotations

import json

import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from integrations.auth.principal import Scope
from integrations.documents.ref import IntegrationRef
from integrations.wiring import Hub
from tests.helpers import ApiClient, fortnox


def test_deeply_nested_json_is_a_400(admin: ApiClient) -> None:
    doc = admin.create(fortnox(admin.tenant))
    deep = '{"display_name": "x", "config": ' + '{"a": ' * 1000 + "1" + "}" * 1001
    r = admin.request(
        "PATCH", f"{admin.integrations}/{doc['id']}", data=deep, headers={"Content-Type": "application/merge-patch+json"}
    )
    assert r.status_code == 400 and r.headers["Content-Type"].startswith("application/problem+json"), r.text


def test_a_chunked_body_over_the_limit_is_a_413(admin: ApiClient, hub: Hub) -> None:
    def chunks():  # no Content-Length: requests sends Transfer-Encoding: chunked
        for _ in range(hub.settings.max_body_bytes // 1000 + 2):
            yield b" " * 1000

    r = admin.post(admin.integrations, data=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413, r.text


def test_control_characters_and_non_finite_numbers_are_field_errors(admin: ApiClient) -> None:
    r = admin.post(admin.integrations, json=fortnox(admin.tenant, display_name="Fort\x00nox"))
    assert r.status_code == 422 and r.json()["errors"] == [
        {"pointer": "/display_name", "message": "must not contain control characters"}
    ], r.text
    doc = admin.create(fortnox(admin.tenant))
    for amount in ("Infinity", "NaN", "1e999", "-Infinity"):
        body = (
            '{"invoices": [{"key": "I-1", "customer_number": "1", "invoice_date": "2026-11-25", "currency": "SEK",'
            ' "lines": [{"category": "license_fees", "description": "L", "amount": ' + amount + "}]}]}"
        )
        r = admin.post(
            f"{admin.integrations}/{doc['id']}/outbox/invoices", data=body, headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 422, (amount, r.text)
        assert r.json()["errors"][0]["pointer"] == "/invoices/0/lines/0/amount"


def test_correlation_ids_must_be_safe_tokens(admin: ApiClient) -> None:
    for bad in ("abc\x7fdef", "<script>", "a b", "x" * 65):
        r = requests.get(admin.base_url + admin.integrations, headers={**admin.session.headers, "X-Correlation-Id": bad})
        assert r.headers["X-Correlation-Id"] != bad and len(r.headers["X-Correlation-Id"]) == 32
    ok = requests.get(admin.base_url + admin.integrations, headers={**admin.session.headers, "X-Correlation-Id": "job-42.a"})
    assert ok.headers["X-Correlation-Id"] == "job-42.a"


def test_small_rsa_assertion_keys_are_refused(admin: ApiClient, hub: Hub) -> None:
    key = hub.api_keys.issue(tenant_id=admin.tenant, scopes=[Scope.integrations_read], name="m2m")
    small = json.loads(RSAAlgorithm.to_jwk(rsa.generate_private_key(65537, 1024).public_key()))
    r = admin.request("PUT", f"/api/v1/tenants/{admin.tenant}/api-keys/{key.key_id}/jwks", json={"keys": [small]})
    assert r.status_code == 422 and "2048" in r.text and r.json()["errors"][0]["pointer"] == "/keys/0"


def test_the_spec_documents_problem_json_for_every_error() -> None:
    from tools.openapi import current_spec

    spec = current_spec()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for code, response in operation["responses"].items():
                if code[0] in "45" and response.get("content"):
                    assert list(response["content"]) == ["application/problem+json"], (method, path, code)
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_cached_secret_reads_are_audited_in_aggregate(hub: Hub, tenant: str) -> None:
    stored = hub.credentials.put(IntegrationRef(tenant, "int_" + "a" * 24), "api_key_ref", "value-123456", actor="t")
    for _ in range(5):
        hub.credentials.resolve_ref(tenant, "int_" + "a" * 24, stored.ref, slot="api_key_ref", operation="probe")
    assert hub.credentials.flush_cached_reads() == 1
    reads = [
        json.loads(r["Target"]) if isinstance(r.get("Target"), str) else r
        for r in hub.tables.table("audit").query("PartitionKey eq @t", parameters={"t": tenant})
        if r.get("Action") == "secret.read"
    ]
    assert any(r.get("cached") and r.get("count") == 4 for r in reads), reads
