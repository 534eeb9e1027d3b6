"""A loopback Swish (Merchant Swish Simulator stand-in) that insists on mutual TLS: HTTPS with a server
certificate from a test CA, and a client certificate signed by that CA (the merchant's Swish certificate).
Certificates are made here with `cryptography`; nothing is written outside a temporary folder."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import ssl
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def _cert(subject: str, issuer_key, issuer_name, key, *, ca: bool, san_ip: str | None = None):  # type: ignore[no-untyped-def]
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san_ip:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(san_ip))]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass
class SwishFake:
    folder: Path
    ca_pem: Path
    server_cert: Path
    server_key: Path
    client_p12_b64: str  # what a merchant uploads: the PKCS#12 bundle, base64
    stranger_p12_b64: str  # a certificate from another CA: must be refused
    payee_alias: str = "1231181189"
    requests: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def create(cls) -> SwishFake:
        import base64

        folder = Path(tempfile.mkdtemp(prefix="swish-"))
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Swish Root CA")])
        ca = _cert("Test Swish Root CA", ca_key, ca_name, ca_key, ca=True)
        server_key = ec.generate_private_key(ec.SECP256R1())
        server = _cert("127.0.0.1", ca_key, ca_name, server_key, ca=False, san_ip="127.0.0.1")
        client_key = ec.generate_private_key(ec.SECP256R1())
        client = _cert("1231181189", ca_key, ca_name, client_key, ca=False)
        other_key = ec.generate_private_key(ec.SECP256R1())
        other_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Other CA")])
        stranger_key = ec.generate_private_key(ec.SECP256R1())
        stranger = _cert("1231181189", other_key, other_name, stranger_key, ca=False)
        pem = serialization.Encoding.PEM
        (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
        (folder / "server.pem").write_bytes(server.public_bytes(pem))
        (folder / "server.key").write_bytes(
            server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )

        def p12(key, cert) -> str:  # type: ignore[no-untyped-def]
            return base64.b64encode(
                pkcs12.serialize_key_and_certificates(b"merchant", key, cert, None, serialization.NoEncryption())
            ).decode()

        return cls(
            folder,
            folder / "ca.pem",
            folder / "server.pem",
            folder / "server.key",
            p12(client_key, client),
            p12(stranger_key, stranger),
        )

    def ssl_options(self) -> dict[str, object]:
        return {
            "ssl_certfile": str(self.server_cert),
            "ssl_keyfile": str(self.server_key),
            "ssl_ca_certs": str(self.ca_pem),
            "ssl_cert_reqs": ssl.CERT_REQUIRED,
        }

    async def payment_request(self, request: Request) -> Response:
        found = self.requests.get(request.path_params["id"])
        if found is None:
            return JSONResponse([{"errorCode": "RF02", "errorMessage": "Payment request not found"}], status_code=404)
        return JSONResponse(found)

    async def put(self, request: Request) -> Response:
        instruction, body = request.path_params["id"], await request.json()
        errors = []
        if not re.fullmatch(r"[0-9A-F]{32}", instruction):
            errors.append({"errorCode": "RP01", "errorMessage": "Invalid instruction UUID"})
        if body.get("currency") != "SEK":
            errors.append({"errorCode": "AM03", "errorMessage": "Invalid or missing Currency"})
        if not re.fullmatch(r"[0-9]{1,13}(\.[0-9]{1,2})?", str(body.get("amount", ""))):
            errors.append({"errorCode": "AM02", "errorMessage": "Amount value is too large or invalid"})
        refund = "/refunds/" in request.url.path  # a refund is paid by the merchant: payerAlias names it
        if body.get("payerAlias" if refund else "payeeAlias") != self.payee_alias:
            errors.append({"errorCode": "RP01", "errorMessage": "Missing Merchant Swish Number"})
        if not str(body.get("callbackUrl", "")).startswith("https://"):
            errors.append({"errorCode": "RP03", "errorMessage": "Callback URL is missing or does not use HTTPS"})
        if errors:
            return JSONResponse(errors, status_code=422)
        if refund and not any(
            r.get("paymentReference") == body.get("originalPaymentReference") for r in self.requests.values()
        ):
            return JSONResponse([{"errorCode": "RF03", "errorMessage": "Original payment reference not found"}], 422)
        table = self.refunds if refund else self.requests
        if instruction in table:
            return JSONResponse([{"errorCode": "RP06", "errorMessage": "A payment request with this id exists"}], 409)
        table[instruction] = {"id": instruction, "status": "CREATED", **body}
        headers = {"Location": str(request.url)}
        if "payerAlias" not in body and table is self.requests:
            headers["PaymentRequestToken"] = instruction.lower()[:32]
        return Response(status_code=201, headers=headers)

    async def refund(self, request: Request) -> Response:
        found = self.refunds.get(request.path_params["id"])
        if found is None:
            return JSONResponse([{"errorCode": "RF02", "errorMessage": "Refund not found"}], status_code=404)
        return JSONResponse(found)

    def pay(self, instruction: str) -> None:
        self.requests[instruction].update(status="PAID", paymentReference=instruction[:16] + "PAYREF0000000000")

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/swish-cpcapi/api/v1/paymentrequests/{id}", self.payment_request),
                Route("/swish-cpcapi/api/v2/paymentrequests/{id}", self.put, methods=["PUT"]),
                Route("/swish-cpcapi/api/v2/refunds/{id}", self.put, methods=["PUT"]),
                Route("/swish-cpcapi/api/v1/refunds/{id}", self.refund),
            ]
        )
