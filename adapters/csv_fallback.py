"""Partners without a public API (Cornerstone LMS, Consio — seed 002). Until a partner contract provides
endpoints, data leaves as CSV files. When the operator names the partner's API (`HUB_PROVIDER_URLS`
→ `base_url`), the HTTP variant takes over: each enrollment is a `PUT {base}/enrollments/{key}` (JSON, Bearer
api_key_ref when set; PUT by our key, so a replay overwrites rather than duplicates), and a run whose API
stays unavailable after a few attempts delivers the rest as CSV instead (when csv_fallback is on).
The HTTP contract is ours, proposed to partners; it is not a published Cornerstone or Consio API."""

from __future__ import annotations

from typing import Any

from adapters.base import Adapter
from canonical.events import CourseEnrollment
from integrations.documents.document import LmsIntegration, ValidationCheck
from shared.http import Policy

API_ATTEMPTS = 3  # then the run falls back to CSV rather than waiting out a long outage


class CsvFallbackAdapter(Adapter[LmsIntegration]):
    @property
    def has_api(self) -> bool:
        return "base_url" in self.ctx.url_overrides

    @property
    def csv_fallback(self) -> bool:
        return bool(getattr(self.document.capabilities, "csv_fallback", True))

    def auth_headers(self, operation: str) -> dict[str, str]:
        if self.document.credentials.api_key_ref:
            return {"Authorization": f"Bearer {self.ctx.resolve_secret('api_key_ref', operation)}"}
        return {}

    def policy(self, operation: str) -> Policy:
        policy = super().policy(operation)
        policy.max_attempts = min(policy.max_attempts, API_ATTEMPTS)
        return policy

    def validate(self) -> list[ValidationCheck]:
        if self.has_api:
            return [self.check_call("partner.api", "GET", "/enrollments?limit=1")]
        return [
            ValidationCheck(
                name="delivery.csv_fallback",
                passed=self.csv_fallback,
                detail="no partner API configured: exports are delivered as CSV files"
                if self.csv_fallback
                else "no partner API configured and the CSV fallback is disabled: nothing could be delivered",
            )
        ]

    def push_enrollment(self, enrollment: CourseEnrollment) -> str:
        body = enrollment.model_dump(mode="json")
        self.request("PUT", f"/enrollments/{enrollment.key}", operation="sync.push_enrollment", json=body)
        return enrollment.key


ENROLLMENT_COLUMNS = ("member_id", "course_id", "course_title", "status", "enrolled_on", "completed_on")


def enrollments_csv(rows: list[dict[str, Any]]) -> bytes:
    """RFC 4180 CSV (CRLF, quoted where needed) with a header row: what LMS imports expect."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=ENROLLMENT_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k) or "" for k in ENROLLMENT_COLUMNS})
    return out.getvalue().encode("utf-8")
