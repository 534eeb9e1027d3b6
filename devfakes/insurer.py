"""A loopback insurer speaking adapters/contracts/insurance.openapi.yaml: signed requests only (the signed-REST
partners' verification), one enrolment per licence and policy group and one claim per key however often they
are sent (a second PUT changes them), premiums from a small table by licence category and age band, and a
PDF certificate for each enrolment. `decide(claim, status)` is the insurer's handler at work."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devfakes.signed_partner import SignedPartnerFake

PREMIUMS = {"senior": 29_500, "junior": 12_500, "veteran": 24_000}  # öre a year, for the first coverage
REQUIRED = ("licence_key", "first_name", "last_name", "birth_date", "licence_category", "coverage_types")


@dataclass
class InsurerFake(SignedPartnerFake):
    groups: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)  # (broker, group) → group
    enrolments: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    claims: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    puts: int = 0

    def open_group(self, broker: str, group: str, public_key: Any) -> None:
        self.groups[(broker, group)] = {"broker_id": broker, "group_id": group, "name": f"Group policy {group}"}
        self.public_keys[broker] = public_key

    def decide(self, broker: str, claim_key: str, status: str) -> None:
        with self.lock:
            self.claims[(broker, claim_key)]["status"] = status

    async def group(self, request: Request) -> Response:
        if isinstance(verified := await self._verified(request), Response):
            return verified
        found = self.groups.get((request.path_params["broker"], request.path_params["group"]))
        return JSONResponse(found) if found else JSONResponse({"title": "unknown policy group"}, status_code=404)

    async def enrolment(self, request: Request) -> Response:
        if isinstance(verified := await self._verified(request), Response):
            return verified
        broker, group, licence = (request.path_params[k] for k in ("broker", "group", "licence"))
        if (broker, group) not in self.groups:
            return JSONResponse({"title": "unknown policy group"}, status_code=404)
        body = json.loads(verified)
        errors = [f"{name} is required" for name in REQUIRED if not body.get(name)]
        if body.get("licence_key") != licence:
            errors.append("licence_key must match the path")
        if errors:
            return JSONResponse({"errors": errors}, status_code=422)
        with self.lock:
            self.puts += 1
            current = self.enrolments.get((broker, group, licence))
            enrolment_id = current["enrolment_id"] if current else f"enr-{secrets.token_hex(5)}"
            self.enrolments[(broker, group, licence)] = {**body, "enrolment_id": enrolment_id}
        return JSONResponse({"enrolment_id": enrolment_id}, status_code=200 if current else 201)

    async def certificate(self, request: Request) -> Response:
        if isinstance(verified := await self._verified(request), Response):
            return verified
        key = tuple(request.path_params[k] for k in ("broker", "group", "licence"))
        enrolment = self.enrolments.get(key)
        if enrolment is None:
            return JSONResponse({"title": "not enrolled"}, status_code=404)
        text = f"Certificate {enrolment['enrolment_id']}: {enrolment['first_name']} {enrolment['last_name']}"
        return Response(b"%PDF-1.4\n% " + text.encode() + b"\n%%EOF\n", media_type="application/pdf")

    async def quote(self, request: Request) -> Response:
        if isinstance(verified := await self._verified(request), Response):
            return verified
        body = json.loads(verified)
        base = PREMIUMS.get(body.get("licence_category", ""))
        if base is None:
            return JSONResponse({"errors": [f"licence category {body.get('licence_category')!r} is not insurable"]}, 422)
        older = body.get("age_band", "").startswith(("65", "70", "75", "80"))
        coverages = body.get("coverage_types") or []
        premium = int(base * (1.4 if older else 1.0)) + 4_000 * max(0, len(coverages) - 1)
        return JSONResponse({"premium_minor": premium, "currency": "SEK", "coverage_types": coverages})

    async def claim(self, request: Request) -> Response:
        if isinstance(verified := await self._verified(request), Response):
            return verified
        key = (request.path_params["broker"], request.path_params["claim"])
        with self.lock:
            current = self.claims.get(key)
            if request.method == "GET":
                return JSONResponse(current) if current else JSONResponse({"title": "unknown claim"}, status_code=404)
            body = json.loads(verified)
            if body.get("claim_key") != key[1] or not body.get("licence_key"):
                return JSONResponse({"errors": ["claim_key must match the path; licence_key is required"]}, 422)
            self.puts += 1
            claim_id = current["claim_id"] if current else f"clm-{secrets.token_hex(5)}"
            self.claims[key] = {**body, "claim_id": claim_id, "status": current["status"] if current else "received"}
        return JSONResponse({"claim_id": claim_id}, status_code=200 if current else 201)

    def app(self) -> Starlette:
        group = "/api/brokers/{broker}/policy-groups/{group}"
        return Starlette(
            routes=[
                Route(group, self.group),
                Route(f"{group}/enrolments/{{licence}}", self.enrolment, methods=["PUT"]),
                Route(f"{group}/enrolments/{{licence}}/certificate", self.certificate),
                Route("/api/brokers/{broker}/quotes", self.quote, methods=["POST"]),
                Route("/api/brokers/{broker}/claims/{claim}", self.claim, methods=["GET", "PUT"]),
            ]
        )
