"""Credentials of integrations: write-only intake, audited resolution at call time, rotation with overlap.

Secret names are derived, never chosen by the tenant: `<tenant>--int-<hex>--<slot>` (`integrations.secret_names`).
Documents hold the unpinned reference `kv:<name>`, so a rotation (a new version) does not change the configuration hash
and an active integration keeps running; the previous version stays enabled for the overlap window and is
then disabled by `sweep_overlaps` (run by the minute timer).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import Field

from integrations.audit import AuditLog
from integrations.documents.common import parse_secret_ref
from integrations.documents.document import IntegrationDocument
from integrations.documents.ref import IntegrationRef
from integrations.secret_names import integration_secret, may_use
from shared.errors import FieldError, NotFound, PreconditionFailed, ValidationFailed
from shared.redaction import REDACTOR
from shared.rows import Row, Rows
from shared.secrets.store import SecretNotFound, SecretStore
from shared.tables import Table

DEFAULT_OVERLAP_S = 24 * 3600
FLUSH_EVERY_S = 60.0


def _account_ref(document: IntegrationDocument, slot: str) -> str | None:
    """A social-media page's token (`page_<id>`) is referenced from its entry in `config.accounts`."""
    if not slot.startswith("page_"):
        return None
    accounts = getattr(getattr(document, "config", None), "accounts", None) or []
    return next((a.access_token_ref for a in accounts if f"page_{a.account_id}" == slot), None)


def secret_name(ref: IntegrationRef, slot: str) -> str:
    return integration_secret(ref, slot)


@dataclass(frozen=True)
class StoredCredential:
    ref: str
    version: str
    previous_version: str | None
    previous_disabled_after: datetime | None


class RotationRow(Row):
    """A previous secret version still enabled during its rotation's overlap: `PartitionKey = "rotation"`,
    `RowKey = <name>|<version>`; the timer disables it after `DisableAfter`."""

    tenant: str = Field(alias="Tenant")
    integration_id: str = Field(alias="IntegrationId")
    name: str = Field(alias="Name")
    version: str = Field(alias="Version")
    disable_after: datetime = Field(alias="DisableAfter")


VERSIONS = "*versions"  # cache key beside (name, version): the enabled versions of a name, newest first


