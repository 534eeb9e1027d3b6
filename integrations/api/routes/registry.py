"""Membership reports for a government sports registry (the outbox intake of report_memberships): one report
per reporting period, with each club's member count and its breakdowns. A report sent again for the same
period replaces the pending one, or — once delivered — goes to the registry as a revision."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, Field, StringConstraints, computed_field, model_validator

from integrations.api.body import Body, distinct
from integrations.api.deps import IntakeDep, LiveDep, Reader, Ref, Writer
from integrations.api.intake import Intake, accepted, outbox_post
from integrations.api.problems import COMMON, problems
from integrations.api.routing import api_router
from integrations.documents.document import GovSportsRegistryIntegration
from integrations.documents.ref import IntegrationRef
from shared.errors import FieldError, ValidationFailed

router = api_router(prefix="/api/v1/tenants/{tenant_id}/integrations/{integration_id}", tags=["records"])

Count = Annotated[int, Field(ge=0, le=10_000_000)]
Bucket = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_+-]{1,20}$")]


class ClubCount(Body):
    club_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,50}$")]
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    members: Count
    by_gender: dict[Bucket, Count] = Field(
        default_factory=dict, max_length=10, description="Must add up to members when given.", examples=[{"female": 40}]
    )
    by_age_band: dict[Bucket, Count] = Field(
        default_factory=dict, max_length=20, description="Must add up to members when given.", examples=[{"0-20": 12}]
    )


class MembershipReportIn(Body):
    period: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}(-(Q[1-4]|H[12]|0[1-9]|1[0-2]))?$")] = Field(
        description="The reporting period: a year, half-year, quarter or month.", examples=["2026", "2026-Q3"]
    )
    as_of: date = Field(description="The day the counts were taken.")
    clubs: Annotated[list[ClubCount], distinct(lambda club: club.club_id, "each club appears once per report")] = Field(
        min_length=1, max_length=5000
    )

    @property
    def key(self) -> str:
        return self.period

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_members(self) -> int:
        """Stored with the report: the registry checks the clubs against it."""
        return sum(c.members for c in self.clubs)


class MembershipReportBatch(Body):
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


@outbox_post(router, "/outbox/membership-reports")
def enqueue_membership_reports(ref: Ref, principal: Writer, intake: IntakeDep, body: MembershipReportBatch) -> Any:
    """Hand membership reports to a registry integration (delivered by report_memberships on its schedule)"""
    document = intake.open(
        GovSportsRegistryIntegration,
        ref,
        "membership_report",
        "/reports",
        "takes no membership reports",
    )
    if not document.capabilities.membership_reporting:
        raise ValidationFailed(
            "This integration does not report memberships.",
            [FieldError("/reports", "capabilities.membership_reporting is off")],
        )
    _breakdowns_add_up(body.reports)
    return accepted(intake.store(document, "membership_report", body.reports, updatable=True))


# --- the registry's other filings: grant applications, facilities, event reports ------------------------------
Key = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=300)]


class GrantApplicationIn(Body):
    key: Key = Field(description="The application's key: one application per key.")
    programme: Text = Field(examples=["Idrottslyftet 2027"])
    purpose: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    amount_minor: int = Field(ge=1, description="Applied-for amount in minor units.")
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    year: int = Field(ge=2000, le=2100)


class FacilityIn(Body):
    key: Key
    name: Text
    kind: Literal["boulodrome", "indoor_hall", "clubhouse"]
    address: Text
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    pistes: int = Field(ge=0, le=500)
    accessible: bool = False


class EventReportIn(Body):
    key: Key
    title: Text
    starts_on: date
    ends_on: date
    level: Literal["club", "regional", "national", "international"]
    participants: int = Field(ge=0)
    clubs: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _in_order(self) -> EventReportIn:
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        return self


class GrantApplications(Body):
    applications: list[GrantApplicationIn] = Field(min_length=1, max_length=50)


class Facilities(Body):
    facilities: list[FacilityIn] = Field(min_length=1, max_length=500)


class EventReports(Body):
    events: list[EventReportIn] = Field(min_length=1, max_length=500)


def _intake(intake: Intake, ref: IntegrationRef, kind: str, pointer: str, records: list[Any]) -> Any:
    document = intake.open(GovSportsRegistryIntegration, ref, kind, pointer, f"takes no {kind.replace('_', ' ')}s")
    return accepted(intake.store(document, kind, records, updatable=True))


@outbox_post(router, "/outbox/registry-grant-applications")
def enqueue_grant_applications(ref: Ref, principal: Writer, intake: IntakeDep, body: GrantApplications) -> Any:
    """Hand grant applications to a registry integration (submitted once each)"""
    return _intake(intake, ref, "grant_application", "/applications", body.applications)


@outbox_post(router, "/outbox/registry-facilities")
def enqueue_facilities(ref: Ref, principal: Writer, intake: IntakeDep, body: Facilities) -> Any:
    """Hand facilities to register with the registry (a change updates the registration)"""
    return _intake(intake, ref, "facility", "/facilities", body.facilities)


@outbox_post(router, "/outbox/registry-event-reports")
def enqueue_event_reports(ref: Ref, principal: Writer, intake: IntakeDep, body: EventReports) -> Any:
    """Hand events and competitions to report to the registry (a correction revises the report)"""
    return _intake(intake, ref, "event_report", "/events", body.events)


class GrantStatus(BaseModel):
    key: str
    status: str = Field(description="submitted, under_review, approved or rejected (the registry's word).")


@router.get(
    "/registry/grant-applications/{key}",
    response_model=GrantStatus,
    responses=problems(
        COMMON,
        own={409: "Not an active registry integration with grant applications on.", 502: "The registry refused or failed."},
    ),
)
async def get_grant_application(
    ref: Ref, principal: Reader, live: LiveDep, key: Annotated[str, Path(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
) -> Any:
    """A grant application's status at the registry"""
    found = await live.read(
        ref,
        family="gov_sports_registry",
        flag="grant_applications",
        ask=lambda adapter: adapter.filing("grant_application", key),
        missing=f"The registry knows no grant application {key}.",
    )
    return GrantStatus(key=key, status=str(found["status"]))
