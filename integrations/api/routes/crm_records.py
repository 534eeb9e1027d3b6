"""Records for a CRM integration (seed 003): members (sync_members), event attendance and course completions
(push_tags) and orders (push_orders), each field checked against the integration's field maps."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, StringConstraints
from pydantic import ValidationError as PydanticValidationError

from canonical.people import Member
from integrations.api.body import Body
from integrations.api.deps import ApiVersionDep, IntakeDep, MemberWriter, Ref, Writer, any_of
from integrations.api.intake import Intake, accepted, outbox_post, require_fields_mapped
from integrations.api.problems import WRITE
from integrations.api.routing import api_router
from integrations.auth.principal import Scope
from integrations.documents.document import CrmIntegration
from integrations.documents.ref import IntegrationRef
from shared.errors import FieldError, ValidationFailed

router = api_router(prefix="/api/v1/tenants/{tenant_id}/integrations/{integration_id}", tags=["records"])


MemberValue = Annotated[str, StringConstraints(max_length=1000)] | int | float | bool | None


class MemberIn(Body):
    key: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,80}$")] = Field(
        description="The platform's member id (kept at the CRM in member_key_field)."
    )
    updated_at: AwareDatetime = Field(
        description="When the platform last changed this member: compared with the CRM's modified time for "
        "shared fields (the later change wins)."
    )
    fields: dict[Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")], MemberValue] = Field(
        min_length=1,
        max_length=200,
        examples=[
            {"first_name": "Anna", "last_name": "Lindqvist", "email": "anna@example.se", "membership_status": "active"}
        ],
        description="Member fields by their canonical names (GET /api/v1/models/member/fields; the keys "
        "of member_field_map).",
    )


def canonical_member(index: int, member: MemberIn) -> MemberIn:
    """The member's fields are canonical Member fields (GET /api/v1/models/member/fields), each value valid for
    its field; values come back normalised (country codes upper-cased, dates in ISO form)."""
    pointer = f"/members/{index}/fields"
    unknown = [
        FieldError(f"{pointer}/{name}", "not a field of the canonical member model (GET /api/v1/models/member/fields)")
        for name in member.fields
        if name not in MEMBER_FIELDS
    ]
    if unknown:
        raise ValidationFailed("Some member fields are not canonical member fields.", unknown[:50])
    try:
        valid = Member.model_validate({**member.fields, "member_id": member.key})
    except PydanticValidationError as exc:
        errors = [FieldError(f"{pointer}/{e['loc'][0]}", e["msg"]) for e in exc.errors() if e["loc"]]
        raise ValidationFailed("Some member fields have invalid values.", errors[:50]) from None
    values = valid.model_dump(mode="json", include=set(member.fields))
    return member.model_copy(update={"fields": values})


MEMBER_FIELDS = frozenset(Member.model_fields) - {"member_id"}


class MemberBatch(Body):
    members: list[MemberIn] = Field(min_length=1, max_length=1000)


@outbox_post(router, "/outbox/members", responses=WRITE, openapi_extra=any_of(Scope.members_write, Scope.integrations_write))
def enqueue_members(ref: Ref, principal: MemberWriter, intake: IntakeDep, body: MemberBatch, version: ApiVersionDep) -> Any:
    """Hand the current state of members to the hub (delivered by the next sync_members run)"""
    document = intake.open(CrmIntegration, ref, "member", "/members", "takes no members")
    if version != "1.0":  # 1.0 took any mapped name (integrations/api_versions.py); its sunset ends that
        body = MemberBatch(members=[canonical_member(i, m) for i, m in enumerate(body.members)])
    require_fields_mapped("members", body.members, document.config.member_field_map, "member_field_map")
    return accepted(intake.store(document, "member", body.members, updatable=True))


class TagIn(Body):
    key: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,80}$")] = Field(
        description="The platform's id of this attendance or completion."
    )
    member_key: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,80}$")] = Field(
        description="The member (synced through sync_members)."
    )
    label: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^;]+$")] = Field(
        description="What lands in the CRM's tag field, e.g. the event or course name.", examples=["SM i boule 2026"]
    )


class TagBatch(Body):
    items: list[TagIn] = Field(min_length=1, max_length=1000)


class TagRecord(TagIn):
    tag_type: Literal["event", "course"]


def _tags(intake: Intake, ref: IntegrationRef, body: TagBatch, tag_type: str, capability: str) -> Any:
    document = intake.open(CrmIntegration, ref, "tag", "/items", "takes no CRM tags")
    if not getattr(document.capabilities, capability):
        raise ValidationFailed(
            "This integration does not record these.", [FieldError("/items", f"capabilities.{capability} is off")]
        )
    if tag_type == "course" and not document.config.course_tag_field:
        raise ValidationFailed(
            "No CRM field receives courses.", [FieldError("/items", "config.course_tag_field is not set")]
        )
    records = [TagRecord(**item.model_dump(), tag_type=tag_type) for item in body.items]
    return accepted(intake.store(document, "tag", records))


@outbox_post(router, "/outbox/attendance")
def enqueue_attendance(ref: Ref, principal: Writer, intake: IntakeDep, body: TagBatch) -> Any:
    """Event attendance/registration → the member's event tag field in the CRM (push_tags)"""
    return _tags(intake, ref, body, "event", "event_attendance")


@outbox_post(router, "/outbox/course-completions")
def enqueue_course_completions(ref: Ref, principal: Writer, intake: IntakeDep, body: TagBatch) -> Any:
    """Completed courses → the member's course tag field in the CRM (push_tags)"""
    return _tags(intake, ref, body, "course", "course_completion")


class OrderIn(Body):
    key: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,80}$")] = Field(
        description="The platform's order id (kept in the CRM's order_key_field)."
    )
    fields: dict[Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")], MemberValue] = Field(
        min_length=1, max_length=200, description="Order fields by their platform names (keys of order_field_map)."
    )


class OrderBatch(Body):
    orders: list[OrderIn] = Field(min_length=1, max_length=1000)


@outbox_post(router, "/outbox/orders")
def enqueue_orders(ref: Ref, principal: Writer, intake: IntakeDep, body: OrderBatch) -> Any:
    """Orders/transactions → records of the CRM's order object (push_orders)"""
    document = intake.open(CrmIntegration, ref, "order", "/orders", "takes no orders")
    if not document.config.order_object:
        raise ValidationFailed(
            "This integration does not sync orders.", [FieldError("/orders", "needs config.order_object")]
        )
    require_fields_mapped("orders", body.orders, document.config.order_field_map, "order_field_map")
    return accepted(intake.store(document, "order", body.orders))
