"""Structural validation: what can be checked without calling the provider (catalog requirements).

Used on its own for providers without an adapter yet, and as the first checks of a provider validation.
"""

from __future__ import annotations

from adapters.catalog import Catalog
from integrations.documents.document import IntegrationDocument, ValidationCheck


def structural_checks(document: IntegrationDocument, catalog: Catalog) -> list[ValidationCheck]:
    spec = catalog.get(document.provider)
    checks = [
        ValidationCheck(
            name="catalog.family",
            passed=document.family in spec.families,
            detail=f"{spec.display_name} serves {', '.join(spec.families)}",
        )
    ]
    refs = document.credentials.present()
    missing = [slot for slot in spec.required_credentials if slot not in refs]
    checks.append(
        ValidationCheck(
            name="credentials.present",
            passed=not missing,
            detail="all required credential refs are set" if not missing else f"missing: {', '.join(missing)}",
        )
    )
    if spec.auth.kind in ("oauth2_code", "oauth2_client_credentials"):
        checks.append(
            ValidationCheck(
                name="oauth.client_id",
                passed=bool(document.oauth_client_id),
                detail="oauth_client_id set" if document.oauth_client_id else "missing oauth_client_id",
            )
        )
    config = document.config.model_dump()
    absent = [f for f in spec.config_required if not config.get(f)]
    if spec.config_required:
        checks.append(
            ValidationCheck(
                name="config.required",
                passed=not absent,
                detail="required configuration present" if not absent else f"missing config: {', '.join(absent)}",
            )
        )
    return checks


class StructuralValidator:
    kind = "structural"

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def checks(self, document: IntegrationDocument) -> list[ValidationCheck]:
        return structural_checks(document, self._catalog)


class ProviderValidator:
    """Structural checks, then the provider's own checks through its adapter (sandbox credentials)."""

    kind = "provider"

    def __init__(self, catalog: Catalog, adapter_for) -> None:  # type: ignore[no-untyped-def]
        self._catalog = catalog
        self._adapter_for = adapter_for

    def checks(self, document: IntegrationDocument) -> list[ValidationCheck]:
        from shared.errors import HubError

        checks = structural_checks(document, self._catalog)
        if not all(c.passed for c in checks):
            return checks
        try:
            adapter = self._adapter_for(document)
            checks += adapter.validate()
        except HubError as exc:  # e.g. needs_reauth, missing secret: a red check, not a 500
            checks.append(ValidationCheck(name="provider.authenticate", passed=False, detail=exc.detail))
        return checks
