"""Signed M2M client assertions (RFC 7523 §2.2): a client proves itself with a JWT it signed with a key whose
public half it registered; each assertion is single-use (its `jti` is claimed in a table) and short-lived."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import jwt
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from integrations.auth.api_keys import KEY_ID, ApiKeys
from integrations.auth.principal import Principal
from shared.errors import Conflict, Unauthorized
from shared.rows import Row, Rows
from shared.tables import Table

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_LIFETIME_S = 300


MIN_RSA_BITS = 2048  # NIST SP 800-131A: smaller RSA keys are not acceptable for signatures


class AssertionClaims(BaseModel):
    """The claims of a client assertion, typed before anything reaches storage (the `jti` becomes a row key)."""

    model_config = ConfigDict(extra="ignore")
    iss: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]
    sub: str
    aud: str | list[str]
    exp: int
    jti: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,128}$")]


class SeenAssertion(Row):
    """A client assertion's `jti`, inserted once (`PartitionKey = <client id>`): a second insert is a replay."""

    exp: int = Field(alias="Exp")  # when the assertion expires: rows past it can go


def public_key(jwk: dict[str, Any]) -> Any:
    if "d" in jwk or "p" in jwk:
        raise ValueError("a private key was sent; register only the public key")
    if jwk.get("kty") == "EC":
        return ECAlgorithm.from_jwk(json.dumps(jwk))
    if jwk.get("kty") == "RSA":
        key = RSAAlgorithm.from_jwk(json.dumps(jwk))
        if key.key_size < MIN_RSA_BITS:
            raise ValueError(f"RSA keys must have at least {MIN_RSA_BITS} bits (this one has {key.key_size})")
        return key
    raise ValueError("kty must be EC or RSA")


def verify_assertion(assertion: str, *, keys: ApiKeys, seen: Table, audience: str) -> Principal:
    try:
        unverified = jwt.decode(assertion, options={"verify_signature": False})
        kid = jwt.get_unverified_header(assertion).get("kid")
    except jwt.PyJWTError:
        raise Unauthorized("Invalid client assertion.", reason="malformed_assertion") from None
    client_id = unverified.get("iss")
    if not isinstance(client_id, str) or not KEY_ID.match(client_id) or unverified.get("sub") != client_id:
        raise Unauthorized("Invalid client assertion.", reason="iss_sub_mismatch")
    principal, jwks = keys.client(client_id)
    candidates = [k for k in jwks if kid is None or k.get("kid") == kid]
    if not candidates:
        raise Unauthorized("Invalid client assertion.", reason="unknown_assertion_key")
    claims = None
    for jwk in candidates:
        try:
            claims = jwt.decode(
                assertion,
                public_key(jwk),
                algorithms=["ES256", "RS256"],
                audience=audience,
                options={"require": ["exp", "jti", "iss", "sub", "aud"]},
            )
            break
        except jwt.PyJWTError:
            continue
    if claims is None:
        raise Unauthorized("Invalid client assertion.", reason="bad_assertion_signature")
    try:
        typed = AssertionClaims.model_validate(claims)
    except ValidationError:
        raise Unauthorized("Invalid client assertion.", reason="invalid_claims") from None
    if typed.exp - time.time() > MAX_LIFETIME_S:
        raise Unauthorized("Invalid client assertion.", reason="assertion_lifetime")
    try:
        Rows(seen, SeenAssertion).insert(SeenAssertion(partition=client_id, row=typed.jti, exp=typed.exp))
    except Conflict:
        raise Unauthorized("Invalid client assertion.", reason="assertion_replayed") from None
    return principal
