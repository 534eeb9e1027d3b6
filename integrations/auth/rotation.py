"""Key rotation as a use case: the key-rotation timer and the CLI both call these, so every rotation is counted
(`hub.key.rotations` by kind and outcome: the seed's success rate) and logged the same way."""

from __future__ import annotations

import logging
from datetime import timedelta

from integrations.auth.jwt_tokens import SigningKeys
from shared import telemetry
from shared.leases import Leases

log = logging.getLogger("hub.rotation")
LEASE_S = 60.0


def rotate_signing_key_if_due(keys: SigningKeys, leases: Leases, *, period: timedelta) -> str | None:
    """The new kid when the current signing key was due (one instance rotates: a lease, then a fresh read),
    else None. A failure is counted and raised (the timer's next run tries again)."""
    lease = leases.try_acquire("rotate-signing-key", ttl_s=LEASE_S)
    if lease is None:
        return None  # another instance is rotating right now
    try:
        kid = keys.rotate_if_due(period)
    except Exception:
        telemetry.key_rotations.add(1, {"kind": "signing_key", "outcome": "failed"})
        log.exception("rotating the JWT signing key failed")
        raise
    finally:
        leases.release(lease)
    if kid is not None:
        telemetry.key_rotations.add(1, {"kind": "signing_key", "outcome": "rotated"})
        log.info("JWT signing key rotated: %s is current (the previous one verifies until its tokens expire)", kid)
    return kid


def rotate_signing_key(keys: SigningKeys) -> str:
    """At once (the operator's CLI): counted like a scheduled rotation."""
    try:
        kid = keys.rotate()
    except Exception:
        telemetry.key_rotations.add(1, {"kind": "signing_key", "outcome": "failed"})
        raise
    telemetry.key_rotations.add(1, {"kind": "signing_key", "outcome": "rotated"})
    return kid
