"""What a CRM adapter offers the member sync (integrations/sync/members.py): changed records page by page
with a resumable cursor, lookups by the CRM's id and by our member key, create, and a conditional update
that says when the record changed underneath (`StaleMember`). Field names here are the CRM's; the sync maps
them to the platform's through config.member_field_map."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.base import Adapter, CursorExpired
from integrations.documents.document import CrmIntegration

__all__ = ["CursorExpired"]  # re-exported: CRM callers catch it from here


@dataclass(frozen=True)
class RemoteMember:
    external_id: str
    fields: dict[str, Any]  # CRM field → value (mapped fields only)
    modified_at: datetime
    version: str | None = None  # ETag (Dataverse) or versionNumber (EspoCRM): the If-Match of the next update
    key: str | None = None  # the platform's member key, when the record carries one


@dataclass(frozen=True)
class ChangePage:
    members: list[RemoteMember]
    deleted: list[str]  # CRM ids of records deleted since the cursor
    cursor: str | None  # where to resume after this page (None: only at the end of the walk)


@dataclass(frozen=True)
class CrmObject:
    name: str  # what config.member_object / order_object take
    label: str


@dataclass(frozen=True)
class CrmField:
    name: str  # what member_field_map / order_field_map values take
    label: str
    type: str  # the CRM's own type word (String, DateTime, varchar, enum…)
    writable: bool = True  # false: computed or system-owned at the CRM (a mapping may not write it)


class StaleMember(Exception):
    """The CRM record changed since the version we hold (412 / version conflict)."""


class CrmAdapter(Adapter[CrmIntegration]):
    """The CRM family's shared parts; what each sync operation needs is in adapters.capabilities."""

    DEFAULT_KEY_FIELD = ""

    @property
    def key_field(self) -> str:
        return self.document.config.member_key_field or self.DEFAULT_KEY_FIELD

    @property
    def crm_fields(self) -> list[str]:
        return sorted(set(self.document.config.member_field_map.values()))

    def objects(self) -> list[CrmObject]:
        """The CRM's objects, for seed 003's "member object" and "order object" dropdowns."""
        raise NotImplementedError

    def fields(self, object_name: str) -> list[CrmField]:
        """One object's fields, for the field-mapping dropdowns; LookupError when the object does not exist."""
        raise NotImplementedError

    @property
    def order_key_field(self) -> str:
        return self.document.config.order_key_field or self.key_field
