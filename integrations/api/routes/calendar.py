"""The platform's events for a calendar integration (the outbox intake of push_events): competitions, training
sessions and meetings, each a version of the event under the platform's key — a later version updates the
calendar's copy, `cancelled` removes it. Events of types outside the integration's event-type filter are not
taken (the answer counts them)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from integrations.api.body import Body
from integrations.api.deps import IntakeDep, Ref, Writer
from integrations.api.intake import OutboxResult, outbox_post
from integrations.api.routing import api_router
from integrations.documents.common import Slug
from integrations.documents.document import CalendarIntegration

router = api_router(prefix="/api/v1/tenants/{tenant_id}/integrations/{integration_id}", tags=["records"])


class CalendarEventIn(Body):
    key: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,80}$")] = Field(
        description="The platform's event id; a later version with the same key updates the event."
    )
    title: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    starts_at: AwareDatetime | date = Field(
        description="A time with offset, or a date for an all-day event.", examples=["2026-06-13T09:00:00+02:00"]
    )
    ends_at: AwareDatetime | date = Field(
        description="Same kind as starts_at; for all-day events the day after the last day (exclusive, as iCalendar).",
        examples=["2026-06-13T18:00:00+02:00"],
    )
    location: Annotated[str, StringConstraints(max_length=300)] | None = None
    description: Annotated[str, StringConstraints(max_length=8000)] | None = None
    event_type: Slug | None = Field(None, description="Checked against the integration's event_type_filter.")
    cancelled: bool = Field(False, description="The event was called off: it is removed from the calendar.")

    @model_validator(mode="after")
    def _span(self) -> CalendarEventIn:
        if isinstance(self.starts_at, datetime) != isinstance(self.ends_at, datetime):
            raise ValueError("starts_at and ends_at must both be times or both be dates")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class CalendarEventBatch(Body):
    events: list[CalendarEventIn] = Field(min_length=1, max_length=500)


class CalendarOutboxResult(OutboxResult):
    filtered: int = Field(0, description="Events whose type the integration's event_type_filter leaves out (not taken).")


@outbox_post(router, "/outbox/calendar-events", model=CalendarOutboxResult)
def enqueue_calendar_events(ref: Ref, principal: Writer, intake: IntakeDep, body: CalendarEventBatch) -> Any:
    """Hand events to a calendar integration (written to the calendar by push_events)"""
    document = intake.open(CalendarIntegration, ref, "calendar_event", "/events", "does not write events to the calendar")
    wanted = set(document.config.event_type_filter)
    taken = [e for e in body.events if not wanted or e.event_type in wanted]
    result = intake.store(document, "calendar_event", taken, updatable=True)
    return CalendarOutboxResult(**result.model_dump(), filtered=len(body.events) - len(taken))
