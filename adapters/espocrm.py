"""EspoCRM (the 121 platform's CRM, seed 004). `X-Api-Key` auth; lists page by `offset`/`maxSize` with
`where[]` filters, ordered by `modifiedAt` for incremental pulls (deletions are not visible in lists: EspoCRM
reports them through its webhooks, next round). Updates send the record's `versionNumber`
(EspoCRM's optimistic concurrency control): a record changed meanwhile answers 409 instead of being
overwritten. EspoCRM datetimes are UTC `YYYY-MM-DD HH:MM:SS`. `GET /Metadata` lists entity types (scopes with `entity`)
and their field definitions for the CRM settings screen."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from adapters.crm import ChangePage, CrmAdapter, CrmField, CrmObject, RemoteMember, StaleMember

ESPO_TIME = "%Y-%m-%d %H:%M:%S"


class EspoCrmAdapter(CrmAdapter):
    DEFAULT_KEY_FIELD = "cHubMemberKey"

    @property
    def _entity(self) -> str:
        return str(self.document.config.member_object)

    @property
    def _select(self) -> str:
        return ",".join(dict.fromkeys(["id", "modifiedAt", "versionNumber", self.key_field, *self.crm_fields]))

    def _remote(self, row: dict[str, Any]) -> RemoteMember:
        version = row.get("versionNumber")
        return RemoteMember(
            external_id=row["id"],
            fields={f: row.get(f) for f in self.crm_fields},
            modified_at=datetime.strptime(row["modifiedAt"], ESPO_TIME).replace(tzinfo=UTC),
            version=None if version is None else str(version),
            key=row.get(self.key_field),
        )

    def changed_members(self, cursor: str | None) -> Iterator[ChangePage]:
        params: dict[str, Any] = {"select": self._select, "orderBy": "modifiedAt", "order": "asc"}
        if cursor:
            params.update(
                {
                    "where[0][type]": "greaterThanOrEquals",
                    "where[0][attribute]": "modifiedAt",
                    "where[0][value]": cursor,
                }
            )
        newest = cursor
        for page in self.pages(f"/{self._entity}", operation="sync.pull_members", params=params):
            members = [self._remote(row) for row in page.items]
            if members:
                newest = max(m.modified_at for m in members).strftime(ESPO_TIME)
            yield ChangePage(members, [], newest)  # ordered by modifiedAt: resumable after each page

    def get_member(self, external_id: str) -> RemoteMember:
        return self._remote(self.request("GET", f"/{self._entity}/{external_id}", operation="sync.pull_members").json())

    def find_member(self, key: str) -> RemoteMember | None:
        params = {
            "select": self._select,
            "maxSize": 1,
            "where[0][type]": "equals",
            "where[0][attribute]": self.key_field,
            "where[0][value]": key,
        }
        rows = self.request("GET", f"/{self._entity}", operation="sync.lookup", params=params).json().get("list", [])
        return self._remote(rows[0]) if rows else None

    def create_member(self, key: str, fields: dict[str, Any]) -> RemoteMember:
        row = self.request("POST", f"/{self._entity}", operation="sync.push_member", json={**fields, self.key_field: key})
        return self._remote(row.json())

    def update_member(self, external_id: str, fields: dict[str, Any], version: str | None) -> RemoteMember:
        body = {**fields, **({"versionNumber": int(version)} if version is not None else {})}
        response = self.request(
            "PUT", f"/{self._entity}/{external_id}", operation="sync.push_member", json=body, expect=frozenset({409})
        )
        if response.status_code == 409:
            raise StaleMember(external_id)
        return self._remote(response.json())

    def _metadata(self) -> dict[str, Any]:
        metadata: dict[str, Any] = self.request("GET", "/Metadata", operation="metadata").json()
        return metadata

    def objects(self) -> list[CrmObject]:
        scopes = self._metadata().get("scopes", {})
        return [CrmObject(name, name) for name, scope in sorted(scopes.items()) if scope.get("entity")]

    def fields(self, object_name: str) -> list[CrmField]:
        defs = self._metadata().get("entityDefs", {}).get(object_name)
        if defs is None:
            raise LookupError(f"espocrm has no object {object_name!r}")
        fields = sorted(defs.get("fields", {}).items())
        return [CrmField(name, name, f.get("type", ""), not f.get("readOnly", False)) for name, f in fields]

    def read_field(self, external_id: str, field_name: str) -> tuple[Any, str | None]:
        row = self.request("GET", f"/{self._entity}/{external_id}", operation="sync.pull_members").json()
        version = row.get("versionNumber")
        return row.get(field_name), None if version is None else str(version)

    def find_record(self, object_name: str, key: str) -> str | None:
        params = {
            "select": "id",
            "maxSize": 1,
            "where[0][type]": "equals",
            "where[0][attribute]": self.order_key_field,
            "where[0][value]": key,
        }
        rows = self.request("GET", f"/{object_name}", operation="sync.lookup", params=params).json().get("list", [])
        return rows[0]["id"] if rows else None

    def create_record(self, object_name: str, key: str, fields: dict[str, Any]) -> str:
        body = {**fields, self.order_key_field: key}
        return str(self.request("POST", f"/{object_name}", operation="sync.push_order", json=body).json()["id"])
