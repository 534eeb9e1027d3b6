"""Insurance: licence holders handed in for auto-enrolment and claims handed in for submission, delivered to
the insurer once each (`PUT` by licence and by claim key: sending again changes, never duplicates), and the
insurer's synchronous services a person waits for — a premium quote, a claim's status, a certificate.

Enrolments carry health-adjacent personal data (names, birth date): the payload is the minimum the insurer's
contract needs, and it is never logged (records and errors are kept in the outbox, redacted and bounded)."""

from __future__ import annotations

from typing import Any

from adapters import capabilities as can
from integrations.sync.delivery import deliver
from integrations.sync.outbox import Outbox
from integrations.sync.progress import Progress

# Services a person waits for: catalog capability → (the adapter Protocol, the document flag switching it on).
SERVICES: dict[str, tuple[type, str]] = {
    "quote_premium": (can.PremiumQuotes, "premium_calculation"),
    "certificates": (can.Certificates, "certificate_generation"),
}


def enrol_licence_holders(adapter: can.InsuranceEnrolments, outbox: Outbox, document: Any, env: Any) -> Progress:
    return deliver(
        "insurance_enrolment",
        outbox,
        document,
        find=lambda payload: None,  # a PUT by licence: sending again is safe
        push=adapter.put_enrolment,
        update=lambda payload, _: adapter.put_enrolment(payload),
        heartbeat=env.heartbeat,
    )


def submit_claims(adapter: can.ClaimSubmissions, outbox: Outbox, document: Any, env: Any) -> Progress:
    return deliver(
        "insurance_claim",
        outbox,
        document,
        find=lambda payload: None,  # a PUT by claim key
        push=adapter.put_claim,
        update=lambda payload, _: adapter.put_claim(payload),
        heartbeat=env.heartbeat,
    )