class Credentials:
    def __init__(
        self,
        store: SecretStore,
        *,
        audit: AuditLog,
        rotations: Table,
        now: Callable[[], datetime],
        cache_ttl_s: float = 60.0,
    ) -> None:
        self._store = store
        self._audit = audit
        self._rotations = Rows(rotations, RotationRow)
        self._now = now
        self._ttl = cache_ttl_s
        self._cache: dict[tuple[str, str | None], tuple[float, str]] = {}
        self._cached_reads: Counter[tuple[str, str, str, str, str | None, str, str]] = Counter()
        self._flushed_at = time.monotonic()
        self._lock = threading.Lock()

    @property
    def store(self) -> SecretStore:
        return self._store

    def put(
        self,
        ref: IntegrationRef,
        slot: str,
        value: str,
        *,
        actor: str,
        overlap_s: int = DEFAULT_OVERLAP_S,
        reason: str = "intake",
    ) -> StoredCredential:
        if not value or not value.strip():
            raise ValidationFailed("The secret value is empty.", [FieldError("/value", "must not be empty")])
        REDACTOR.register(value)
        name = secret_name(ref, slot)
        previous = next((v for v in self._store.versions(name) if v.enabled), None)
        created = self._store.set(
            name, value, tags={"tenant": ref.tenant_id, "integration": ref.integration_id, "slot": slot}
        )
        disable_after = None
        if previous:
            disable_after = self._now() + timedelta(seconds=overlap_s)
            self._rotations.upsert(
                RotationRow(
                    partition="rotation",
                    row=f"{name}|{previous.version}",
                    tenant=ref.tenant_id,
                    integration_id=ref.integration_id,
                    name=name,
                    version=previous.version,
                    disable_after=disable_after,
                )
            )
        with self._lock:
            self._cache.pop((name, None), None)
            self._cache.pop((name, VERSIONS), None)
        self._audit.record(
            ref.tenant_id,
            actor=actor,
            action="secret.rotate" if previous else "secret.write",
            integration_id=ref.integration_id,
            reason=reason,
            target={
                "slot": slot,
                "name": name,
                "version": created.version,
                "previous_version": previous.version if previous else None,
                "overlap_s": overlap_s if previous else None,
            },
        )
        return StoredCredential(f"kv:{name}", created.version, previous.version if previous else None, disable_after)

    def resolve(
        self, document: IntegrationDocument, slot: str, *, operation: str, actor: str = "hub", fresh: bool = False
    ) -> str:
        ref = getattr(document.credentials, slot, None) or _account_ref(document, slot)
        if not ref:
            raise NotFound(f"The integration has no {slot}.")
        return self.resolve_ref(
            document.tenant_id, document.id, ref, slot=slot, operation=operation, actor=actor, fresh=fresh
        )

    def accepted_values(self, document: IntegrationDocument, slot: str, *, operation: str) -> list[str]:
        """The slot's current value and, while a rotation's overlap lasts, the previous one (still enabled until
        `sweep_overlaps` disables it): what a webhook verifier accepts, so a provider still signing with the old
        secret during the switch is not refused. [] when the slot is empty (the verifier then refuses)."""
        ref = getattr(document.credentials, slot, None)
        if not ref:
            return []
        parts = parse_secret_ref(ref)
        if parts.version:  # pinned: exactly that version
            return [self.resolve(document, slot, operation=operation)]
        key = (parts.name, VERSIONS)
        with self._lock:
            hit = self._cache.get(key)
        if hit and time.monotonic() - hit[0] < self._ttl:
            versions = hit[1].split()
        else:
            versions = [v.version for v in self._store.versions(parts.name) if v.enabled][:2]
            with self._lock:
                self._cache[key] = (time.monotonic(), " ".join(versions))
        return [
            self.resolve_ref(document.tenant_id, document.id, f"kv:{parts.name}@{version}", slot=slot, operation=operation)
            for version in versions
        ]

    @property
    def cache_ttl_s(self) -> float:
        return self._ttl

    def resolve_ref(
        self,
        tenant_id: str,
        integration_id: str,
        ref: str,
        *,
        slot: str,
        operation: str,
        actor: str = "hub",
        fresh: bool = False,
    ) -> str:
        """The secret's value, from the process cache unless `fresh` (a value another instance may have
        replaced since, read where that matters: under the token lease)."""
        parts = parse_secret_ref(ref)
        if not may_use(parts.name, tenant_id=tenant_id, integration_id=integration_id):
            # Ownership is parsed, never a prefix: another tenant's (or integration's, or the hub's) secret.
            raise NotFound("The credential reference is outside this integration's namespace.")
        key = (parts.name, parts.version)
        with self._lock:
            hit = None if fresh else self._cache.get(key)
            if hit and time.monotonic() - hit[0] < self._ttl:
                # Served from memory: counted, and audited in aggregate by `flush_cached_reads` (minute timer).
                self._cached_reads[(tenant_id, integration_id, slot, parts.name, parts.version, operation, actor)] += 1
                due = time.monotonic() - self._flushed_at >= FLUSH_EVERY_S
                value = hit[1]
            else:
                due, value = False, None
        if value is not None:
            if due:  # every instance flushes its own counts (the timer runs on one instance only)
                self.flush_cached_reads()
            return value
        try:
            value = self._store.get(parts.name, parts.version)
            outcome = "ok"
        except SecretNotFound:
            outcome = "not_found"
            raise
        finally:
            self._audit.record(
                tenant_id,
                actor=actor,
                action="secret.read",
                integration_id=integration_id,
                target={"slot": slot, "name": parts.name, "version": parts.version, "operation": operation},
                outcome=outcome,
            )
        REDACTOR.register(value)
        with self._lock:
            self._cache[key] = (time.monotonic(), value)
        return value

    def flush_cached_reads(self) -> int:
        """One audit row per (integration, secret, operation, actor) for the reads the cache served since the last
        flush, with their count: every access is in the trail, at the cost of a row a minute, not a row a call."""
        with self._lock:
            pending, self._cached_reads = self._cached_reads, Counter()
            self._flushed_at = time.monotonic()
        for (tenant, integration, slot, name, version, operation, actor), count in pending.items():
            self._audit.record(
                tenant,
                actor=actor,
                action="secret.read",
                integration_id=integration,
                target={
                    "slot": slot,
                    "name": name,
                    "version": version,
                    "operation": operation,
                    "cached": True,
                    "count": count,
                },
                outcome="ok",
            )
        return len(pending)

    def forget(self, name: str) -> None:
        with self._lock:
            for key in [k for k in self._cache if k[0] == name]:
                self._cache.pop(key, None)

    def sweep_overlaps(self) -> int:
        """Disable previous versions whose overlap window has passed."""
        done = 0
        for row, etag in list(
            self._rotations.query_versioned(
                "PartitionKey eq 'rotation' and DisableAfter le @now", parameters={"now": self._now()}
            )
        ):
            try:
                self._store.disable(row.name, row.version)  # idempotent: every instance's timer may get here
            except SecretNotFound:
                pass
            try:  # the claim: of two instances' timers one records the disable
                self._rotations.table.delete("rotation", row.row, etag=etag)
            except (NotFound, PreconditionFailed):
                continue
            self._audit.record(
                row.tenant,
                actor="hub:rotation",
                action="secret.disable",
                integration_id=row.integration_id,
                target={"name": row.name, "version": row.version},
                reason="overlap window ended",
            )
            done += 1
        return done
