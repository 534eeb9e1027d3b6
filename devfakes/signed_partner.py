"""What the loopback partners of our signed-REST contracts share (the registry, the insurer): they verify every
request's HTTP Message Signature (RFC 9421) against the public keys they were given — unsigned, tampered,
unknown-key, wrong-tag or stale (> 5 minutes) requests get 401 — and check the body against its signed
Content-Digest; `fail_next` makes them answer 503 (maintenance) a number of times."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from http_message_signatures import HTTPMessageVerifier, InvalidSignature, MappingKeyResolver, algorithms
from requests.structures import CaseInsensitiveDict
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from adapters.signing import TAG


@dataclass
class _Message:
    method: str
    url: str
    headers: CaseInsensitiveDict[str]


@dataclass
class SignedPartnerFake:
    public_keys: dict[str, Any] = field(default_factory=dict)  # keyid → public key
    rejected: list[str] = field(default_factory=list)  # why each refused request was refused
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
