"""A tenant's endpoint for the hub's events, for `./hub run` and its walkthrough: HTTPS on loopback with a
certificate from the fakes' test CA (which the local hub is told to trust), keeping every delivery it receives
for `GET /received`. It verifies nothing itself: that is the integrator's code (the walkthrough verifies with
the `standardwebhooks` library, as a tenant would)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

KEPT = ("content-type", "webhook-id", "webhook-timestamp", "webhook-signature")


@dataclass
class TenantEndpointFake:
    received: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def receive(self, request: Request) -> Response:
        body = (await request.body()).decode()
        headers = {k: v for k, v in request.headers.items() if k in KEPT}
        with self.lock:
            self.received.append({"path": request.url.path, "headers": headers, "body": body})
        return Response(status_code=204)

    async def listing(self, request: Request) -> Response:
        with self.lock:
            return JSONResponse(list(self.received))

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/hooks/{name}", self.receive, methods=["POST"]),
                Route("/received", self.listing, methods=["GET"]),
            ]
        )
