"""Validation of an integration's current configuration, and recording its result for the activation gate.

`Validator`s produce checks; this module runs them and stores the result with the config hash, so that
activation can insist on a passing result for exactly the configuration that is about to go live.
"""

from __future__ import annotations

from typing import Protocol

from integrations.documents.document import IntegrationDocument, ValidationCheck, ValidationResult, config_hash, spec_of
from integrations.documents.ref import IntegrationRef
from integrations.repository import IntegrationRepository, Stored
from integrations.service import Clock, record_validation


class Validator(Protocol):
    kind: str

    def checks(self, document: IntegrationDocument) -> list[ValidationCheck]: ...


def validate_integration(
    ref: IntegrationRef, *, repo: IntegrationRepository, validator: Validator, actor: str, now: Clock
) -> tuple[Stored, ValidationResult]:
    current = repo.get(ref)
    expected = config_hash(spec_of(current.document))
    checks = validator.checks(current.document)
    result = ValidationResult(
        passed=bool(checks) and all(c.passed for c in checks),
        config_hash=expected,
        checked_at=now(),
        checked_by=actor,
        kind=validator.kind,
        checks=checks,
    )
    stored = record_validation(ref, result, expected_hash=expected, repo=repo, actor=actor, now=now)
    return stored, result
