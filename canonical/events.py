"""What members take part in: Competition (an event on the calendar), Registration (a member entered in one)
and CourseEnrollment (a member on a course at a learning platform)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, StringConstraints

from canonical.fields import Canonical, CountryCode, Currency, Key, Owner, Ref, Text, field


class Competition(Canonical):
    """A competition or event on the federation's calendar."""

    competition_id: Key = field("The platform's competition id.", example="SM-2026-TRIPLETTE")
    name: Text = field("Public name.", example="SM i boule 2026, triplette")
    discipline: Ref | None = field("Discipline.", example="petanque", default=None)
    level: Literal["club", "regional", "national", "international"] = field("Level.", example="national", default="club")
    starts_at: AwareDatetime = field("Start, with its offset.", example="2026-08-14T09:00:00+02:00")
    ends_at: AwareDatetime | None = field("End, with its offset.", example="2026-08-16T18:00:00+02:00", default=None)
    venue: Text | None = field("Venue name.", example="Bouledromen Stockholm", default=None)
    city: Text | None = field("City.", example="Stockholm", default=None)
    country: CountryCode | None = field("Country (ISO 3166-1 alpha-2).", example="SE", default=None)
    organiser_club_id: Ref | None = field("Organising club (Club.club_id).", example="CLUB-117", default=None)


class Registration(Canonical):
    """A member's entry in a competition."""

    registration_id: Key = field("The platform's registration id.", example="REG-88121")
    competition_id: Key = field("The competition (Competition.competition_id).", example="SM-2026-TRIPLETTE")
    member_id: Key = field("Who is entered (Member.member_id).", example="M-0042")
    category: Ref | None = field("Entry category (age/gender class).", example="open", default=None)
    status: Literal["registered", "confirmed", "checked_in", "withdrawn"] = field(
        "Entry status.", example="confirmed", default="registered"
    )
    registered_at: datetime | None = field("When the entry was made.", example="2026-06-01T10:15:00+02:00", default=None)
    fee_minor: int | None = field(
        "Entry fee, in minor units.", example=25000, unit="minor currency unit", default=None, ge=0
    )
    currency: Currency | None = field("Currency of the fee.", example="SEK", default=None)


class CourseEnrollment(Canonical):
    """A member enrolled on a course (coach education, referee training) at a learning platform."""

    key: Key = field("The platform's enrollment id: delivered once by it.", example="ENR-2026-0007")
    member_id: Annotated[str, StringConstraints(min_length=1, max_length=50)] = field(
        "The member (Member.member_id).", example="M-0042"
    )
    course_id: Annotated[str, StringConstraints(min_length=1, max_length=50)] = field(
        "The course at the learning platform.", example="REF-L1"
    )
    course_title: Text = field("Course title as shown to learners.", example="Referee level 1")
    status: Literal["enrolled", "in_progress", "completed", "withdrawn"] = field(
        "Progress; `completed` is usually reported back by the learning platform.", example="enrolled"
    )
    enrolled_on: date = field("Enrollment date.", example="2026-02-01")
    completed_on: date | None = field(
        "Completion date, set by the learning platform.", example="2026-04-12", owner=Owner.provider, default=None
    )
