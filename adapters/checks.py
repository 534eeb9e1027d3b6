"""One validation check against a provider: how adapters turn a probe into a `ValidationCheck`."""

from __future__ import annotations

import time
from collections.abc import Callable

from integrations.documents.document import ValidationCheck
from shared.errors import DETAIL_LIMIT
from shared.redaction import REDACTOR


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
