"""Validation of an integration's current configuration, and recording its result for the activation gate.

`Validator`s produce checks; this module runs them and stores the result with the config hash, so that
activation can insist on a passing result for exactly the configuration that is about to go live.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from integrations.documents.document import ValidationCheck, ValidationResult, config_hash, spec_of
from integrations.repository import IntegrationRepository, Stored
from integrations.service import Clock, record_validation
from shared.errors import DETAIL_LIMIT
from shared.redaction import REDACTOR


class Validator(Protocol):
    kind: str

    def checks(self, document: Any) -> list[ValidationCheck]: ...


def timed(name: str, check: Callable[[], str]) -> ValidationCheck:
    """Run one check: return value is its detail, an exception its failure (message only, never a payload)."""
    started = time.perf_counter()
    try:
        detail = check()
        passed = True
    except Exception as exc:  # noqa: BLE001 - a failed check is a result, not an error
        # Stored on the document and shown to readers: scrubbed of every registered secret, then bounded.
        detail, passed = REDACTOR.excerpt(str(exc) or type(exc).__name__, DETAIL_LIMIT), False
    return ValidationCheck(
        name=name, passed=passed, detail=detail, duration_ms=round((time.perf_counter() - started) * 1000, 2)
    )


def validate_integration(
    tenant_id: str, integration_id: str, *, repo: IntegrationRepository, validator: Validator, actor: str, now: Clock
) -> tuple[Stored, ValidationResult]:
    current = repo.get(tenant_id, integration_id)
    expected = config_hash(spec_of(current.document))
    checks = validator.checks(current.document)
    result = ValidationResult(
        passed=bool(checks) and all(c.passed for c in checks),
        config_hash=expected,
        checked_at=now(),
        checked_by=actor,
        kind=validator.kind,
        checks=checks,
    )  # type: ignore[arg-type]
    stored = record_validation(tenant_id, integration_id, result, expected_hash=expected, repo=repo, actor=actor, now=now)
    return stored, result
