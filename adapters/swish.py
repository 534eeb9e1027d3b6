"""Swish (Sweden). Mutual TLS with the merchant's Swish certificate (a PKCS#12 bundle kept in the secret
store under signing_certificate_ref). The key leaves the store only for the duration of a call: it is
written to a private temporary folder (0700) that is removed afterwards, because `requests` reads client
certificates from files. Callbacks are unsigned, so the hub re-fetches a payment request by id."""

from __future__ import annotations

import base64
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from adapters.base import Adapter
from integrations.documents.document import ValidationCheck
from integrations.validation import timed
from shared.errors import ProviderError
from shared.http import Call

PROBE_ID = "0" * 32  # a payment request id that does not exist: 404 proves the TLS handshake and the route


class SwishAdapter(Adapter):
    @contextmanager
    def client_certificate(self, operation: str) -> Iterator[tuple[str, str]]:
        bundle = base64.b64decode(self.ctx.resolve_secret("signing_certificate_ref", operation))
        key, cert, chain = pkcs12.load_key_and_certificates(bundle, None)
        if key is None or cert is None:
            raise ProviderError(detail="swish: the certificate bundle has no key or certificate", provider="swish")
        with tempfile.TemporaryDirectory(prefix="swish-") as folder:
            os.chmod(folder, 0o700)
            cert_path, key_path = Path(folder, "cert.pem"), Path(folder, "key.pem")
            pem = serialization.Encoding.PEM
            cert_path.write_bytes(cert.public_bytes(pem) + b"".join(c.public_bytes(pem) for c in chain or []))
            key_path.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
            yield str(cert_path), str(key_path)

    def call(
        self, method: str, path: str, *, operation: str, json: object = None, expect: frozenset[int] = frozenset()
    ) -> requests.Response:
        with self.client_certificate(operation) as cert:
            return self.ctx.outbound.send(
                Call(
                    method,
                    f"{self.base_url}{path}",
                    json=json,
                    cert=cert,
                    expect=expect,
                    verify=self.ctx.url_overrides.get("ca_bundle", True),
                ),
                self.policy(operation),
            )

    def validate(self) -> list[ValidationCheck]:
        def handshake() -> str:
            try:
                response = self.call("GET", f"/v1/paymentrequests/{PROBE_ID}", operation="validate", expect=frozenset({404}))
            except ProviderError as exc:
                raise ConnectionError(
                    f"swish refused the client certificate or could not be reached ({exc.detail})"
                ) from None
            return f"mutual TLS accepted (probe → {response.status_code})"

        return [timed("provider.authenticate", handshake)]
