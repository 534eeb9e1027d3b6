"""A loopback government sports registry speaking adapters/contracts/gov_registry.openapi.yaml: it verifies
every request's HTTP Message Signature (RFC 9421) against the public keys it was given — unsigned, tampered,
unknown-key, wrong-tag or stale (> 5 minutes) requests get 401 — checks the body against its signed
Content-Digest, and keeps one report per federation and period (a second PUT is a revision)."""

from __future__ import annotations

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
class RegistryFake(SignedPartnerFake):
    federations: dict[str, dict[str, str]] = field(default_factory=dict)
    reports: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    filings: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)  # (code, collection, key)
    obligations: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    puts: int = 0

    def enrol(self, federation_code: str, country_code: str, public_key: Any, *, key_id: str | None = None) -> None:
        self.federations[federation_code] = {
            "federation_code": federation_code,
            "country_code": country_code,
            "name": f"Federation {federation_code}",
        }
        self.public_keys[key_id or federation_code] = public_key

    async def federation(self, request: Request) -> Response:
        verified = await self._verified(request)
        if isinstance(verified, Response):
            return verified
        found = self.federations.get(request.path_params["code"])
        return JSONResponse(found) if found else JSONResponse({"title": "unknown federation"}, status_code=404)

    async def membership_report(self, request: Request) -> Response:
        import json

        verified = await self._verified(request)
        if isinstance(verified, Response):
            return verified
        code, period = request.path_params["code"], request.path_params["period"]
        if code not in self.federations:
            return JSONResponse({"title": "unknown federation"}, status_code=404)
        report = json.loads(verified)
        errors = []
        if report.get("period") != period or report.get("federation_code") != code:
            errors.append("period and federation_code must match the path")
        if sum(c["members"] for c in report.get("clubs", [])) != report.get("total_members"):
            errors.append("total_members is not the sum of the clubs' members")
        if errors:
            return JSONResponse({"errors": errors}, status_code=422)
        with self.lock:
            self.puts += 1
            current = self.reports.get((code, period))
            revision = current["revision"] + 1 if current else 1
            self.reports[(code, period)] = {
                "report_id": current["report_id"] if current else f"rep-{secrets.token_hex(6)}",
                "revision": revision,
                "received_at": datetime.now(UTC).isoformat(),
                "body": report,
            }
            receipt = {k: v for k, v in self.reports[(code, period)].items() if k != "body"}
        return JSONResponse(receipt, status_code=200 if current else 201)

    async def filing(self, request: Request) -> Response:
        """Grant applications, facilities and event reports: one per key, a second PUT amends it."""
        import json

        verified = await self._verified(request)
        if isinstance(verified, Response):
            return verified
        code, collection, key = (request.path_params[k] for k in ("code", "collection", "key"))
        if code not in self.federations:
            return JSONResponse({"title": "unknown federation"}, status_code=404)
        with self.lock:
            current = self.filings.get((code, collection, key))
            if request.method == "GET":
                return JSONResponse(current) if current else JSONResponse({"title": "not found"}, status_code=404)
            body = json.loads(verified)
            if body.get("key") != key:
                return JSONResponse({"errors": ["key must match the path"]}, status_code=422)
            self.puts += 1
            filing_id = current["id"] if current else f"{collection[:3]}-{secrets.token_hex(5)}"
            status = current["status"] if current else "submitted"
            self.filings[(code, collection, key)] = {**body, "id": filing_id, "status": status}
        return JSONResponse({"id": filing_id, "status": status}, status_code=200 if current else 201)

    def oblige(self, code: str, obligation_id: str, title: str, due_on: str, status: str = "open") -> None:
        with self.lock:
            self.obligations[(code, obligation_id)] = {
                "obligation_id": obligation_id, "title": title, "due_on": due_on, "status": status,
                "changed_at": datetime.now(UTC).isoformat(),
            }  # fmt: skip

    async def compliance(self, request: Request) -> Response:
        verified = await self._verified(request)
        if isinstance(verified, Response):
            return verified
        code, since = request.path_params["code"], request.query_params.get("since")
        after = datetime.fromisoformat(since) if since else None
        with self.lock:
            found = [o for (c, _), o in self.obligations.items()
                     if c == code and (after is None or datetime.fromisoformat(o["changed_at"]) >= after)]  # fmt: skip
        found.sort(key=lambda o: o["changed_at"])
        size, page = int(request.query_params.get("page_size", 100)), int(request.query_params.get("page", 1))
        return JSONResponse({"obligations": found[(page - 1) * size : page * size]})

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/api/federations/{code}", self.federation),
                Route("/api/federations/{code}/membership-reports/{period}", self.membership_report, methods=["PUT"]),
                Route("/api/federations/{code}/compliance-obligations", self.compliance),
                Route("/api/federations/{code}/{collection}/{key}", self.filing, methods=["GET", "PUT"]),
            ]
        )
