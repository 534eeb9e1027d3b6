"""Tenant-scoped API keys: `hubk_<key id>_<secret>`. Only an HMAC of the secret is stored.

Verification caches a key for a short time so the hot path does not read storage on every request; the
TTL bounds how long a revoked key may still work on an instance (REVOCATION_LAG_S, < 60 s as promised).
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from integrations.api_versions import BEFORE_PINNING, LATEST
from integrations.auth.principal import Principal, Scope, expand
from integrations.secret_names import OPERATOR_TENANT, AmbiguousTenant, check_tenant_id
from shared.errors import Conflict, FieldError, NotFound, Unauthorized, ValidationFailed
from shared.rows import Row, Rows
from shared.tables import Table

PREFIX = "hubk"
KEY_ID = re.compile(r"^[0-9a-f]{16}$")
CACHE_MAX = 10_000
REVOCATION_LAG_S = 30.0
_ROW = "key"


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    secret: str  # shown once, never stored
    tenant_id: str
    scopes: list[str]


class KeyRow(Row):
    """A key (`PartitionKey = <key id>`, `RowKey = "key"`): each key its own partition, so verifying one is a
    point read on a partition of its own. Only an HMAC of the secret is here."""

    tenant_id: str = Field(alias="TenantId")
    name: str = Field(alias="Name")
    scopes: str = Field(alias="Scopes")  # space-separated
    hash: str = Field(alias="Hash")
    created_at: datetime = Field(alias="CreatedAt")
    expires_at: datetime | None = Field(None, alias="ExpiresAt")
    revoked_at: datetime | None = Field(None, alias="RevokedAt")
    # A rotation period: the key-rotation timer issues a successor at this age (its secret is picked up with the
    # key itself) and the key works for the overlap after.
    rotation_days: int | None = Field(None, alias="RotationDays")
    rotation_overlap_s: int | None = Field(None, alias="RotationOverlapS")
    sunset_at: datetime | None = Field(None, alias="SunsetAt")  # the end of a rotation's overlap
    rotated_to: str | None = Field(None, alias="RotatedTo")
    api_version: str | None = Field(None, alias="ApiVersion")  # pinned: answered with this version's shapes
    jwks: str | None = Field(None, alias="Jwks")  # public keys for signed client assertions (JSON)


class TenantKeyRow(Row):
    """`PartitionKey = tenant|<tenant>`, `RowKey = <key id>`: listing a tenant's keys is one partition read."""


