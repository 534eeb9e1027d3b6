"""The insurance family: licence holders handed in for auto-enrolment and claims for submission (outbox intake,
delivered once each by enrol_licence_holders / submit_claims), and the insurer's services a person waits for —
a premium quote, a claim's status, a licence holder's certificate (the insurer's PDF, kept in Blob Storage).

| operationId                | Method | Path (under …/integrations/{id})                     |
|----------------------------|--------|------------------------------------------------------|
| enqueueInsuranceEnrolments | POST   | /outbox/insurance-enrolments                         |
| enqueueInsuranceClaims     | POST   | /outbox/insurance-claims                             |
| quotePremium               | POST   | /insurance/quotes                                    |
| getInsuranceClaim          | GET    | /insurance/claims/{claim_key}                        |
| getInsuranceCertificate    | GET    | /insurance/certificates/{licence_key} (application/pdf) |
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import anyio
from fastapi import Path, Response
from pydantic import BaseModel, Field, StringConstraints

from integrations.api.body import Body
from integrations.api.deps import ExportsDep, IntakeDep, LicenceWriter, LiveDep, Reader, Ref, Writer, any_of
from integrations.api.intake import accepted, outbox_post
from integrations.api.live import LiveAdapters
from integrations.api.problems import COMMON, WRITE, P, Responses
from integrations.api.routing import api_router
from integrations.auth.principal import Scope
from integrations.documents.document import InsuranceIntegration
from integrations.documents.ref import IntegrationRef
from integrations.sync.insurance import SERVICES
from shared.errors import FieldError, NotFound, ValidationFailed

router = api_router(prefix="/api/v1/tenants/{tenant_id}/integrations/{integration_id}", tags=["insurance"])
Key = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
KeyPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Coverage = Literal["accident", "liability", "health", "travel", "equipment", "event_cancellation"]
SERVICE: Responses = {
    409: {**P, "description": "Not an active insurance integration, or the service's capability flag is off."},
    502: {**P, "description": "The insurer refused or failed (detail names its answer)."},
}


class EnrolmentIn(Body):
    """The minimum the insurer's contract needs: no address, contact or health data."""

    key: Key = Field(description="The licence number: one enrolment per licence.", examples=["LIC-2026-000123"])
    first_name: Name
    last_name: Name
    birth_date: date
    licence_category: Key = Field(examples=["senior"])
    coverage_types: list[Coverage] = Field(min_length=1, max_length=6)
    policy_group_id: Key | None = Field(None, description="One of config.policy_group_ids (default: the first).")


class EnrolmentBatch(Body):
    enrolments: list[EnrolmentIn] = Field(min_length=1, max_length=500)


class ClaimIn(Body):
    key: Key = Field(description="The claim's key: submitted once.", examples=["CLM-2026-0042"])
    licence_key: Key
    occurred_on: date
    coverage_type: Coverage
    description: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    amount_minor: int | None = Field(None, ge=0, description="Claimed amount in minor units (öre, cent).")
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None


class ClaimBatch(Body):
    claims: list[ClaimIn] = Field(min_length=1, max_length=100)


class QuoteIn(Body):
    licence_category: Key = Field(examples=["senior"])
    age_band: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,3}(-[0-9]{1,3}|\+)$")] = Field(examples=["18-64"])
    coverage_types: list[Coverage] = Field(min_length=1, max_length=6)


class Quote(BaseModel):
    premium_minor: int = Field(description="The yearly premium in minor units.")
    currency: str
    coverage_types: list[str]


class Claim(BaseModel):
    claim_key: str
    status: str = Field(description="received, in_review, approved, rejected or paid (the insurer's word).")
    claim_id: str


