"""Dynamics 365 / Dataverse (HLF portal, seed 002). Client credentials through msal against Entra ID;
validation is `WhoAmI`. Member sync reads the member entity set ordered by `modifiedon` with
`Prefer: odata.maxpagesize` and follows `@odata.nextLink`; creates and updates ask for the record back
(`Prefer: return=representation`) and updates carry the record's ETag in `If-Match`, so a record someone
changed meanwhile answers 412 instead of being overwritten."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from adapters.crm import CrmAdapter, RemoteMember, StaleMember

RETURN = {"Prefer": "return=representation"}


def entity_set(logical_name: str) -> str:
    """Dataverse's default collection name: contact → contacts, opportunity → opportunities."""
    if logical_name.endswith("y") and logical_name[-2:-1] not in "aeiou":
        return logical_name[:-1] + "ies"
    return logical_name if logical_name.endswith("s") else logical_name + "s"


def odata_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


class DynamicsAdapter(CrmAdapter):
    DEFAULT_KEY_FIELD = "externaluseridentifier"

    @property
    def base_url(self) -> str:
        if "base_url" in self.ctx.url_overrides:
            return self.ctx.url_overrides["base_url"].rstrip("/")
        return f"{str(self.document.config.instance_url).rstrip('/')}/api/data/v9.2"

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

    def changed_members(self, cursor: str | None) -> Iterator[tuple[list[RemoteMember], str | None]]:
        params: dict[str, Any] | None = {"$select": self._select, "$orderby": "modifiedon asc"}
        if cursor:
            params["$filter"] = f"modifiedon ge {cursor}"  # ge, not gt: equal timestamps across a page edge
        url, newest = f"/{self._set}", cursor
        while url:
            body = self.request(
                "GET",
                url,
                operation="sync.pull_members",
                params=params,
                headers={"Prefer": f"odata.maxpagesize={self.PAGE_SIZE}"},
            ).json()
            members = [self._remote(row) for row in body.get("value", [])]
            if members:
                newest = odata_time(max(m.modified_at for m in members))
            url, params = body.get("@odata.nextLink"), None  # the next link carries the query itself
            yield members, newest

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
