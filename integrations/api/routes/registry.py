"""Membership reports for a government sports registry (the outbox intake of report_memberships): one report
per reporting period, with each club's member count and its breakdowns. A report sent again for the same
period replaces the pending one, or — once delivered — goes to the registry as a revision."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, computed_field, model_validator

from integrations.api.deps import IntakeDep, IntegrationId, TenantId, Writer
from integrations.api.intake import OutboxResult
from integrations.api.problems import CONDITIONAL, WRITE
from shared.errors import FieldError, ValidationFailed

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/integrations/{integration_id}", tags=["records"])

Count = Annotated[int, Field(ge=0, le=10_000_000)]
Bucket = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_+-]{1,20}$")]


class ClubCount(BaseModel):
    model_config = ConfigDict(extra="forbid")
    club_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,50}$")]
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    members: Count
    by_gender: dict[Bucket, Count] = Field(
        default_factory=dict, max_length=10, description="Must add up to members when given.", examples=[{"female": 40}]
    )
    by_age_band: dict[Bucket, Count] = Field(
        default_factory=dict, max_length=20, description="Must add up to members when given.", examples=[{"0-20": 12}]
    )


class MembershipReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    period: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}(-(Q[1-4]|H[12]|0[1-9]|1[0-2]))?$")] = Field(
        description="The reporting period: a year, half-year, quarter or month.", examples=["2026", "2026-Q3"]
    )
    as_of: date = Field(description="The day the counts were taken.")
    clubs: list[ClubCount] = Field(min_length=1, max_length=5000)

    @property
    def key(self) -> str:
        return self.period

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_members(self) -> int:
        """Stored with the report: the registry checks the clubs against it."""
        return sum(c.members for c in self.clubs)

    @model_validator(mode="after")
    def _unique_clubs(self) -> MembershipReportIn:
        ids = [c.club_id for c in self.clubs]
        if len(ids) != len(set(ids)):
            raise ValueError("each club appears once per report")
        return self


class MembershipReportBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reports: list[MembershipReportIn] = Field(min_length=1, max_length=12)


def _breakdowns_add_up(reports: list[MembershipReportIn]) -> None:
    errors = [
        FieldError(f"/reports/{i}/clubs/{j}/{name}", f"adds up to {sum(split.values())}, not members ({club.members})")
        for i, report in enumerate(reports)
        for j, club in enumerate(report.clubs)
        for name, split in (("by_gender", club.by_gender), ("by_age_band", club.by_age_band))
        if split and sum(split.values()) != club.members
    ]
    if errors:
        raise ValidationFailed("Some breakdowns do not add up to the club's members.", errors[:50])


@router.post(
    "/outbox/membership-reports",
    status_code=202,
    operation_id="enqueueMembershipReports",
    summary="Hand membership reports to a registry integration (delivered by report_memberships on its schedule)",
    response_model=OutboxResult,
    responses={**WRITE, 409: CONDITIONAL[409]},
)
def enqueue_membership_reports(
    tenant_id: TenantId, integration_id: IntegrationId, principal: Writer, intake: IntakeDep, body: MembershipReportBatch
) -> Any:
    document = intake.open(tenant_id, integration_id, "membership_report", "/reports", "takes no membership reports")
    if not document.capabilities.membership_reporting:
        raise ValidationFailed(
            "This integration does not report memberships.",
            [FieldError("/reports", "capabilities.membership_reporting is off")],
        )
    _breakdowns_add_up(body.reports)
    return intake.store(document, "membership_report", body.reports, updatable=True)
