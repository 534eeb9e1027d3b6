"""A loopback ADAMS speaking adapters/contracts/adams.openapi.yaml: signed requests only (the signed-REST
partners' verification, key id = the organisation code), one whereabouts filing per athlete and quarter, one
TUE application and one notification per key however often they are sent, and test results a doping control
lab records (`record_result`), listed from `since`, oldest first, paged."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devfakes.signed_partner import SignedPartnerFake


@dataclass
class AdamsFake(SignedPartnerFake):
    organizations: set[str] = field(default_factory=set)
    filings: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    tues: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    notifications: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    results: list[dict[str, Any]] = field(default_factory=list)
    puts: int = 0

    def register(self, org: str, public_key: Any) -> None:
        self.organizations.add(org)
        self.public_keys[org] = public_key

    def record_result(self, sample_id: str, athlete_id: str, outcome: str = "negative") -> None:
        with self.lock:
            self.results = [r for r in self.results if r["sample_id"] != sample_id]
            self.results.append(
                {
                    "sample_id": sample_id,
                    "athlete_id": athlete_id,
                    "collected_on": "2026-11-20",
                    "outcome": outcome,
                    "lab": "Stockholm",
                    "recorded_at": datetime.now(UTC).isoformat(),
                }  # fmt: skip
            )

    async def _checked(self, request: Request) -> bytes | Response:
        verified = await self._verified(request)
        if isinstance(verified, Response):
            return verified
        if request.path_params["org"] not in self.organizations:
            return JSONResponse({"title": "unknown organization"}, status_code=404)
        return verified

    def _put(self, store: dict[Any, Any], key: tuple[str, ...], body: dict[str, Any], id_field: str) -> Response:
        with self.lock:
            self.puts += 1
            current = store.get(key)
            value = current[id_field] if current else f"{id_field[:3]}-{secrets.token_hex(5)}"
            store[key] = {**body, id_field: value, "status": current.get("status", "submitted") if current else "submitted"}
        return JSONResponse({id_field: value}, status_code=200 if current else 201)

    async def organization(self, request: Request) -> Response:
        if isinstance(checked := await self._checked(request), Response):
            return checked
        return JSONResponse({"organization_code": request.path_params["org"]})

    async def whereabouts(self, request: Request) -> Response:
        if isinstance(checked := await self._checked(request), Response):
            return checked
        org, athlete, quarter = (request.path_params[k] for k in ("org", "athlete", "quarter"))
        body = json.loads(checked)
        if body.get("athlete_id") != athlete or body.get("quarter") != quarter or not body.get("slots"):
            return JSONResponse({"errors": ["athlete_id and quarter must match the path; slots are required"]}, 422)
        return self._put(self.filings, (org, athlete, quarter), body, "filing_id")

    async def tue(self, request: Request) -> Response:
        if isinstance(checked := await self._checked(request), Response):
            return checked
        key = (request.path_params["org"], request.path_params["key"])
        if request.method == "GET":
            found = self.tues.get(key)
            return JSONResponse(found) if found else JSONResponse({"title": "unknown TUE"}, status_code=404)
        body = json.loads(checked)
        if body.get("tue_key") != key[1]:
            return JSONResponse({"errors": ["tue_key must match the path"]}, 422)
        return self._put(self.tues, key, body, "tue_id")

    async def notification(self, request: Request) -> Response:
        if isinstance(checked := await self._checked(request), Response):
            return checked
        key = (request.path_params["org"], request.path_params["key"])
        return self._put(self.notifications, key, json.loads(checked), "notification_id")

    async def test_results(self, request: Request) -> Response:
        if isinstance(checked := await self._checked(request), Response):
            return checked
        since = request.query_params.get("since")
        after = datetime.fromisoformat(since) if since else None
        with self.lock:
            found = [r for r in self.results if after is None or datetime.fromisoformat(r["recorded_at"]) >= after]
        found.sort(key=lambda r: r["recorded_at"])
        size, page = int(request.query_params.get("page_size", 100)), int(request.query_params.get("page", 1))
        return JSONResponse({"results": found[(page - 1) * size : page * size]})

    def app(self) -> Starlette:
        org = "/api/organizations/{org}"
        return Starlette(
            routes=[
                Route(org, self.organization),
                Route(f"{org}/athletes/{{athlete}}/whereabouts/{{quarter}}", self.whereabouts, methods=["PUT"]),
                Route(f"{org}/tues/{{key}}", self.tue, methods=["GET", "PUT"]),
                Route(f"{org}/notifications/{{key}}", self.notification, methods=["PUT"]),
                Route(f"{org}/test-results", self.test_results),
            ]
        )
