"""Insurance: licence holders handed in for auto-enrolment and claims handed in for submission, delivered to
the insurer once each (`PUT` by licence and by claim key: sending again changes, never duplicates), and the
insurer's synchronous services a person waits for — a premium quote, a claim's status, a certificate.

Enrolments carry health-adjacent personal data (names, birth date): the payload is the minimum the insurer's
contract needs, and it is never logged (records and errors are kept in the outbox, redacted and bounded)."""

from __future__ import annotations

from adapters import capabilities as can
from integrations.sync.delivery import by_key

# Services a person waits for: catalog capability → (the adapter Protocol, the document flag switching it on).
SERVICES: dict[str, tuple[type, str]] = {
    "quote_premium": (can.PremiumQuotes, "premium_calculation"),
    "certificates": (can.Certificates, "certificate_generation"),
}


enrol_licence_holders = by_key("insurance_enrolment", lambda adapter, payload: adapter.put_enrolment(payload))
submit_claims = by_key("insurance_claim", lambda adapter, payload: adapter.put_claim(payload))
