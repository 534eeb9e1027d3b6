"""Structural validation: what can be checked without calling the provider (catalog requirements).

Used on its own for providers without an adapter yet, and as the first checks of a provider validation.
"""

from __future__ import annotations

from typing import Any

from adapters.catalog import Catalog
from integrations.documents.document import ValidationCheck


def structural_checks(document: Any, catalog: Catalog) -> list[ValidationCheck]:
    spec = catalog.get(document.provider)
    checks = [ValidationCheck(name="catalog.family", passed=document.family in spec.families,
                              detail=f"{spec.display_name} serves {', '.join(spec.families)}")]
    refs = document.credentials.present()
    missing = [slot for slot in spec.required_credentials if slot not in refs]
    checks.append(ValidationCheck(
        name="credentials.present", passed=not missing,
        detail="all required credential refs are set" if not missing else f"missing: {', '.join(missing)}"))
    config = document.config.model_dump()
    absent = [f for f in spec.config_required if not config.get(f)]
    if spec.config_required:
        checks.append(ValidationCheck(
            name="config.required", passed=not absent,
            detail="required configuration present" if not absent else f"missing config: {', '.join(absent)}"))
    return checks


class StructuralValidator:
    kind = "structural"

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def checks(self, document: Any) -> list[ValidationCheck]:
        return structural_checks(document, self._catalog)
