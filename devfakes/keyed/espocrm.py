"""EspoCRM: `X-Api-Key`, Contacts with `where[]` filters, offset/maxSize paging with `total`, `versionNumber`
optimistic concurrency (409 when stale), metadata for the field-mapping dropdowns, other entity types."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devfakes.keyed.base import GOOD, KeyedBase


@dataclass
class EspoCrmFake(KeyedBase):
    espo_contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    espo_writes: int = 0
    espo_clock_offset_s: float = 0.0
    espo_fail_list_after: int | None = None  # answer 500 to list calls after this many
    espo_list_calls: int = 0
    espo_edit_before_put: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → a CRM edit that lands first
    espo_records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # other entity types → id → record

    def routes(self) -> list[Route]:
        return [
            Route("/espo/api/v1/App/user", self.espocrm),
            Route("/espo/api/v1/Metadata", self.espo_metadata),
            Route("/espo/api/v1/Contact", self.espo_contacts_list, methods=["GET", "POST"]),
            Route("/espo/api/v1/Contact/{id}", self.espo_contact, methods=["GET", "PUT"]),
            Route("/espo/api/v1/{entity}", self.espo_entity, methods=["GET", "POST"]),
        ]

    async def espocrm(self, request: Request) -> Response:
        self._count("espocrm")
        if request.headers.get("x-api-key") != GOOD["espocrm"]:
            return Response(status_code=401)  # EspoCRM answers 401 with an empty body
        return JSONResponse({"user": {"id": "api-user", "userName": "hub"}, "acl": {}})

    def espo_stamp(self, row: dict[str, Any]) -> None:
        at = datetime.fromtimestamp(time.time() + self.espo_clock_offset_s, UTC)
        row["modifiedAt"] = at.strftime("%Y-%m-%d %H:%M:%S")
        row["versionNumber"] = int(row.get("versionNumber", 0)) + 1

    def espo_edit(self, contact_id: str, fields: dict[str, Any]) -> None:
        with self.lock:
            self.espo_contacts[contact_id].update(fields)
            self.espo_stamp(self.espo_contacts[contact_id])

    async def espo_metadata(self, request: Request) -> Response:
        self._count("espocrm")
        if request.headers.get("x-api-key") != GOOD["espocrm"]:
            return Response(status_code=401)
        return JSONResponse(
            {
                "scopes": {"Contact": {"entity": True}, "Account": {"entity": True}, "Admin": {"entity": False}},
                "entityDefs": {
                    "Contact": {
                        "fields": {
                            "firstName": {"type": "varchar"},
                            "lastName": {"type": "varchar"},
                            "name": {"type": "personName", "readOnly": True},
                            "emailAddress": {"type": "email"},
                            "phoneNumber": {"type": "phone"},
                            "addressCity": {"type": "varchar"},
                            "cBirthDate": {"type": "date"},
                            "cHubMemberKey": {"type": "varchar"},
                            "cEvents": {"type": "text"},
                            "modifiedAt": {"type": "datetime", "readOnly": True},
                        }
                    },
                    "Account": {"fields": {"name": {"type": "varchar"}}},
                },
            }
        )

    async def espo_entity(self, request: Request) -> Response:
        """Any other entity type (orders, opportunities…): create, and list with an `equals` filter."""
        self._count("espocrm")
        if request.headers.get("x-api-key") != GOOD["espocrm"]:
            return Response(status_code=401)
        store = self.espo_records.setdefault(request.path_params["entity"], {})
        if request.method == "POST":
            with self.lock:
                self.espo_writes += 1
                row = {"id": uuid.uuid4().hex[:17], **(await request.json())}
                self.espo_stamp(row)
                store[row["id"]] = row
            return JSONResponse(dict(row))
        q = request.query_params
        rows = list(store.values())
        if q.get("where[0][type]") == "equals":
            rows = [r for r in rows if r.get(q["where[0][attribute]"]) == q.get("where[0][value]")]
        return JSONResponse({"total": len(rows), "list": rows[: int(q.get("maxSize", 20))]})

    async def espo_contacts_list(self, request: Request) -> Response:
        self._count("espocrm")
        if request.headers.get("x-api-key") != GOOD["espocrm"]:
            return Response(status_code=401)
        if request.method == "POST":
            body = await request.json()
            with self.lock:
                self.espo_writes += 1
                row = {"id": uuid.uuid4().hex[:17], **body}
                self.espo_stamp(row)
                self.espo_contacts[row["id"]] = row
            return JSONResponse(dict(row))
        q = request.query_params
        with self.lock:
            self.espo_list_calls += 1
            if self.espo_fail_list_after is not None and self.espo_list_calls > self.espo_fail_list_after:
                return Response(status_code=500)
            rows = sorted(self.espo_contacts.values(), key=lambda r: (r["modifiedAt"], r["id"]))
        kind, attribute, value = q.get("where[0][type]"), q.get("where[0][attribute]"), q.get("where[0][value]")
        if kind == "greaterThanOrEquals":
            rows = [r for r in rows if str(r.get(attribute or "", "")) >= str(value)]
        elif kind == "equals":
            rows = [r for r in rows if r.get(attribute or "") == value]
        elif kind:
            return JSONResponse({"message": f"unsupported where type {kind}"}, status_code=400)
        offset, size = int(q.get("offset", 0)), min(int(q.get("maxSize", 20)), 200)
        return JSONResponse({"total": len(rows), "list": rows[offset : offset + size]})

    async def espo_contact(self, request: Request) -> Response:
        self._count("espocrm")
        if request.headers.get("x-api-key") != GOOD["espocrm"]:
            return Response(status_code=401)
        row = self.espo_contacts.get(request.path_params["id"])
        if row is None:
            return Response(status_code=404)
        if request.method == "GET":
            return JSONResponse(dict(row))
        body = await request.json()
        if edit := self.espo_edit_before_put.pop(request.path_params["id"], None):
            self.espo_edit(request.path_params["id"], edit)  # someone else saved first
        with self.lock:
            version = body.pop("versionNumber", None)
            if version is not None and version != row["versionNumber"]:
                return JSONResponse({"messageTranslation": {"label": "modified"}}, status_code=409)
            self.espo_writes += 1
            row.update(body)
            self.espo_stamp(row)
            return JSONResponse(dict(row))
