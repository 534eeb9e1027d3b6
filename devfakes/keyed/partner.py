"""An LMS partner API (Cornerstone/Consio as configured): enrollments PUT by key, with an outage switch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devfakes.keyed.base import GOOD, KeyedBase


@dataclass
class PartnerFake(KeyedBase):
    partner_enrollments: dict[str, dict[str, Any]] = field(default_factory=dict)
    partner_down: bool = False
    partner_puts: int = 0

    def routes(self) -> list[Route]:
        return [
            Route("/partner/enrollments", self.partner),
            Route("/partner/enrollments/{key}", self.partner, methods=["PUT"]),
        ]

    async def partner(self, request: Request) -> Response:
        """The hub's proposed partner contract (Cornerstone/Consio when a contract provides an API)."""
        self._count("partner")
        if self.partner_down:
            return Response(status_code=503)
        if request.headers.get("authorization") != f"Bearer {GOOD['partner']}":
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        if request.method == "GET":
            return JSONResponse({"items": list(self.partner_enrollments.values())[:1]})
        with self.lock:
            self.partner_puts += 1
            self.partner_enrollments[request.path_params["key"]] = await request.json()
        return JSONResponse({"key": request.path_params["key"]})
