"""Key rotation as a use case: the key-rotation timer and the CLI both call these, so every rotation is counted
(`hub.key.rotations` by kind and outcome: the seed's success rate) and logged the same way.

An API key issued with a rotation period is rotated by the timer at that age: the successor's secret waits in
the secret store (`<tenant>--shared--apikey-next-<key id>`) until the key's holder picks it up with the key
itself (`POST …/api-keys/{id}:successor`, once), the old key works through its overlap, and the tenant's feed
gets `api_key.rotated` (no secret in it)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar

from integrations.auth.api_keys import ApiKeys, IssuedKey
from integrations.auth.jwt_tokens import SigningKeys
from integrations.events import cloud_event
from shared import telemetry
from shared.errors import NotFound
from shared.leases import Leases
from shared.secrets.store import SecretNotFound, SecretStore

log = logging.getLogger("hub.rotation")
LEASE_S = 60.0
T = TypeVar("T")


def _counted(kind: str, rotate: Callable[[], T], what: str = "the JWT signing key") -> T:
    """One rotation, counted as `rotated` or `failed` (a failure is logged and raised)."""
    try:
        result = rotate()
    except Exception:
        telemetry.key_rotations.add(1, {"kind": kind, "outcome": "failed"})
        log.exception("rotating %s failed", what)
        raise
    if result is not None:
        telemetry.key_rotations.add(1, {"kind": kind, "outcome": "rotated"})
    return result


def rotate_signing_key_if_due(keys: SigningKeys, leases: Leases, *, period: timedelta) -> str | None:
    """The new kid when the current signing key was due (one instance rotates: a lease, then a fresh read),
    else None. A failure is counted and raised (the timer's next run tries again)."""
    lease = leases.try_acquire("rotate-signing-key", ttl_s=LEASE_S)
    if lease is None:
        return None  # another instance is rotating right now
    try:
        kid = _counted("signing_key", lambda: keys.rotate_if_due(period))
    finally:
        leases.release(lease)
    if kid is not None:
        log.info("JWT signing key rotated: %s is current (the previous one verifies until its tokens expire)", kid)
    return kid


def rotate_signing_key(keys: SigningKeys) -> str:
    """At once (the operator's CLI): counted like a scheduled rotation."""
    return _counted("signing_key", keys.rotate)


def successor_secret_name(tenant_id: str, key_id: str) -> str:
    return f"{tenant_id}--shared--apikey-next-{key_id}"


def rotate_due_api_keys(
    keys: ApiKeys, store: SecretStore, leases: Leases, publish: Callable[[dict[str, Any]], None]
) -> list[str]:
    """Rotate every API key that reached its rotation period (one instance: a lease); the successors' ids."""
    lease = leases.try_acquire("rotate-api-keys", ttl_s=LEASE_S)
    if lease is None:
        return []
    rotated: list[str] = []
    try:
        for key_id, tenant_id, overlap_s in keys.due_for_rotation():
            try:
                rotate = partial(_rotate_api_key, keys, store, key_id, tenant_id, overlap_s)
                successor = _counted("api_key", rotate, what=f"API key {key_id}")
            except Exception:  # noqa: BLE001 - one key's trouble never stops the others'; the next run tries it again
                continue
            publish(
                cloud_event(
                    "api_key.rotated",
                    id=f"api-key-rotated:{key_id}:{successor.key_id}",
                    ref=tenant_id,
                    subject=f"api-keys/{key_id}",
                    data={
                        "key_id": key_id,
                        "successor_key_id": successor.key_id,
                        "overlap_seconds": overlap_s,
                        "pickup": f"POST /api/v1/tenants/{tenant_id}/api-keys/{key_id}:successor with the current key",
                    },
                )
            )
            rotated.append(successor.key_id)
    finally:
        leases.release(lease)
    return rotated


def _rotate_api_key(keys: ApiKeys, store: SecretStore, key_id: str, tenant_id: str, overlap_s: int) -> IssuedKey:
    successor = keys.rotate(key_id, tenant_id=tenant_id, overlap_s=overlap_s)
    store.set(successor_secret_name(tenant_id, key_id), successor.secret)
    return successor


def pick_up_successor(store: SecretStore, tenant_id: str, key_id: str) -> str:
    """The successor's secret, once: gone from the store as it is handed over."""
    name = successor_secret_name(tenant_id, key_id)
    try:
        secret = store.get(name)
    except SecretNotFound:
        raise NotFound("No successor is waiting for this key (none was made, or it was picked up).") from None
    store.delete(name)
    return secret
