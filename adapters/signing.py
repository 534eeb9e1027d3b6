"""HTTP Message Signatures (RFC 9421) for partners without a public API (government registries, insurers):
every request carries `Signature-Input` / `Signature` over the method, the full target URI and — when there is
a body — its `Content-Digest` (RFC 9530), made with the integration's private key (`signing_key_ref`, a PEM).
The algorithm follows the key: Ed25519, ECDSA P-256 or RSA-PSS. The signing itself is the
http-message-signatures library's; this module only picks the algorithm and the covered components."""

from __future__ import annotations

from datetime import datetime

import requests
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from http_message_signatures import HTTPMessageSigner, MappingKeyResolver, algorithms

COVERED = ("@method", "@target-uri")
LABEL = "hub"
TAG = "integration-hub"  # signed: the partner selects our signature by it


def algorithm_for(key: object) -> type[algorithms.HTTPSignatureAlgorithm]:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return algorithms.ED25519
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1":
        return algorithms.ECDSA_P256_SHA256
    if isinstance(key, rsa.RSAPrivateKey):
        return algorithms.RSA_PSS_SHA512
    raise ValueError("the signing key must be an Ed25519, ECDSA P-256 or RSA private key (PEM)")


def load_signing_key(pem: str) -> object:
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except ValueError as exc:
        raise ValueError("the signing key is not a PEM private key") from exc
    algorithm_for(key)
    return key


def signature_headers(
    method: str, url: str, *, body: bytes | None, headers: dict[str, str], key_pem: str, key_id: str, created: datetime
) -> dict[str, str]:
    """The headers to add to this exact request (same URL, same body bytes) for the partner to verify it."""
    key = load_signing_key(key_pem)
    prepared = requests.Request(method, url, headers=headers, data=body).prepare()
    signer = HTTPMessageSigner(
        signature_algorithm=algorithm_for(key),
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={key_id: key}),  # type: ignore[dict-item]
    )
    signer.sign(prepared, key_id=key_id, label=LABEL, tag=TAG, created=created, covered_component_ids=COVERED, body=body)
    names = ("Content-Digest", "Signature-Input", "Signature")
    return {name: str(prepared.headers[name]) for name in names if name in prepared.headers}