def _group_known(document: InsuranceIntegration, records: list[EnrolmentIn]) -> None:
    groups = set(document.config.policy_group_ids)
    errors = [
        FieldError(f"/enrolments/{i}/policy_group_id", f"not one of config.policy_group_ids {sorted(groups)}")
        for i, e in enumerate(records)
        if e.policy_group_id is not None and e.policy_group_id not in groups
    ]
    if errors:
        raise ValidationFailed("Unknown policy groups.", errors[:50])


@outbox_post(router, "/outbox/insurance-enrolments", openapi_extra=any_of(Scope.licences_write, Scope.integrations_write))
def enqueue_insurance_enrolments(ref: Ref, principal: LicenceWriter, intake: IntakeDep, body: EnrolmentBatch) -> Any:
    """Hand licence holders in for auto-enrolment (delivered once each by enrol_licence_holders)"""
    document = intake.open(InsuranceIntegration, ref, "insurance_enrolment", "/enrolments", "takes no enrolments")
    _group_known(document, body.enrolments)
    return accepted(intake.store(document, "insurance_enrolment", body.enrolments, updatable=True))


@outbox_post(router, "/outbox/insurance-claims")
def enqueue_insurance_claims(ref: Ref, principal: Writer, intake: IntakeDep, body: ClaimBatch) -> Any:
    """Hand claims in for submission (delivered once each by submit_claims)"""
    document = intake.open(InsuranceIntegration, ref, "insurance_claim", "/claims", "takes no claims")
    return accepted(intake.store(document, "insurance_claim", body.claims, updatable=True))


def _insurer(live: LiveAdapters, ref: IntegrationRef, flag: str) -> Any:
    return live.active(ref, family="insurance", flag=flag)[1]


@router.post("/insurance/quotes", response_model=Quote, responses={**WRITE, **SERVICE})
async def quote_premium(ref: Ref, principal: Writer, live: LiveDep, body: QuoteIn) -> Any:
    """The insurer's yearly premium for a licence category and age band"""
    _, flag = SERVICES["quote_premium"]

    def ask() -> Any:
        return _insurer(live, ref, flag).quote_premium(body.model_dump(mode="json"))

    return Quote(**(await anyio.to_thread.run_sync(ask)))


@router.get("/insurance/claims/{claim_key}", response_model=Claim, responses={**COMMON, **SERVICE})
async def get_insurance_claim(ref: Ref, principal: Reader, live: LiveDep, claim_key: KeyPath) -> Any:
    """A submitted claim's status at the insurer"""
    found = await live.read(
        ref,
        family="insurance",
        flag="claims_submission",
        ask=lambda adapter: adapter.claim(claim_key),
        missing=f"The insurer knows no claim {claim_key} (a handed-in claim is submitted by submit_claims).",
    )
    return Claim(claim_key=claim_key, status=str(found["status"]), claim_id=str(found["claim_id"]))


@router.get(
    "/insurance/certificates/{licence_key}",
    response_class=Response,
    responses={
        **COMMON,
        **SERVICE,
        200: {
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The certificate.",
        },
    },
)
async def get_insurance_certificate(
    ref: Ref, principal: Reader, live: LiveDep, exports: ExportsDep, licence_key: KeyPath
) -> Response:
    """A licence holder's insurance certificate (the insurer's PDF, kept in Blob Storage)"""
    _, flag = SERVICES["certificates"]

    def fetch() -> bytes | None:
        pdf: bytes | None = _insurer(live, ref, flag).certificate(licence_key)
        if pdf is not None:  # kept: the federation's record of what the insurer certified, and when
            exports.put(
                f"{ref.tenant_id}/{ref.integration_id}/certificates/{licence_key}.pdf", pdf, content_type="application/pdf"
            )
        return pdf

    pdf = await anyio.to_thread.run_sync(fetch)
    if pdf is None:
        raise NotFound(f"{licence_key} is not enrolled with the insurer.")
    headers = {"Content-Disposition": f'attachment; filename="certificate-{licence_key}.pdf"', "Cache-Control": "no-store"}
    return Response(pdf, media_type="application/pdf", headers=headers)
