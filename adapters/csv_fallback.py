"""Partners without a public API (Cornerstone LMS, Consio — seed 002): data leaves as CSV files until a
partner contract provides endpoints (then `HUB_PROVIDER_URLS` names them and an HTTP variant takes over)."""

from __future__ import annotations

from adapters.base import Adapter
from integrations.documents.document import ValidationCheck


class CsvFallbackAdapter(Adapter):
    def validate(self) -> list[ValidationCheck]:
        if "base_url" in self.ctx.url_overrides:
            return super().validate()
        enabled = getattr(self.document.capabilities, "csv_fallback", True)
        return [
            ValidationCheck(
                name="delivery.csv_fallback",
                passed=bool(enabled),
                detail="no partner API configured: exports are delivered as CSV files"
                if enabled
                else "no partner API configured and the CSV fallback is disabled: nothing could be delivered",
            )
        ]


ENROLLMENT_COLUMNS = ("member_id", "course_id", "course_title", "status", "enrolled_on", "completed_on")


def enrollments_csv(rows: list[dict]) -> bytes:
    """RFC 4180 CSV (CRLF, quoted where needed) with a header row: what LMS imports expect."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=ENROLLMENT_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k) or "" for k in ENROLLMENT_COLUMNS})
    return out.getvalue().encode("utf-8")
