"""WADA/ADAMS intake and status: athletes' whereabouts filings and TUE applications handed to an ADAMS
integration (delivered once each by sync_whereabouts / submit_tues), and a TUE application's status.
Special-category health data: only the contract's fields are accepted (anything else is a 422), TUEs name the
Prohibited List class, never a diagnosis, and nothing of a payload is logged.

| operationId        | Method | Path (under …/integrations/{id})   |
|--------------------|--------|------------------------------------|
| enqueueWhereabouts | POST   | /outbox/adams-whereabouts          |
| enqueueTues        | POST   | /outbox/adams-tues                 |
| getTue             | GET    | /adams/tues/{key}                  |
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, Field, StringConstraints

from adapters import capabilities as can
from integrations.api.body import Body, distinct
from integrations.api.deps import IntakeDep, LiveDep, Reader, Ref, Writer
from integrations.api.intake import accepted, outbox_post
from integrations.api.problems import COMMON, problems
from integrations.api.routing import api_router
from integrations.documents.document import WadaAdamsIntegration
from shared.errors import FieldError, ValidationFailed

router = api_router(prefix="/api/v1/tenants/{tenant_id}/integrations/{integration_id}", tags=["adams"])
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
Time = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
SUBSTANCE_CLASSES = ("S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9", "M1", "M2", "M3", "P1")


class Slot(Body):
    date: date
    start: Time
    end: Time
    location: Annotated[str, StringConstraints(min_length=1, max_length=300)]


class WhereaboutsIn(Body):
    athlete_id: Id = Field(description="The athlete's ADAMS id (never a name).")
    quarter: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-Q[1-4]$")] = Field(examples=["2027-Q1"])
    sport_code: Id
    slots: Annotated[list[Slot], distinct(lambda slot: slot.date, "one slot a day")] = Field(
        min_length=1, max_length=92, description="One 60-minute slot a day, at most."
    )

    @property
    def key(self) -> str:
        return f"{self.athlete_id}|{self.quarter}"


class WhereaboutsBatch(Body):
    filings: list[WhereaboutsIn] = Field(min_length=1, max_length=200)


class TueIn(Body):
    key: Id = Field(description="The application's key: submitted once.")
    athlete_id: Id
    sport_code: Id
    substance_class: Literal[SUBSTANCE_CLASSES] = Field(  # type: ignore[valid-type]
        description="The WADA Prohibited List class of the substance — never the diagnosis."
    )
    submitted_on: date


class TueBatch(Body):
    tues: list[TueIn] = Field(min_length=1, max_length=100)


class TueStatus(BaseModel):
    key: str
    status: str = Field(description="submitted, under_review, granted or denied (ADAMS' word).")


def _sports_known(document: WadaAdamsIntegration, codes: list[str], pointer: str) -> None:
    allowed = set(document.config.sport_codes)
    errors = [FieldError(f"/{pointer}/{i}/sport_code", f"not one of config.sport_codes {sorted(allowed)}")
              for i, code in enumerate(codes) if code not in allowed]  # fmt: skip
    if errors:
        raise ValidationFailed("Unknown sport codes.", errors[:50])


@outbox_post(router, "/outbox/adams-whereabouts")
def enqueue_whereabouts(ref: Ref, principal: Writer, intake: IntakeDep, body: WhereaboutsBatch) -> Any:
    """Hand athletes' whereabouts filings to ADAMS (a new version of a quarter updates the filing)"""
    document = intake.open(WadaAdamsIntegration, ref, "whereabouts", "/filings", "takes no whereabouts")
    _sports_known(document, [f.sport_code for f in body.filings], "filings")
    return accepted(intake.store(document, "whereabouts", body.filings, updatable=True))


@outbox_post(router, "/outbox/adams-tues")
def enqueue_tues(ref: Ref, principal: Writer, intake: IntakeDep, body: TueBatch) -> Any:
    """Hand TUE applications to ADAMS (submitted once each)"""
    document = intake.open(WadaAdamsIntegration, ref, "tue", "/tues", "takes no TUE applications")
    _sports_known(document, [t.sport_code for t in body.tues], "tues")
    return accepted(intake.store(document, "tue", body.tues))


@router.get(
    "/adams/tues/{key}",
    response_model=TueStatus,
    responses=problems(
        COMMON, own={409: "Not an active ADAMS integration with TUE management on.", 502: "ADAMS refused or failed."}
    ),
)
async def get_tue(
    ref: Ref, principal: Reader, live: LiveDep, key: Annotated[str, Path(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
) -> Any:
    """A TUE application's status in ADAMS"""

    def ask(adapter: can.TueSubmissions) -> dict[str, Any] | None:
        return adapter.tue(key)

    found = await live.read(
        ref,
        family="wada_adams",
        flag="tue_management",
        ask=ask,
        missing=f"ADAMS knows no TUE application {key}.",
    )
    return TueStatus(key=key, status=str(found["status"]))
