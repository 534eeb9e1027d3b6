"""Event fan-out against its floor, same run: one event to a tenant's 100 endpoints on a loopback HTTPS receiver.

- measured: the fan-out queue function's work (`EventSender.fan_out`): the tenant's endpoints read, the event's
  marker row written, the event signed per Standard Webhooks with each endpoint's secret (read through the
  credentials' cached path) and POSTed (FANOUT_CONCURRENCY at once), each answer recorded on the endpoint's
  delivery row (one entity-group transaction) and the marker closed — until all 100 arrived and were recorded;
- baseline: a bare loop signing the same bytes with each endpoint's secret and `requests.post`-ing them over
  one keep-alive session (no storage at all).

The receiver runs in a process of its own (`bench/servers.py sink`), as tenant endpoints do: in the sender's
process it would take the GIL from the sender's threads and charge the receiver's work to the fan-out.

Target: ≤ 1.3× the bare loop. Both runs alternate, so machine noise hits both alike.
"""

from __future__ import annotations

import json
import time

import requests

from adapters.webhook_verifiers.standard_webhooks import sign
from bench.common import alternating_medians, fresh_hub, row
from bench.servers import spawn
from devfakes.servers import loopback
from devfakes.swish import SwishFake
from integrations.documents.ref import IntegrationRef
from integrations.events import cloud_event
from integrations.events_out.delivery import message_id
from shared.http import OutboundClient

ENDPOINTS = 100
ROUNDS = int(__import__("os").environ.get("FANOUT_ROUNDS", "5"))


def run(conn: str) -> dict[str, object]:
    hub = fresh_hub(conn)
    tenant = "bench-fed"
    certs = SwishFake.create()  # a test CA and a 127.0.0.1 server certificate
    ca = str(certs.ca_pem)
    with spawn("sink", str(certs.server_cert), str(certs.server_key), ready="/count", scheme="https", verify=ca) as base:
        session = requests.Session()

        def taken() -> int:
            return int(session.get(f"{base}/count", verify=ca, timeout=5).text)

        hub.outbound = OutboundClient(egress=loopback(base))
        hub.settings.alert_webhook_ca_bundle = str(certs.ca_pem)
        sender = hub.event_sender
        secrets = [sender.endpoints.create(tenant, f"{base}/e/{n}", [], "bench")[1] for n in range(ENDPOINTS)]
        urls = [f"{base}/e/{n}" for n in range(ENDPOINTS)]
        seq = iter(range(1_000_000))

        def event() -> dict[str, object]:
            n = next(seq)
            return cloud_event(
                "payment.succeeded",
                id=f"evt-{n}",
                ref=IntegrationRef(tenant, "int_1"),
                subject=f"payments/P{n}",
                data={"key": f"P{n}", "amount_minor": 45000, "currency": "SEK"},
            )

        def hub_fan_out() -> None:
            assert sender.fan_out({"event": event()}) == ENDPOINTS

        def bare_loop() -> None:
            e = event()
            body = json.dumps(e, separators=(",", ":")).encode()
            msg = message_id(e)
            for url, secret in zip(urls, secrets, strict=True):
                stamp = int(time.time())
                headers = {
                    "Content-Type": "application/json",
                    "webhook-id": msg,
                    "webhook-timestamp": str(stamp),
                    "webhook-signature": sign(secret, msg, stamp, body),
                }
                assert session.post(url, data=body, headers=headers, timeout=15, verify=ca).status_code == 204

        hub_fan_out()  # warm: connections, the secret cache
        bare_loop()
        measured, baseline = alternating_medians(hub_fan_out, bare_loop, rounds=ROUNDS)
        assert taken() == 2 * (ROUNDS + 1) * ENDPOINTS  # every POST of both arrived
    return row(
        f"event fan-out to {ENDPOINTS} endpoints (HTTPS loopback) vs a bare signed requests.post loop",
        f"{baseline * 1000:.0f} ms",
        f"{measured * 1000:.0f} ms",
        measured / baseline,
        "≤ 1.3",
        "marker row, POSTs 8 at once, half the outcomes written while the rest post; receiver in its own process",
    )