class ApiKeys:
    def __init__(self, table: Table, *, pepper: str, now: Callable[[], datetime]) -> None:
        self._keys = Rows(table, KeyRow)
        self._index = Rows(table, TenantKeyRow)
        self._pepper = pepper.encode()
        self._now = now
        self._cache: OrderedDict[str, tuple[float, KeyRow | None]] = OrderedDict()
        self._lock = threading.Lock()

    def _hash(self, secret: str) -> str:
        return hmac.new(self._pepper, secret.encode(), hashlib.sha256).hexdigest()

    def issue(
        self,
        *,
        tenant_id: str,
        scopes: list[Scope],
        name: str,
        expires_at: datetime | None = None,
        rotated_from: str | None = None,
        rotation_days: int | None = None,
        rotation_overlap_s: int | None = None,
        api_version: str = LATEST,
    ) -> IssuedKey:
        try:
            if tenant_id != OPERATOR_TENANT:  # reserved for tenants; the operator's keys are issued there
                check_tenant_id(tenant_id)
        except AmbiguousTenant as exc:
            raise ValidationFailed("The tenant id is not allowed.", [FieldError("/tenant_id", str(exc))]) from None
        key_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        self._keys.insert(
            KeyRow(
                partition=key_id,
                row=_ROW,
                tenant_id=tenant_id,
                name=name,
                scopes=" ".join(s.value for s in scopes),
                hash=self._hash(secret),
                created_at=self._now(),
                expires_at=expires_at,
                rotation_days=rotation_days,
                rotation_overlap_s=rotation_overlap_s,
                api_version=api_version,
            )
        )
        self._index.upsert(TenantKeyRow(partition=f"tenant|{tenant_id}", row=key_id))
        return IssuedKey(key_id, f"{PREFIX}_{key_id}_{secret}", tenant_id, [s.value for s in scopes])

    def revoke(self, key_id: str, *, tenant_id: str | None = None) -> None:
        key, etag = self._owned(key_id, tenant_id)
        key.revoked_at = self._now()
        self._keys.replace(key, etag=etag)
        self._cache.pop(key_id, None)

    def _owned(self, key_id: str, tenant_id: str | None) -> tuple[KeyRow, str]:
        key, etag = self._keys.get(key_id, _ROW)
        if tenant_id is not None and key.tenant_id != tenant_id:
            raise NotFound("No such API key.")  # another tenant's key does not exist for this caller
        return key, etag

    def scopes_of(self, key_id: str, *, tenant_id: str) -> frozenset[Scope]:
        """A key's effective scopes (what it could do), for checking who may administer it."""
        key, _ = self._owned(key_id, tenant_id)
        return expand(_scopes(key))

    def rotate(self, key_id: str, *, tenant_id: str, overlap_s: int) -> IssuedKey:
        """A new key with the same scopes; the old one keeps working for `overlap_s`, then expires.

        The successor inherits the key's own hard expiry, never the sunset of an earlier rotation (which would
        make it dead at birth); a key that no longer works cannot be rotated (409)."""
        key, etag = self._owned(key_id, tenant_id)
        if key.revoked_at:
            raise NotFound("No such API key.")
        now = self._now()
        if (ends := _ends_at(key)) is not None and ends <= now:
            raise Conflict("This key has expired (or its rotation overlap has ended): issue a new key instead.")
        issued = self.issue(
            tenant_id=tenant_id,
            scopes=sorted(_scopes(key), key=lambda s: s.value),
            name=key.name,
            expires_at=key.expires_at,
            rotated_from=key_id,
            rotation_days=key.rotation_days,
            rotation_overlap_s=key.rotation_overlap_s,
            api_version=key.api_version or BEFORE_PINNING,  # a rotation changes the secret, not the shapes
        )
        sunset = now + timedelta(seconds=overlap_s)
        key.sunset_at = min(sunset, key.sunset_at) if key.sunset_at else sunset
        key.rotated_to = issued.key_id
        self._keys.replace(key, etag=etag)
        self._cache.pop(key_id, None)
        return issued

    def due_for_rotation(self) -> builtins.list[tuple[str, str, int]]:
        """(key id, tenant, overlap seconds) of every live key with a rotation period it has reached."""
        now = self._now()
        due = []
        for k in self._keys.query("RowKey eq @row and RotationDays gt 0", parameters={"row": _ROW}):
            if k.revoked_at or k.rotated_to or ((ends := _ends_at(k)) is not None and ends <= now):
                continue
            if k.rotation_days and k.created_at + timedelta(days=k.rotation_days) <= now:
                due.append((k.partition, k.tenant_id, k.rotation_overlap_s or 86_400))
        return due

    def list(self, tenant_id: str) -> list[dict[str, Any]]:
        ids = [r.row for r in self._index.query("PartitionKey eq @p", parameters={"p": f"tenant|{tenant_id}"})]
        keys = [found[0] for key_id in ids if (found := self._keys.find(key_id, _ROW))]
        return [
            {
                "key_id": k.partition,
                "name": k.name,
                "scopes": k.scopes.split(),
                "created_at": k.created_at,
                "expires_at": _ends_at(k),
                "revoked_at": k.revoked_at,
                "rotated_to": k.rotated_to or None,
                "rotation_days": k.rotation_days or None,
                "api_version": k.api_version or BEFORE_PINNING,
            }
            for k in keys
        ]

    def _load(self, key_id: str) -> KeyRow | None:
        # Ids are checked before they reach storage: Table keys refuse `/ \\ # ?` and control characters, and
        # a forged id must cost nothing but this match.
        if not KEY_ID.match(key_id):
            return None
        with self._lock:
            hit = self._cache.get(key_id)
        if hit and time.monotonic() - hit[0] < REVOCATION_LAG_S:
            return hit[1]
        found = self._keys.find(key_id, _ROW)
        key = found[0] if found else None
        with self._lock:
            self._cache[key_id] = (time.monotonic(), key)
            self._cache.move_to_end(key_id)
            while len(self._cache) > CACHE_MAX:  # bounded: random ids cannot grow it without limit
                self._cache.popitem(last=False)
        return key

    def authenticate(self, presented: str) -> Principal:
        """Unknown, malformed, revoked and expired keys fail the same way to the caller."""
        parts = presented.split("_", 2)
        if len(parts) != 3 or parts[0] != PREFIX:
            raise Unauthorized("Invalid credentials.", reason="malformed")
        _, key_id, secret = parts
        if not KEY_ID.match(key_id):
            raise Unauthorized("Invalid credentials.", reason="malformed")
        key = self._load(key_id)
        if key is None or not hmac.compare_digest(key.hash, self._hash(secret)):
            raise Unauthorized("Invalid credentials.", reason="unknown")
        return self._principal(key_id, key)

    def verified_cached(self, presented: str) -> str | None:
        """The key id of a presented key that this instance has already loaded and whose secret matches — with no
        storage I/O, so the edge can pick a rate-limit bucket before authentication without letting a forged id
        cost a read (or buy a bucket of its own). None: not (yet) known here; the caller's address bucket applies."""
        parts = presented.split("_", 2)
        if len(parts) != 3 or parts[0] != PREFIX or not KEY_ID.match(parts[1]):
            return None
        with self._lock:
            hit = self._cache.get(parts[1])
        if not hit or hit[1] is None or time.monotonic() - hit[0] >= REVOCATION_LAG_S:
            return None
        return parts[1] if hmac.compare_digest(hit[1].hash, self._hash(parts[2])) else None

    def cached_principal(self, presented: str) -> Principal | None:
        """The principal of a key this instance has verified within the revocation lag, with no storage I/O
        (the API answers it on its event loop); None when only `authenticate` can tell (it may read)."""
        key_id = self.verified_cached(presented)
        if key_id is None:
            return None
        with self._lock:
            hit = self._cache.get(key_id)
        if not hit or hit[1] is None:
            return None
        try:
            return self._principal(key_id, hit[1])
        except Unauthorized:
            return None  # revoked or expired: `authenticate` says so (and the denial is audited)

    def tenant_of(self, key_id: str) -> str | None:
        """The tenant a key id belongs to (cached like authentication; no secret checked)."""
        key = self._load(key_id)
        return key.tenant_id if key else None

    def client(self, key_id: str) -> tuple[Principal, builtins.list[dict[str, Any]]]:
        """A client authenticated by other means (a signed assertion): its principal and registered public keys."""
        key = self._load(key_id)
        if key is None:
            raise Unauthorized("Invalid credentials.", reason="unknown")
        jwks: builtins.list[dict[str, Any]] = json.loads(key.jwks or "[]")
        return self._principal(key_id, key), jwks

    def register_public_keys(self, key_id: str, *, tenant_id: str, keys: builtins.list[dict[str, Any]]) -> None:
        key, etag = self._owned(key_id, tenant_id)
        key.jwks = json.dumps(keys)
        self._keys.replace(key, etag=etag)
        self._cache.pop(key_id, None)

    def _principal(self, key_id: str, key: KeyRow) -> Principal:
        if key.revoked_at:
            raise Unauthorized("Invalid credentials.", reason="revoked", tenant_id=key.tenant_id, key_id=key_id)
        expires = _ends_at(key)
        if expires and expires <= self._now():
            raise Unauthorized("Invalid credentials.", reason="expired", tenant_id=key.tenant_id, key_id=key_id)
        return Principal(
            tenant_id=key.tenant_id,
            client_id=key_id,
            kind="api_key",
            scopes=expand(_scopes(key)),
            api_version=key.api_version or BEFORE_PINNING,
        )

    def pin(self, key_id: str, *, tenant_id: str, api_version: str) -> None:
        """Move a key to another API version (its owner, once the integration is ready for that version)."""
        key, etag = self._owned(key_id, tenant_id)
        key.api_version = api_version
        self._keys.replace(key, etag=etag)
        self._cache.pop(key_id, None)


def _scopes(key: KeyRow) -> frozenset[Scope]:
    return frozenset(Scope(s) for s in key.scopes.split() if s in Scope._value2member_map_)


def _ends_at(key: KeyRow) -> datetime | None:
    """When a key stops working: its hard expiry or the end of a rotation's overlap, whichever comes first."""
    ends = [t for t in (key.expires_at, key.sunset_at) if t]
    return min(ends) if ends else None
