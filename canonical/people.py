"""People and the organisations they belong to: Person, Member, Club, Licence, Membership."""

from __future__ import annotations

from datetime import date
from typing import Literal

from canonical.fields import Canonical, CountryCode, Currency, Email, Key, Owner, Phone, Ref, Text, field

Gender = Literal["female", "male", "other", "unknown"]
MembershipStatus = Literal["active", "pending", "lapsed", "suspended", "resigned"]


class Person(Canonical):
    """A natural person as the federation knows them (athlete, official, coach, volunteer, guardian)."""

    first_name: Text | None = field("Given name(s), as written by the person.", example="Anna", default=None)
    last_name: Text | None = field("Family name(s), as written by the person.", example="Lindqvist", default=None)
    birth_date: date | None = field("Date of birth (ISO 8601).", example="1994-03-17", default=None)
    gender: Gender | None = field(
        "Gender for competition categories; `unknown` when the source does not say.", example="female", default=None
    )
    email: Email | None = field("Primary e-mail address.", example="anna.lindqvist@example.se", default=None)
    phone: Phone | None = field("Mobile number in E.164.", example="+46701234567", default=None)
    street: Text | None = field("Street address, one line.", example="Storgatan 1", default=None)
    postal_code: str | None = field("Postal code as the country writes it.", example="114 51", default=None, max_length=20)
    city: Text | None = field("Town or city.", example="Stockholm", default=None)
    country: CountryCode | None = field("Country of residence (ISO 3166-1 alpha-2).", example="SE", default=None)
    nationality: CountryCode | None = field(
        "Sporting nationality (ISO 3166-1 alpha-2): what eligibility rules read.", example="SE", default=None
    )


class Member(Person):
    """A person's membership record in the federation: the record the CRM sync and member imports carry.
    Its field names are the platform's own names (the left-hand side of a CRM field mapping)."""

    member_id: Key = field("The platform's member id: the record's key everywhere in the hub.", example="M-0042")
    club_id: Ref | None = field("The member's home club (Club.club_id).", example="CLUB-117", default=None)
    licence_number: Ref | None = field(
        "Current licence number (Licence.licence_number).", example="L-26-004211", default=None
    )
    licence_category: Ref | None = field(
        "Current licence category in the federation's own vocabulary (recipes map legacy codes onto it).",
        example="senior",
        default=None,
    )
    membership_status: MembershipStatus | None = field("Standing of the membership.", example="active", default=None)
    joined_on: date | None = field("When the person first joined the federation.", example="2011-09-01", default=None)
    segment: Text | None = field(
        "Marketing segment; usually owned by the CRM (field_ownership `crm`).",
        example="family",
        owner=Owner.provider,
        default=None,
    )


class Club(Canonical):
    """A club (association) affiliated to the federation."""

    club_id: Key = field("The platform's club id.", example="CLUB-117")
    name: Text = field("Registered name.", example="Boule Club de Marseille")
    short_name: str | None = field("Short name used in results.", example="BC Marseille", default=None, max_length=50)
    federation_code: Ref | None = field("The club's number at its national federation.", example="13-0042", default=None)
    region: Text | None = field("Regional committee or district.", example="Bouches-du-Rhône", default=None)
    city: Text | None = field("Seat of the club.", example="Marseille", default=None)
    country: CountryCode | None = field("Country (ISO 3166-1 alpha-2).", example="FR", default=None)
    email: Email | None = field("Club contact e-mail.", example="contact@bc-marseille.example", default=None)
    founded_on: date | None = field("Founding date.", example="1948-05-01", default=None)


class Licence(Canonical):
    """A licence (permission to compete or officiate) for one season."""

    licence_number: Key = field("Licence number, unique within the federation.", example="L-26-004211")
    member_id: Key = field("Whose licence (Member.member_id).", example="M-0042")
    category: Ref = field("Licence category (federation vocabulary).", example="senior")
    season: str = field("Season the licence is valid for.", example="2026", pattern=r"^\d{4}(-\d{4})?$")
    discipline: Ref | None = field("Discipline, where the federation licenses several.", example="petanque", default=None)
    valid_from: date | None = field("First valid day.", example="2026-01-01", default=None)
    valid_until: date | None = field("Last valid day.", example="2026-12-31", default=None)
    status: Literal["valid", "pending", "suspended", "expired"] = field("Licence status.", example="valid", default="valid")


class Membership(Canonical):
    """A member's affiliation to a club for a season, with the fee it cost."""

    membership_id: Key = field("The platform's membership id.", example="MS-2026-0042")
    member_id: Key = field("The member (Member.member_id).", example="M-0042")
    club_id: Ref = field("The club (Club.club_id).", example="CLUB-117")
    season: str = field("Season.", example="2026", pattern=r"^\d{4}(-\d{4})?$")
    kind: Literal["player", "official", "coach", "volunteer", "supporter"] = field(
        "Role the membership is for.", example="player", default="player"
    )
    started_on: date = field("First day.", example="2026-01-01")
    ended_on: date | None = field("Last day, when ended early or fixed.", example="2026-12-31", default=None)
    fee_minor: int | None = field("Fee paid, in minor units.", example=45000, unit="minor currency unit", default=None, ge=0)
    currency: Currency | None = field("Currency of the fee (ISO 4217).", example="SEK", default=None)
