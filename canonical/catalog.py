"""Every canonical model by its public name, with its version. A model's version changes whenever its schema
does (a suite test holds the current schemas to the latest release in canonical/releases/)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from canonical.events import Competition, CourseEnrollment, Registration
from canonical.fields import Canonical
from canonical.messages import Message
from canonical.money import Expense, Invoice, Payment, Reimbursement
from canonical.people import Club, Licence, Member, Membership, Person


@dataclass(frozen=True)
class ModelEntry:
    name: str
    version: str
    model: type[Canonical]
    key: str | None  # the field that identifies a record (imports deduplicate on it); None: not stored alone

    @property
    def description(self) -> str:
        return (self.model.__doc__ or "").strip()

    def schema(self) -> dict[str, Any]:
        return self.model.model_json_schema(mode="validation")


MODELS: dict[str, ModelEntry] = {
    e.name: e
    for e in (
        ModelEntry("person", "1.0", Person, None),
        ModelEntry("member", "1.0", Member, "member_id"),
        ModelEntry("club", "1.0", Club, "club_id"),
        ModelEntry("licence", "1.0", Licence, "licence_number"),
        ModelEntry("membership", "1.0", Membership, "membership_id"),
        ModelEntry("competition", "1.0", Competition, "competition_id"),
        ModelEntry("registration", "1.0", Registration, "registration_id"),
        ModelEntry("course_enrollment", "1.0", CourseEnrollment, "key"),
        ModelEntry("invoice", "1.0", Invoice, "key"),
        ModelEntry("payment", "1.0", Payment, "key"),
        ModelEntry("expense", "1.0", Expense, "key"),
        ModelEntry("reimbursement", "1.0", Reimbursement, "key"),
        ModelEntry("message", "1.0", Message, "key"),
    )
}
