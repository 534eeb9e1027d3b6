"""One trace id from the HTTP request through the queue message to the provider call; a 500 still carries
the rate-limit headers and leaks nothing."""

from __future__ import annotations

import requests
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import function_app
from devfakes.launcher import Fakes
from integrations.api.app import create_api
from integrations.wiring import Hub
from tests.helpers import FAST_QUEUES, ApiClient, active_fortnox, serve
from tools.runner import LocalRunner

EXPORTER = InMemorySpanExporter()


def _install() -> None:
    current = trace.get_tracer_provider()
    if not isinstance(current, TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
        trace.set_tracer_provider(provider)


def test_one_trace_from_http_through_queue_to_provider(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    _install()
    doc_id = active_fortnox(admin, fakes)
    EXPORTER.clear()
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    r = admin.post(
        f"{admin.integrations}/{doc_id}/syncs",
        json={"operation": "push_invoices"},
        headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"},
    )
    assert r.status_code == 202
    LocalRunner(function_app.app, queue_settings=FAST_QUEUES).queues["queue_sync_jobs"].drain(timeout=120)
    ours = [s for s in EXPORTER.get_finished_spans() if format(s.context.trace_id, "032x") == trace_id]
    names = {s.name for s in ours}
    assert {"HTTP POST", "sync job", "fortnox POST"} <= names, names
    job = next(s for s in ours if s.name == "sync job")
    assert job.parent is not None  # continued from the message's traceparent, not a new root
    assert job.attributes.get("hub.operation") == "push_invoices" and job.attributes.get("hub.tenant_id")
    pushes = [s for s in ours if s.name == "fortnox POST"]
    assert len(pushes) >= 142 and all(s.attributes.get("hub.provider") == "fortnox" for s in pushes)


def test_unexpected_error_is_a_clean_500_with_headers(hub: Hub) -> None:
    app = create_api(max_body=1024)

    def boom() -> None:
        raise RuntimeError("database password is hunter2-secret")

    app.add_api_route("/api/boom", boom, methods=["GET"])
    with serve(app) as base:
        r = requests.get(f"{base}/api/boom", timeout=10)
    assert r.status_code == 500 and r.headers["Content-Type"].startswith("application/problem+json")
    assert "hunter2" not in r.text and "X-RateLimit-Remaining" in r.headers and "RateLimit" in r.headers


def test_json_logs_carry_job_context_and_no_secrets(admin: ApiClient, fakes: Fakes, hub: Hub, caplog) -> None:  # type: ignore[no-untyped-def]
    import json
    import logging

    from shared.logs import JsonFormatter

    doc_id = active_fortnox(admin, fakes)
    run = admin.post(f"{admin.integrations}/{doc_id}/syncs", json={"operation": "push_invoices"}).json()
    formatter = JsonFormatter()
    lines: list[dict] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(json.loads(formatter.format(record)))

    handler = Capture(level=logging.INFO)
    logging.getLogger("hub").addHandler(handler)
    logging.getLogger("hub").setLevel(logging.INFO)
    try:
        LocalRunner(function_app.app, queue_settings=FAST_QUEUES).queues["queue_sync_jobs"].drain(timeout=120)
    finally:
        logging.getLogger("hub").removeHandler(handler)
    done = [entry for entry in lines if entry["logger"] == "hub.sync" and "succeeded" in entry["msg"]]
    assert done, lines
    assert done[0]["tenant_id"] == admin.tenant and done[0]["integration_id"] == doc_id and done[0]["run_id"] == run["id"]
    assert fakes.fortnox.client_secret not in json.dumps(lines)
