"""Traces and metrics (OpenTelemetry). One trace spans HTTP request → queue message → provider call:
the edge extracts/starts the request span, queue senders inject `traceparent` into the message, the queue
functions continue from it, and the outbound client injects it into provider requests.

Exporters: Azure Monitor when APPLICATIONINSIGHTS_CONNECTION_STRING is set and azure-monitor-opentelemetry is
installed; otherwise the API's no-op provider (tests install an in-memory exporter).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import metrics, propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

log = logging.getLogger("hub.telemetry")
tracer = trace.get_tracer("integration-hub")
meter = metrics.get_meter("integration-hub")

provider_calls = meter.create_counter("hub.provider.calls", description="Outbound provider call attempts")
provider_throttles = meter.create_counter("hub.provider.throttled", description="429 answers from providers")
token_refreshes = meter.create_counter("hub.token.refreshes", description="OAuth token refreshes")
sync_runs = meter.create_counter("hub.sync.runs", description="Finished sync runs by status")
# Rotations by kind (signing_key, api_key) and outcome (rotated, failed): the seed's success rate (>= 99.9 %).
key_rotations = meter.create_counter("hub.key.rotations", description="Scheduled and manual key rotations by outcome")
anonymous_denials = meter.create_counter(
    "hub.api.anonymous_denials", description="Requests refused before any credential was proven, by reason"
)
_configured = False


def configure() -> None:
    """Once per process: Azure Monitor if configured, else leave the no-op providers in place."""
    global _configured
    if _configured:
        return
    _configured = True
    if os.environ.get("APPLICATIONINSIGHTS_CONNECTION_STRING"):
        try:
            from azure.monitor.opentelemetry import configure_azure_monitor
        except ImportError:
            log.warning("APPLICATIONINSIGHTS_CONNECTION_STRING is set but azure-monitor-opentelemetry is missing")
            return
        configure_azure_monitor()


def context_from(carrier: Mapping[str, str] | None) -> Context:
    return propagate.extract(dict(carrier or {}))


def inject(carrier: dict[str, Any]) -> dict[str, Any]:
    propagate.inject(carrier)
    return carrier


@contextmanager
def span(
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    parent: Context | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[Span]:
    with tracer.start_as_current_span(
        name, context=parent, kind=kind, attributes={k: v for k, v in (attributes or {}).items() if v is not None}
    ) as s:
        try:
            yield s
        except Exception as exc:
            s.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise
