"""Dynamics 365 / Dataverse (HLF portal, seed 002). Client credentials through msal against Entra ID;
validation is `WhoAmI`. Member sync uses change tracking (`Prefer: odata.track-changes`): the first read
returns every record and an `@odata.deltaLink`, later reads of that link return what changed, deleted records
as `$deletedEntity` entries; pages follow `@odata.nextLink` (`odata.maxpagesize`). A delta link the service
no longer honours (410 Gone, or an "expired" error) means a full read again. Creates and updates ask for the record back
(`Prefer: return=representation`) and updates carry the record's ETag in `If-Match`, so a record someone
changed meanwhile answers 412 instead of being overwritten. `EntityDefinitions` lists objects and their
attributes for the CRM settings screen."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import requests

from adapters.crm import ChangePage, CrmAdapter, CrmField, CrmObject, CursorExpired, RemoteMember, StaleMember
from shared.errors import ProviderError

RETURN = {"Prefer": "return=representation"}


def entity_set(logical_name: str) -> str:
    """Dataverse's default collection name: contact → contacts, opportunity → opportunities."""
    if logical_name.endswith("y") and logical_name[-2:-1] not in "aeiou":
        return logical_name[:-1] + "ies"
    return logical_name if logical_name.endswith("s") else logical_name + "s"


class DynamicsAdapter(CrmAdapter):
    DEFAULT_KEY_FIELD = "externaluseridentifier"

    @property
    def base_url(self) -> str:
        if "base_url" in self.ctx.url_overrides:
            return self.tenant_url(self.ctx.url_overrides["base_url"].rstrip("/"))
        return self.tenant_url(f"{str(self.document.config.instance_url).rstrip('/')}/api/data/v9.2")

    @property
    def _set(self) -> str:
        return entity_set(self.document.config.member_object)

    @property
    def _id(self) -> str:
        return f"{self.document.config.member_object}id"

    @property
    def _select(self) -> str:
        return ",".join(dict.fromkeys([self._id, "modifiedon", self.key_field, *self.crm_fields]))

    def _remote(self, row: dict[str, Any]) -> RemoteMember:
        return RemoteMember(
            external_id=row[self._id],
            fields={f: row.get(f) for f in self.crm_fields},
            modified_at=datetime.fromisoformat(row["modifiedon"].replace("Z", "+00:00")),
            version=row.get("@odata.etag"),
            key=row.get(self.key_field),
        )

    def changed_members(self, cursor: str | None) -> Iterator[ChangePage]:
        def check(response: requests.Response) -> None:
            if response.status_code == 410 or (response.status_code == 400 and "expired" in response.text.lower()):
                raise CursorExpired(self._set)
            if response.status_code == 400:
                raise ProviderError(
                    detail=f"dynamics365 answered 400: {response.text}", provider="dynamics365", status_code=400
                )

        pages = self.pages(
            cursor or f"/{self._set}",  # a delta link carries its query
            operation="sync.pull_members",
            params=None if cursor else {"$select": self._select},
            headers={"Prefer": "odata.track-changes"},
            expect=frozenset({400, 410}),
            check=check,
        )
        for page in pages:
            members, deleted = [], []
            for row in page.items:
                if "$deletedEntity" in row.get("@odata.context", ""):
                    deleted.append(row["id"])
                else:
                    members.append(self._remote(row))
            # Delta pages come in no particular order: only the final delta link is a safe place to resume.
            yield ChangePage(members, deleted, page.final)

    def get_member(self, external_id: str) -> RemoteMember:
        row = self.request(
            "GET", f"/{self._set}({external_id})", operation="sync.pull_members", params={"$select": self._select}
        ).json()
        return self._remote(row)

    def find_member(self, key: str) -> RemoteMember | None:
        escaped = key.replace("'", "''")
        rows = self.request(
            "GET",
            f"/{self._set}",
            operation="sync.lookup",
            params={"$select": self._select, "$filter": f"{self.key_field} eq '{escaped}'", "$top": "1"},
        ).json()["value"]
        return self._remote(rows[0]) if rows else None

    def create_member(self, key: str, fields: dict[str, Any]) -> RemoteMember:
        row = self.request(
            "POST", f"/{self._set}", operation="sync.push_member", json={**fields, self.key_field: key}, headers=RETURN
        ).json()
        return self._remote(row)

    def update_member(self, external_id: str, fields: dict[str, Any], version: str | None) -> RemoteMember:
        response = self.request(
            "PATCH",
            f"/{self._set}({external_id})",
            operation="sync.push_member",
            json=fields,
            headers={**RETURN, "If-Match": version or "*"},
            expect=frozenset({412}),
        )
        if response.status_code == 412:
            raise StaleMember(external_id)
        return self._remote(response.json())

    @staticmethod
    def _label(item: dict[str, Any]) -> str:
        label = (item.get("DisplayName") or {}).get("UserLocalizedLabel") or {}
        return str(label.get("Label") or item["LogicalName"])

    def objects(self) -> list[CrmObject]:
        params = {"$select": "LogicalName,EntitySetName,DisplayName", "$filter": "IsValidForAdvancedFind eq true"}
        rows = self.request("GET", "/EntityDefinitions", operation="metadata", params=params).json()["value"]
        return sorted((CrmObject(r["LogicalName"], self._label(r)) for r in rows), key=lambda o: o.name)

    def fields(self, object_name: str) -> list[CrmField]:
        escaped = object_name.replace("'", "''")
        response = self.request(
            "GET",
            f"/EntityDefinitions(LogicalName='{escaped}')/Attributes",
            operation="metadata",
            params={"$select": "LogicalName,AttributeType,DisplayName,IsValidForUpdate"},
            expect=frozenset({404}),
        )
        if response.status_code == 404:
            raise LookupError(f"dynamics365 has no object {object_name!r}")
        rows = response.json()["value"]
        return sorted(
            (
                CrmField(
                    r["LogicalName"], self._label(r), r.get("AttributeType", ""), r.get("IsValidForUpdate") is not False
                )
                for r in rows
            ),
            key=lambda f: f.name,
        )

    def read_field(self, external_id: str, field_name: str) -> tuple[Any, str | None]:
        row = self.request(
            "GET", f"/{self._set}({external_id})", operation="sync.pull_members", params={"$select": field_name}
        ).json()
        return row.get(field_name), row.get("@odata.etag")

    def find_record(self, object_name: str, key: str) -> str | None:
        escaped = key.replace("'", "''")
        params = {"$select": f"{object_name}id", "$filter": f"{self.order_key_field} eq '{escaped}'", "$top": "1"}
        rows = self.request("GET", f"/{entity_set(object_name)}", operation="sync.lookup", params=params).json()["value"]
        return rows[0][f"{object_name}id"] if rows else None

    def create_record(self, object_name: str, key: str, fields: dict[str, Any]) -> str:
        body = {**fields, self.order_key_field: key}
        row = self.request(
            "POST", f"/{entity_set(object_name)}", operation="sync.push_order", json=body, headers=RETURN
        ).json()
        return str(row[f"{object_name}id"])
