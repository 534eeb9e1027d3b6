"""Seed 003's field mapping, checked against the CRM it maps to: the platform side must be canonical member
fields (GET /api/v1/models/member/fields), the CRM side must exist on the chosen object and be writable there
(read live through the adapter's metadata). A field whose types do not agree is a warning, not a refusal: a
CRM text field can hold a date, but the admin should know."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from adapters.crm import CrmField, CrmObject
from canonical.catalog import MODELS
from integrations.documents.common import Strict
from shared.errors import FieldError, ValidationFailed

Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]

# The CRM type words (Dataverse AttributeType, EspoCRM field type) that hold each canonical JSON Schema type.
COMPATIBLE: dict[str, frozenset[str]] = {
    "string": frozenset({"String", "Memo", "EntityName", "Picklist", "varchar", "text", "email", "phone", "url",
                         "enum", "personName", "wysiwyg"}),
    "date": frozenset({"DateTime", "date", "datetime", "datetimeOptional"}),
    "date-time": frozenset({"DateTime", "datetime", "datetimeOptional"}),
    "integer": frozenset({"Integer", "BigInt", "Decimal", "Double", "Money", "int", "float", "currency"}),
    "number": frozenset({"Decimal", "Double", "Money", "float", "currency"}),
    "boolean": frozenset({"Boolean", "bool"}),
}  # fmt: skip
_TAG_TYPES = frozenset({"String", "Memo", "varchar", "text", "multiEnum", "array"})


class FieldMapping(Strict):
    member_object: Name = Field(description="CRM object holding members (e.g. contact).", examples=["contact"])
    member_field_map: dict[Name, Name] = Field(
        min_length=1,
        max_length=500,
        description="Canonical member field → CRM field on member_object.",
        examples=[{"first_name": "firstname", "email": "emailaddress1"}],
    )
    event_tag_field: Name = Field(description="CRM field (on member_object) receiving event attendance.")
    course_tag_field: Name | None = Field(None, description="CRM field (on member_object) receiving completed courses.")
    order_object: Name | None = Field(None, description="CRM object receiving orders.")
    order_field_map: dict[Name, Name] = Field(
        default_factory=dict, max_length=500, description="Order field → CRM field on order_object."
    )

    def patch(self, current: Any) -> dict[str, Any]:
        """The merge patch (RFC 7396) that makes the integration's config this mapping: the maps are replaced,
        not merged (a key left out is removed), and field_ownership forgets the fields no longer mapped."""
        config: dict[str, Any] = self.model_dump()
        for name in ("member_field_map", "order_field_map"):
            config[name] = {**dict.fromkeys(getattr(current, name)), **config[name]}
        dropped = [f for f in current.field_ownership if f not in self.member_field_map]
        if dropped:
            config["field_ownership"] = dict.fromkeys(dropped)
        return {"config": config}


def _canonical_type(prop: dict[str, Any]) -> str:
    option = next((o for o in prop.get("anyOf", [prop]) if o.get("type") != "null"), prop)
    return str(option.get("format") or option.get("type") or "string")


def check_mapping(
    mapping: FieldMapping, objects: Callable[[], list[CrmObject]], fields: Callable[[str], list[CrmField]]
) -> list[FieldError]:
    """Raises ValidationFailed naming every field that is refused; returns the warnings."""
    errors: list[FieldError] = []
    warnings: list[FieldError] = []
    known_objects = {o.name for o in objects()}
    canonical = MODELS["member"].schema()["properties"]

    def object_fields(pointer: str, name: str) -> dict[str, CrmField] | None:
        if name not in known_objects:
            errors.append(
                FieldError(pointer, f"the CRM has no object {name!r} (it has: {', '.join(sorted(known_objects))})")
            )
            return None
        return {f.name: f for f in fields(name)}

    def remote(pointer: str, on: dict[str, CrmField], obj: str, name: str) -> CrmField | None:
        found = on.get(name)
        if found is None:
            errors.append(FieldError(pointer, f"{obj} has no field {name!r}"))
        elif not found.writable:
            errors.append(FieldError(pointer, f"{obj}.{name} is read-only at the CRM"))
        return found

    members = object_fields("/member_object", mapping.member_object)
    for ours, theirs in mapping.member_field_map.items():
        pointer = f"/member_field_map/{ours}"
        if ours not in canonical or ours == "member_id":
            errors.append(FieldError(pointer, "not a canonical member field (GET /api/v1/models/member/fields)"))
            continue
        if members is None:
            continue
        field = remote(pointer, members, mapping.member_object, theirs)
        want = _canonical_type(canonical[ours])
        if field and field.writable and field.type not in COMPATIBLE.get(want, frozenset()):
            warnings.append(FieldError(pointer, f"{ours} is a {want}; {mapping.member_object}.{theirs} is {field.type}"))
    for pointer, tag in (("/event_tag_field", mapping.event_tag_field), ("/course_tag_field", mapping.course_tag_field)):
        if tag and members is not None:
            field = remote(pointer, members, mapping.member_object, tag)
            if field and field.writable and field.type not in _TAG_TYPES:
                warnings.append(FieldError(pointer, f"tags are text; {mapping.member_object}.{tag} is {field.type}"))
    if mapping.order_object:
        orders = object_fields("/order_object", mapping.order_object)
        for ours, theirs in mapping.order_field_map.items():
            if orders is not None:
                remote(f"/order_field_map/{ours}", orders, mapping.order_object, theirs)
    elif mapping.order_field_map:
        errors.append(FieldError("/order_field_map", "order_object is required with order_field_map"))
    if errors:
        raise ValidationFailed("The field mapping does not fit the CRM.", errors)
    return warnings
