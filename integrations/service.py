"""Use cases on integration documents: create, read, list, patch, lifecycle transitions, validation results.

Plain functions taking their collaborators as keyword arguments; the API routes and the triggers call these.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from integrations.documents.common import CREDENTIAL_SLOTS, LifecycleStatus, parse_secret_ref
from integrations.documents.document import (
    CREATE_ADAPTER,
    DOCUMENT_ADAPTER,
    Condition,
    IntegrationDocument,
    ValidationResult,
    config_hash,
    spec_of,
)
from integrations.documents.families import FAMILIES
from integrations.documents.lifecycle import NEEDS_VALIDATION, Transition, allowed_from, editable, target
from integrations.documents.ref import IntegrationRef
from integrations.merge_patch import merge_patch
from integrations.repository import IntegrationRepository, ListFilter, Stored
from integrations.secret_names import may_use, ownership_rule
from integrations.tenant_urls import TenantUrls
from shared.errors import Conflict, FieldError, PreconditionFailed, ValidationFailed

Clock = Callable[[], datetime]
WRITABLE = frozenset({"display_name", "sandbox", "credentials", "capabilities", "config", "provider", "family"})
_RETRIES = 16  # optimistic-concurrency attempts when the caller gave no If-Match
_BACKOFF_S = 0.005  # × attempt, jittered: writers that lost a round spread out instead of colliding again


def new_integration_id() -> str:
    return "int_" + secrets.token_hex(12)


def json_pointer(loc: tuple[str | int, ...] | list[str | int]) -> str:
    """A pydantic error location → RFC 6901 pointer, leaving out the union tag and validator names."""
    parts = list(loc)
    if parts and isinstance(parts[0], str) and parts[0] in _FAMILY_TAGS:
        parts = parts[1:]  # the discriminated union's tag is not part of the document
    parts = [p for p in parts if not (isinstance(p, str) and p.startswith("function-"))]
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def field_errors(exc: ValidationError) -> list[FieldError]:
    """Pydantic errors → field errors. Never copies the rejected input (it may be a secret)."""
    return [
        FieldError(json_pointer(err["loc"]), err["msg"].removeprefix("Value error, "))
        for err in exc.errors(include_input=False, include_url=False)
    ]


def _validate_spec(
    tenant_id: str, spec: dict[str, Any], *, integration_id: str | None, urls: TenantUrls | None = None
) -> Any:
    """`integration_id` None: a document being created, which owns no secrets yet (only shared ones may be named)."""
    try:
        create = CREATE_ADAPTER.validate_python(spec)
    except ValidationError as exc:
        raise ValidationFailed("The integration document is invalid.", field_errors(exc)) from None
    errors = []
    refs = [(f"/credentials/{slot}", getattr(create.credentials, slot)) for slot in CREDENTIAL_SLOTS]
    refs += [
        (f"/config/accounts/{i}/access_token_ref", account.access_token_ref)
        for i, account in enumerate(getattr(create.config, "accounts", []) or [])
    ]
    for pointer, ref in refs:
        if ref and not may_use(parse_secret_ref(ref).name, tenant_id=tenant_id, integration_id=integration_id):
            errors.append(FieldError(pointer, ownership_rule(tenant_id)))
    if urls is not None:
        errors += urls.field_errors(create)
    if errors:
        raise ValidationFailed("The integration document is invalid.", errors)
    return create


def create_integration(
    tenant_id: str,
    body: Any,
    *,
    repo: IntegrationRepository,
    actor: str,
    now: Clock,
    urls: TenantUrls | None = None,
) -> Stored:
    if not isinstance(body, dict):
        raise ValidationFailed("The body must be a JSON object.", [FieldError("", "expected an object")])
    create = _validate_spec(tenant_id, body, integration_id=None, urls=urls)
    at = now()
    document = DOCUMENT_ADAPTER.validate_python(
        {
            **create.model_dump(mode="json"),
            "id": new_integration_id(),
            "tenant_id": tenant_id,
            "status": LifecycleStatus.draft,
            "created_at": at,
            "created_by": actor,
            "updated_at": at,
            "updated_by": actor,
            "version": 1,
        }
    )
    etag = repo.insert(document)
    return Stored(document, etag)


def list_integrations(
    tenant_id: str, flt: ListFilter, *, repo: IntegrationRepository, size: int, continuation: str | None
) -> tuple[list[Any], str | None]:
    return repo.list(tenant_id, flt, size=size, continuation=continuation)


def _write(
    ref: IntegrationRef,
    change: Callable[[Any], Any],
    *,
    repo: IntegrationRepository,
    if_match: str | None,
    actor: str,
    now: Clock,
) -> Stored:
    """Read-modify-write under the ETag. With If-Match: one attempt (412 on mismatch). Without: retry on
    conflicts, re-applying `change` to the fresh document, so concurrent writers never lose an update."""
    for attempt in range(_RETRIES):
        if attempt:
            time.sleep(random.uniform(0, _BACKOFF_S * attempt))
        current = repo.get(ref)
        if if_match is not None and if_match != current.etag and if_match != "*":
            raise PreconditionFailed("If-Match does not match the current ETag.", current_etag=current.etag)
        changed = change(current.document)
        if changed is current.document:
            return current
        data = changed.model_dump(mode="json")
        data.update(version=current.document.version + 1, updated_at=now(), updated_by=actor)
        document = DOCUMENT_ADAPTER.validate_python(data)
        try:
            return Stored(document, repo.replace(document, etag=current.etag))
        except PreconditionFailed:
            if if_match is not None:
                raise
    raise Conflict("The integration is being changed by others; try again.")


def patch_integration(
    ref: IntegrationRef,
    patch: Any,
    *,
    repo: IntegrationRepository,
    if_match: str | None,
    actor: str,
    now: Clock,
    urls: TenantUrls | None = None,
) -> Stored:
    if not isinstance(patch, dict):
        raise ValidationFailed("A merge patch must be a JSON object.", [FieldError("", "expected an object")])
    bad = [FieldError(f"/{k}", "is not writable" if k in _ENVELOPE else "unknown field") for k in patch if k not in WRITABLE]
    if bad:
        raise ValidationFailed("The patch touches fields that cannot be written.", bad)

    def change(document: IntegrationDocument) -> Any:
        status = LifecycleStatus(document.status)
        spec = spec_of(document)
        merged = merge_patch(spec, patch)
        if merged.get("family") != document.family:
            raise ValidationFailed("The family of an integration cannot change.", [FieldError("/family", "cannot change")])
        if merged == spec:
            return document
        if status == LifecycleStatus.decommissioned:
            raise Conflict("A decommissioned integration is read-only.", allowed_transitions=[])
        cosmetic = {k for k in merged if merged.get(k) != spec.get(k)} <= {"display_name"}
        if not editable(status) and not cosmetic:
            raise Conflict(
                "An active integration accepts only display_name changes: pause it first.",
                allowed_transitions=allowed_from(status),
            )
        create = _validate_spec(ref.tenant_id, merged, integration_id=ref.integration_id, urls=urls)
        return DOCUMENT_ADAPTER.validate_python({**document.model_dump(mode="json"), **create.model_dump(mode="json")})

    return _write(ref, change, repo=repo, if_match=if_match, actor=actor, now=now)


def transition_integration(
    ref: IntegrationRef,
    transition: Transition,
    *,
    repo: IntegrationRepository,
    if_match: str | None,
    actor: str,
    now: Clock,
) -> Stored:
    def change(document: IntegrationDocument) -> Any:
        status = LifecycleStatus(document.status)
        if transition == Transition.decommission and status == LifecycleStatus.decommissioned:
            return document  # idempotent
        to = target(transition, status)
        if to is None:
            raise Conflict(
                f"Cannot {transition.value} an integration that is {status.value}.",
                current_status=status.value,
                allowed_transitions=allowed_from(status),
            )
        if transition in NEEDS_VALIDATION:
            _require_validation(document)
        return DOCUMENT_ADAPTER.validate_python({**document.model_dump(mode="json"), "status": to})

    return _write(ref, change, repo=repo, if_match=if_match, actor=actor, now=now)


def _require_validation(document: IntegrationDocument) -> None:
    result: ValidationResult | None = document.last_validation
    current = config_hash(spec_of(document))
    if result is None:
        raise Conflict(
            "Validate the integration before activating it.",
            reason="not_validated",
            allowed_transitions=allowed_from(LifecycleStatus(document.status)),
        )
    if result.config_hash != current:
        raise Conflict(
            "The configuration changed since the last validation: validate again.",
            reason="validation_stale",
            validated_hash=result.config_hash,
            current_hash=current,
        )
    if not result.passed:
        raise Conflict("The last validation failed: fix the configuration and validate again.", reason="validation_failed")
    if any(c.type == "needs_reauth" for c in document.conditions):
        raise Conflict("The provider grant was revoked: reconnect (OAuth) before activating.", reason="needs_reauth")


def record_validation(
    ref: IntegrationRef,
    result: ValidationResult,
    *,
    expected_hash: str,
    repo: IntegrationRepository,
    actor: str,
    now: Clock,
) -> Stored:
    """Store a validation result, unless the configuration changed while validating (then it proves nothing)."""

    def change(document: IntegrationDocument) -> Any:
        if config_hash(spec_of(document)) != expected_hash:
            raise Conflict("The configuration changed during validation: validate again.", reason="validation_stale")
        return DOCUMENT_ADAPTER.validate_python(
            {**document.model_dump(mode="json"), "last_validation": result.model_dump(mode="json")}
        )

    return _write(ref, change, repo=repo, if_match=None, actor=actor, now=now)


def set_condition(
    ref: IntegrationRef,
    condition: Condition | None,
    *,
    kind: str,
    repo: IntegrationRepository,
    actor: str,
    now: Clock,
) -> Stored:
    """Add (or with None, clear) a condition such as needs_reauth."""

    def change(document: IntegrationDocument) -> Any:
        others = [c for c in document.conditions if c.type != kind]
        conditions = others + ([condition] if condition else [])
        if [c.model_dump() for c in conditions] == [c.model_dump() for c in document.conditions]:
            return document
        return DOCUMENT_ADAPTER.validate_python(
            {**document.model_dump(mode="json"), "conditions": [c.model_dump(mode="json") for c in conditions]}
        )

    return _write(ref, change, repo=repo, if_match=None, actor=actor, now=now)


def set_credential_ref(
    ref: IntegrationRef,
    slot: str,
    secret_ref: str,
    *,
    repo: IntegrationRepository,
    actor: str,
    now: Clock,
    grant: dict[str, Any] | None = None,
) -> Stored:
    """Record where a credential lives (after intake or an OAuth grant); a grant also clears needs_reauth."""
    if slot not in CREDENTIAL_SLOTS:
        raise ValidationFailed(
            "Unknown credential slot.", [FieldError("path:slot", f"must be one of {', '.join(CREDENTIAL_SLOTS)}")]
        )

    def change(document: IntegrationDocument) -> Any:
        if document.status == LifecycleStatus.decommissioned:
            raise Conflict("A decommissioned integration is read-only.", allowed_transitions=[])
        data = document.model_dump(mode="json")
        if data["credentials"].get(slot) == secret_ref and grant is None:
            return document
        data["credentials"][slot] = secret_ref
        if grant is not None:
            data["grant"] = grant
            data["conditions"] = [c for c in data["conditions"] if c["type"] != "needs_reauth"]
        return DOCUMENT_ADAPTER.validate_python(data)

    return _write(ref, change, repo=repo, if_match=None, actor=actor, now=now)


def set_social_accounts(
    ref: IntegrationRef,
    accounts: list[dict[str, Any]],
    *,
    repo: IntegrationRepository,
    actor: str,
    now: Clock,
) -> Stored:
    """The pages a social-media integration manages (each with its token's secret reference): `config.accounts`."""

    def change(document: IntegrationDocument) -> Any:
        if document.status == LifecycleStatus.decommissioned:
            raise Conflict("A decommissioned integration is read-only.", allowed_transitions=[])
        data = document.model_dump(mode="json")
        data["config"]["accounts"] = accounts
        return DOCUMENT_ADAPTER.validate_python(data)

    return _write(ref, change, repo=repo, if_match=None, actor=actor, now=now)


_FAMILY_TAGS = frozenset(FAMILIES)
_ENVELOPE = frozenset(
    {
        "id",
        "tenant_id",
        "status",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
        "version",
        "last_validation",
        "conditions",
        "grant",
    }
)
