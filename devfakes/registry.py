"""A loopback government sports registry speaking adapters/contracts/gov_registry.openapi.yaml: it verifies
every request's HTTP Message Signature (RFC 9421) against the public keys it was given — unsigned, tampered,
unknown-key, wrong-tag or stale (> 5 minutes) requests get 401 — checks the body against its signed
Content-Digest, and keeps one report per federation and period (a second PUT is a revision)."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from http_message_signatures import HTTPMessageVerifier, InvalidSignature, MappingKeyResolver, algorithms
from requests.structures import CaseInsensitiveDict
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.signing import TAG


@dataclass
class _Message:
    method: str
    url: str
    headers: CaseInsensitiveDict


@dataclass
class RegistryFake:
    federations: dict[str, dict[str, str]] = field(default_factory=dict)
    public_keys: dict[str, Any] = field(default_factory=dict)  # keyid → public key
    reports: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    rejected: list[str] = field(default_factory=list)  # why each refused request was refused
    puts: int = 0
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @staticmethod
    def new_key() -> tuple[str, Any]:
        """A fresh Ed25519 key pair: (private key PEM for the hub's secret store, public key for the registry)."""
        key = ed25519.Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        return pem, key.public_key()

    def enrol(self, federation_code: str, country_code: str, public_key: Any, *, key_id: str | None = None) -> None:
        self.federations[federation_code] = {
            "federation_code": federation_code,
            "country_code": country_code,
            "name": f"Federation {federation_code}",
        }
        self.public_keys[key_id or federation_code] = public_key

    async def _verified(self, request: Request) -> bytes | Response:
        body = await request.body()
        message = _Message(request.method, str(request.url), CaseInsensitiveDict(request.headers.items()))
        verifier = HTTPMessageVerifier(
            signature_algorithm=algorithms.ED25519,
            key_resolver=MappingKeyResolver(public_keys=self.public_keys, private_keys={}),
        )
        required = ("@method", "@target-uri", *(("content-digest",) if body else ()))
        try:
            verifier.verify(message, max_age=timedelta(minutes=5), expect_tag=TAG, require_components=required, body=body)
        except InvalidSignature as exc:
            self.rejected.append(str(exc))
            return JSONResponse({"title": "invalid signature", "detail": str(exc)}, status_code=401)
        except Exception as exc:  # noqa: BLE001 - e.g. an unknown keyid: refused the same way
            self.rejected.append(f"{type(exc).__name__}: {exc}")
            return JSONResponse({"title": "invalid signature"}, status_code=401)
        if self.fail_next > 0:
            self.fail_next -= 1
            return JSONResponse({"title": "maintenance"}, status_code=503, headers={"Retry-After": "1"})
        return body

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

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/api/federations/{code}", self.federation),
                Route("/api/federations/{code}/membership-reports/{period}", self.membership_report, methods=["PUT"]),
            ]
        )
