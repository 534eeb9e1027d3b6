"""Overhead of the outbound client (egress policy + limiter + usage counting + retry wrapper) vs a bare requests.Session
call to the same loopback endpoint, same run. Target ≤ 1.2× p50."""

from __future__ import annotations

import requests
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench.common import fresh_hub, interleaved_p50, row
from devfakes.servers import loopback, serve
from integrations.documents.ref import IntegrationRef
from shared.http import Call, OutboundClient, Policy, Window


async def ok(_: object) -> JSONResponse:
    return JSONResponse({"ok": True})


def run(conn: str) -> dict[str, object]:
    hub = fresh_hub(conn)
    with serve(Starlette(routes=[Route("/ping", ok)])) as base:
        url = f"{base}/ping"
        bare = requests.Session()
        client = OutboundClient(egress=loopback(base))  # the egress check runs at every connect, as in production
        policy = Policy(
            provider="bench",
            limit_key="bench:1",
            window=Window(1_000_000, 1.0),
            on_attempt=lambda s, ms: hub.usage.record(
                ref=IntegrationRef("bench", "int_bench"), provider="bench", operation="ping", status=s, latency_ms=ms
            ),
        )
        raw, wrapped = interleaved_p50(lambda: bare.get(url), lambda: client.send(Call("GET", url), policy), n=1000)
        hub.usage.flush()
    return row("outbound client vs bare requests (p50)", f"{raw:.3f} ms", f"{wrapped:.3f} ms", wrapped / raw, "≤ 1.20")
