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

from integrations.api_versions import BEFORE_PINNING, LATEST
from integrations.auth.principal import Principal, Scope, expand
from integrations.secret_names import OPERATOR_TENANT, AmbiguousTenant, check_tenant_id
from shared.errors import Conflict, FieldError, NotFound, Unauthorized, ValidationFailed
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


class ApiKeys:
    def __init__(self, table: Table, *, pepper: str, now: Callable[[], datetime]) -> None:
        self._table = table
        self._pepper = pepper.encode()
        self._now = now
        self._cache: OrderedDict[str, tuple[float, dict[str, Any] | None]] = OrderedDict()
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
        self._table.insert(
            {
                "PartitionKey": key_id,
                "RowKey": _ROW,
                "TenantId": tenant_id,
                "Name": name,
                "Scopes": " ".join(s.value for s in scopes),
                "Hash": self._hash(secret),
                "CreatedAt": self._now(),
                "ExpiresAt": expires_at,
                "RevokedAt": None,
                # A rotation period: the key-rotation timer issues a successor at this age (its secret is picked up
                # with the key itself) and the key works for the overlap after.
                "RotationDays": rotation_days,
                "RotationOverlapS": rotation_overlap_s,
                "ApiVersion": api_version,  # pinned: the key is answered with this version's shapes
            }
        )
        # An index row per tenant, so listing a tenant's keys is one partition read.
        self._table.upsert({"PartitionKey": f"tenant|{tenant_id}", "RowKey": key_id})
        return IssuedKey(key_id, f"{PREFIX}_{key_id}_{secret}", tenant_id, [s.value for s in scopes])

    def revoke(self, key_id: str, *, tenant_id: str | None = None) -> None:
        entity, etag = self._owned(key_id, tenant_id)
        entity["RevokedAt"] = self._now()
        self._table.replace(entity, etag=etag)
        self._cache.pop(key_id, None)

    def _owned(self, key_id: str, tenant_id: str | None) -> tuple[dict[str, Any], str]:
        entity, etag = self._table.get(key_id, _ROW)
        if tenant_id is not None and entity["TenantId"] != tenant_id:
            raise NotFound("No such API key.")  # another tenant's key does not exist for this caller
        return entity, etag

    def scopes_of(self, key_id: str, *, tenant_id: str) -> frozenset[Scope]:
        """A key's effective scopes (what it could do), for checking who may administer it."""
        entity, _ = self._owned(key_id, tenant_id)
        return expand(_scopes(entity))

    def rotate(self, key_id: str, *, tenant_id: str, overlap_s: int) -> IssuedKey:
        """A new key with the same scopes; the old one keeps working for `overlap_s`, then expires.

        The successor inherits the key's own hard expiry, never the sunset of an earlier rotation (which would
        make it dead at birth); a key that no longer works cannot be rotated (409)."""
        entity, etag = self._owned(key_id, tenant_id)
        if entity.get("RevokedAt"):
            raise NotFound("No such API key.")
        now = self._now()
        if (ends := _ends_at(entity)) is not None and ends <= now:
            raise Conflict("This key has expired (or its rotation overlap has ended): issue a new key instead.")
        issued = self.issue(
            tenant_id=tenant_id,
            scopes=sorted(_scopes(entity), key=lambda s: s.value),
            name=entity["Name"],
            expires_at=entity.get("ExpiresAt"),
            rotated_from=key_id,
            rotation_days=entity.get("RotationDays"),
            rotation_overlap_s=entity.get("RotationOverlapS"),
            api_version=entity.get("ApiVersion") or BEFORE_PINNING,  # a rotation changes the secret, not the shapes
        )
        sunset = now + timedelta(seconds=overlap_s)
        current = entity.get("SunsetAt")
        entity["SunsetAt"] = min(sunset, current) if current else sunset
        entity["RotatedTo"] = issued.key_id
        self._table.replace(entity, etag=etag)
        self._cache.pop(key_id, None)
        return issued

    def due_for_rotation(self) -> builtins.list[tuple[str, str, int]]:
        """(key id, tenant, overlap seconds) of every live key with a rotation period it has reached."""
        now = self._now()
        due = []
        for e in self._table.query("RowKey eq @row and RotationDays gt 0", parameters={"row": _ROW}):
            if e.get("RevokedAt") or e.get("RotatedTo") or ((ends := _ends_at(e)) is not None and ends <= now):
                continue
            if e["CreatedAt"] + timedelta(days=int(e["RotationDays"])) <= now:
                due.append((e["PartitionKey"], e["TenantId"], int(e.get("RotationOverlapS") or 86_400)))
        return due

    def list(self, tenant_id: str) -> list[dict[str, Any]]:
        ids = [e["RowKey"] for e in self._table.query("PartitionKey eq @p", parameters={"p": f"tenant|{tenant_id}"})]
        rows = [found[0] for key_id in ids if (found := self._table.find(key_id, _ROW))]
        return [
            {
                "key_id": e["PartitionKey"],
                "name": e["Name"],
                "scopes": e["Scopes"].split(),
                "created_at": e["CreatedAt"],
                "expires_at": _ends_at(e),
                "revoked_at": e.get("RevokedAt"),
                "rotated_to": e.get("RotatedTo") or None,
                "rotation_days": e.get("RotationDays") or None,
                "api_version": e.get("ApiVersion") or BEFORE_PINNING,
            }
            for e in rows
        ]

    def _load(self, key_id: str) -> dict[str, Any] | None:
        # Ids are checked before they reach storage: Table keys refuse `/ \\ # ?` and control characters, and
        # a forged id must cost nothing but this match.
        if not KEY_ID.match(key_id):
            return None
        with self._lock:
            hit = self._cache.get(key_id)
        if hit and time.monotonic() - hit[0] < REVOCATION_LAG_S:
            return hit[1]
        try:
            entity, _ = self._table.get(key_id, _ROW)
        except NotFound:
            entity = None
        with self._lock:
            self._cache[key_id] = (time.monotonic(), entity)
            self._cache.move_to_end(key_id)
            while len(self._cache) > CACHE_MAX:  # bounded: random ids cannot grow it without limit
                self._cache.popitem(last=False)
        return entity

    def authenticate(self, presented: str) -> Principal:
        """Unknown, malformed, revoked and expired keys fail the same way to the caller."""
        parts = presented.split("_", 2)
        if len(parts) != 3 or parts[0] != PREFIX:
            raise Unauthorized("Invalid credentials.", reason="malformed")
        _, key_id, secret = parts
        if not KEY_ID.match(key_id):
            raise Unauthorized("Invalid credentials.", reason="malformed")
        entity = self._load(key_id)
        if entity is None or not hmac.compare_digest(entity["Hash"], self._hash(secret)):
            raise Unauthorized("Invalid credentials.", reason="unknown")
        return self._principal(key_id, entity)

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
        return parts[1] if hmac.compare_digest(hit[1]["Hash"], self._hash(parts[2])) else None

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
        entity = self._load(key_id)
        return entity["TenantId"] if entity else None

    def client(self, key_id: str) -> tuple[Principal, builtins.list[dict[str, Any]]]:
        """A client authenticated by other means (a signed assertion): its principal and registered public keys."""
        entity = self._load(key_id)
        if entity is None:
            raise Unauthorized("Invalid credentials.", reason="unknown")
        return self._principal(key_id, entity), json.loads(entity.get("Jwks") or "[]")

    def register_public_keys(self, key_id: str, *, tenant_id: str, keys: builtins.list[dict[str, Any]]) -> None:
        entity, etag = self._owned(key_id, tenant_id)
        entity["Jwks"] = json.dumps(keys)
        self._table.replace(entity, etag=etag)
        self._cache.pop(key_id, None)

    def _principal(self, key_id: str, entity: dict[str, Any]) -> Principal:
        if entity.get("RevokedAt"):
            raise Unauthorized("Invalid credentials.", reason="revoked", tenant_id=entity["TenantId"], key_id=key_id)
        expires = _ends_at(entity)
        if expires and expires <= self._now():
            raise Unauthorized("Invalid credentials.", reason="expired", tenant_id=entity["TenantId"], key_id=key_id)
        return Principal(
            tenant_id=entity["TenantId"],
            client_id=key_id,
            kind="api_key",
            scopes=expand(_scopes(entity)),
            api_version=entity.get("ApiVersion") or BEFORE_PINNING,
        )

    def pin(self, key_id: str, *, tenant_id: str, api_version: str) -> None:
        """Move a key to another API version (its owner, once the integration is ready for that version)."""
        entity, etag = self._owned(key_id, tenant_id)
        entity["ApiVersion"] = api_version
        self._table.replace(entity, etag=etag)
        self._cache.pop(key_id, None)


def _scopes(entity: dict[str, Any]) -> frozenset[Scope]:
    return frozenset(Scope(s) for s in entity["Scopes"].split() if s in Scope._value2member_map_)


def _ends_at(entity: dict[str, Any]) -> datetime | None:
    """When a key stops working: its hard expiry or the end of a rotation's overlap, whichever comes first."""
    ends = [t for t in (entity.get("ExpiresAt"), entity.get("SunsetAt")) if t]
    return min(ends) if ends else None
