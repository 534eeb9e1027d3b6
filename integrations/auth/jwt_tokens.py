"""Hub-issued OAuth2 access tokens (client credentials): short-lived JWTs signed ES256 with a `kid`.

Signing keys are EC P-256 private keys kept in the SecretStore (`hub--jwt-signing--<kid>`); the `signingkeys`
table lists them with their state. Rotation makes a new key current; the previous one stays published at
`/.well-known/jwks.json` (and keeps verifying) until every token it signed has expired, then is retired.
The key-rotation timer rotates the current key once it is `HUB_SIGNING_KEY_ROTATION_DAYS` old
(`rotate_if_due`, under a lease: one instance rotates, the others find a fresh key); the CLI rotates at once.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, Protocol

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from integrations.auth.principal import Principal, Scope, expand
from integrations.secret_names import TENANT_MAX, TENANT_PATTERN, hub_secret
from shared.errors import Unauthorized
from shared.rows import Row, Rows
from shared.secrets.store import SecretStore
from shared.tables import Table

TOKEN_TTL_S = 900
ISSUER = "integration-hub"
_PK = "key"


class SigningKeyRow(Row):
    """A signing key's public half (`PartitionKey = "key"`, `RowKey = <kid>`); the private key is a hub secret.
    `current` signs; `previous` still verifies the tokens it signed until `RetireAfter`."""

    state: Literal["current", "previous"] = Field(alias="State")
    created_at: datetime = Field(alias="CreatedAt")
    jwk: str = Field(alias="Jwk")
    retire_after: datetime | None = Field(None, alias="RetireAfter")


class SigningKeys:
    def __init__(self, table: Table, store: SecretStore, *, now: Callable[[], datetime]) -> None:
        self._keys = Rows(table, SigningKeyRow)
        self._store = store
        self._now = now
        self._cache: tuple[float, list[SigningKeyRow]] | None = None
        self._private: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _rows(self) -> list[SigningKeyRow]:
        with self._lock:
            if self._cache and time.monotonic() - self._cache[0] < 30:
                return self._cache[1]
        rows = sorted(self._keys.query("PartitionKey eq @p", parameters={"p": _PK}), key=lambda r: r.created_at)
        with self._lock:
            self._cache = (time.monotonic(), rows)
        return rows

    def rotate(self) -> str:
        """A new current key; the previous current one is kept for verification until its tokens expire."""
        kid = secrets.token_hex(8)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        self._store.set(hub_secret("jwt-signing", kid), pem)
        public = json.loads(ECAlgorithm.to_jwk(key.public_key()))
        now = self._now()
        for row in self._rows():
            if row.state == "current":
                row.state, row.retire_after = "previous", now + timedelta(seconds=TOKEN_TTL_S + 60)
                self._keys.upsert(row)
        jwk = json.dumps({**public, "kid": kid, "alg": "ES256", "use": "sig"})
        self._keys.insert(SigningKeyRow(partition=_PK, row=kid, state="current", created_at=now, jwk=jwk))
        with self._lock:
            self._cache = None
        return kid

    def rotate_if_due(self, period: timedelta) -> str | None:
        """Rotate when the current key is `period` old (or there is none); the new kid, or None when not due.
        Read fresh: another instance may have rotated within the cache's 30 s."""
        with self._lock:
            self._cache = None
        current = [r for r in self._rows() if r.state == "current"]
        if current and self._now() - current[-1].created_at < period:
            return None
        return self.rotate()

    def current(self) -> tuple[str, Any]:
        rows = [r for r in self._rows() if r.state == "current"]
        kid = rows[-1].row if rows else self.rotate()
        if kid not in self._private:
            pem = self._store.get(hub_secret("jwt-signing", kid))
            self._private[kid] = serialization.load_pem_private_key(pem.encode(), None)
        return kid, self._private[kid]

    def jwks(self) -> dict[str, Any]:
        now = self._now()
        keys = [
            json.loads(r.jwk)
            for r in self._rows()
            if r.state == "current" or (r.state == "previous" and r.retire_after is not None and r.retire_after > now)
        ]
        return {"keys": keys}

    def public_key(self, kid: str) -> Any | None:
        for jwk in self.jwks()["keys"]:
            if jwk["kid"] == kid:
                return ECAlgorithm.from_jwk(json.dumps(jwk))
        return None


def issue(keys: SigningKeys, principal: Principal, scopes: list[Scope], *, now: float | None = None) -> tuple[str, int]:
    kid, private = keys.current()
    issued = int(now if now is not None else time.time())
    claims = {
        "iss": ISSUER,
        "sub": principal.client_id,
        "tid": principal.tenant_id,
        "iat": issued,
        "exp": issued + TOKEN_TTL_S,
        "jti": secrets.token_hex(12),
        "scope": " ".join(s.value for s in scopes),
    }
    return jwt.encode(claims, private, algorithm="ES256", headers={"kid": kid}), TOKEN_TTL_S


class HubClaims(BaseModel):
    """The claims of a hub-issued access token, typed: anything else is not one of ours."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    iss: Literal["integration-hub"]
    sub: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]  # the API key id the token was issued to
    tid: Annotated[str, StringConstraints(pattern=TENANT_PATTERN, max_length=TENANT_MAX)]
    iat: int
    exp: int
    jti: Annotated[str, StringConstraints(max_length=64)] | None = None
    scope: Annotated[str, StringConstraints(max_length=2000)] = ""


class LiveClients(Protocol):
    def client(self, key_id: str) -> tuple[Principal, list[dict[str, Any]]]: ...


def verify(keys: SigningKeys, token: str, *, clients: LiveClients) -> Principal:
    """Signature, expiry and typed claims — and the key the token was issued to must still be live (not revoked,
    not past its rotation overlap, same tenant), looked up through the same cache API keys use, so revoking a key
    ends its tokens on every instance within REVOCATION_LAG_S. The token's scopes are at most the key's now."""
    try:
        kid = jwt.get_unverified_header(token).get("kid", "")
    except jwt.PyJWTError:
        raise Unauthorized("Invalid credentials.", reason="malformed_jwt") from None
    key = keys.public_key(kid) if isinstance(kid, str) else None
    if key is None:
        raise Unauthorized("Invalid credentials.", reason="unknown_kid")
    try:
        raw = jwt.decode(token, key, algorithms=["ES256"], issuer=ISSUER, options={"require": ["exp", "iat", "sub"]})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("Invalid credentials.", reason="expired_jwt") from None
    except jwt.PyJWTError:
        raise Unauthorized("Invalid credentials.", reason="invalid_jwt") from None
    try:
        claims = HubClaims.model_validate(raw)
    except ValidationError:
        raise Unauthorized("Invalid credentials.", reason="invalid_claims") from None
    holder, _ = clients.client(claims.sub)  # raises Unauthorized: unknown, revoked, expired
    if holder.tenant_id != claims.tid:
        raise Unauthorized("Invalid credentials.", reason="tenant_mismatch", tenant_id=holder.tenant_id)
    scopes = expand(frozenset(Scope(s) for s in claims.scope.split() if s in Scope._value2member_map_))
    return Principal(tenant_id=claims.tid, client_id=claims.sub, kind="oauth_client", scopes=scopes & holder.scopes)
