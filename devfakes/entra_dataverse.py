"""A loopback Entra ID (OpenID configuration + client-credentials token endpoint) and Dataverse: `WhoAmI`
and a `contacts` entity set.

Entra answers like the real one: a wrong client secret is `invalid_client` (AADSTS7000215) with 401; a token
is scoped to the requested resource; Dataverse checks Bearer validity and audience. Contacts page by
`Prefer: odata.maxpagesize` (capped by `max_page`) with an absolute `@odata.nextLink`, filter on
`modifiedon ge …` or `<field> eq '…'`, carry a weak `@odata.etag` that changes on every write, and answer a
PATCH whose `If-Match` is stale with 412. With `Prefer: odata.track-changes` the list is a change-tracking
walk: pages end in an `@odata.deltaLink` (`$deltatoken`), a delta read returns records changed since the
token and `$deletedEntity` entries for deleted ones, and tokens older than `expired_before` answer 410.
`crm_edit` / `crm_delete` change records as a CRM user would.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

AUTHORITY_HOST = "login.microsoftonline.com"


@dataclass
class EntraDataverseFake:
    directory_id: str = "11111111-2222-3333-4444-555555555555"
    client_id: str = "d365-app-client-id"
    client_secret: str = "d365-app-client-secret-value"
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # token → (audience, expires)
    token_calls: int = 0
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    max_page: int = 5000
    writes: int = 0
    list_calls: int = 0
    edit_before_patch: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → a CRM edit that lands first
    clock_offset_s: float = 0.0
    seq: int = 0  # change sequence: every write takes the next number
    tombstones: list[tuple[int, str]] = field(default_factory=list)
    expired_before: int = 0
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def openid(self, request: Request) -> Response:
        tenant = request.path_params["tenant"]
        base = f"https://{AUTHORITY_HOST}/{tenant}"
        return JSONResponse(
            {
                "issuer": f"{base}/v2.0",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
            }
        )

    async def token(self, request: Request) -> Response:
        self.token_calls += 1
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        if request.path_params["tenant"] != self.directory_id:
            return JSONResponse(
                {"error": "invalid_request", "error_description": "AADSTS90002: Tenant not found."}, status_code=400
            )
        if form.get("client_id") != self.client_id or not secrets.compare_digest(
            form.get("client_secret", ""), self.client_secret
        ):
            return JSONResponse(
                {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."},
                status_code=401,
            )
        scope = form.get("scope", "")
        audience = next((s.removesuffix("/.default") for s in scope.split() if s.endswith("/.default")), "")
        token = "eyJ" + secrets.token_urlsafe(32)
        self.tokens[token] = (audience, time.time() + 3599)
        return JSONResponse({"token_type": "Bearer", "expires_in": 3599, "access_token": token})

    def _refused(self, request: Request) -> Response | None:
        auth = request.headers.get("authorization", "")
        entry = self.tokens.get(auth.removeprefix("Bearer "))
        if entry is None or entry[1] < time.time():
            return JSONResponse(
                {"error": {"code": "0x80072560", "message": "The user is not a member of the organization."}},
                status_code=401,
            )
        return None

    async def whoami(self, request: Request) -> Response:
        if refused := self._refused(request):
            return refused
        return JSONResponse({"BusinessUnitId": "bu-1", "UserId": "app-user-1", "OrganizationId": "org-1"})

    # --- contacts ----------------------------------------------------------------------------------------------
    def crm_delete(self, contact_id: str) -> None:
        with self.lock:
            del self.contacts[contact_id]
            self.seq += 1
            self.tombstones.append((self.seq, contact_id))

    def _stamp(self, row: dict[str, Any]) -> None:
        self.seq += 1
        row["_seq"] = self.seq
        now = datetime.fromtimestamp(time.time() + self.clock_offset_s, UTC)
        row["modifiedon"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        version = int(row.get("versionnumber", 0)) + 1
        row["versionnumber"] = version
        row["@odata.etag"] = f'W/"{version}{uuid.uuid4().int % 10_000:04d}"'

    def crm_edit(self, contact_id: str, fields: dict[str, Any]) -> None:
        with self.lock:
            self.contacts[contact_id].update(fields)
            self._stamp(self.contacts[contact_id])

    def by_key(self, key: str, field_name: str = "externaluseridentifier") -> dict[str, Any]:
        return next(c for c in self.contacts.values() if c.get(field_name) == key)

    @staticmethod
    def _select(row: dict[str, Any], select: str | None) -> dict[str, Any]:
        if not select:
            return {k: v for k, v in row.items() if not k.startswith("_")}
        keep = set(select.split(",")) | {"@odata.etag"}
        return {k: v for k, v in row.items() if k in keep}

    async def contacts_list(self, request: Request) -> Response:
        if refused := self._refused(request):
            return refused
        q = request.query_params
        if request.method == "POST":
            posted = await request.json()
            with self.lock:
                self.writes += 1
                row = {"contactid": str(uuid.uuid4()), **posted}
                self._stamp(row)
                self.contacts[row["contactid"]] = row
            return JSONResponse(dict(row), status_code=201)
        prefer = request.headers.get("prefer", "")
        if "odata.track-changes" in prefer or "$deltatoken" in q:
            return self._changes(request)
        with self.lock:
            self.list_calls += 1
            rows = sorted(self.contacts.values(), key=lambda r: (r["modifiedon"], r["contactid"]))
        flt = q.get("$filter", "")
        if flt.startswith("modifiedon ge "):
            rows = [r for r in rows if r["modifiedon"] >= flt.removeprefix("modifiedon ge ")]
        elif " eq '" in flt:
            name, value = flt.split(" eq '", 1)
            rows = [r for r in rows if r.get(name) == value[:-1].replace("''", "'")]
        elif flt:
            return JSONResponse({"error": {"code": "0x80060888", "message": "Syntax error in $filter"}}, status_code=400)
        prefer = request.headers.get("prefer", "")
        size = int(prefer.split("odata.maxpagesize=")[1]) if "odata.maxpagesize=" in prefer else 5000
        size = min(size, self.max_page, int(q.get("$top", 5000)))
        start = int(q.get("$skiptoken", 0))
        page = rows[start : start + size]
        body: dict[str, Any] = {"value": [self._select(r, q.get("$select")) for r in page]}
        if start + size < len(rows) and "$top" not in q:
            rest = {k: v for k, v in q.items() if k != "$skiptoken"}
            base = str(request.url).split("?", 1)[0]
            body["@odata.nextLink"] = f"{base}?{urlencode({**rest, '$skiptoken': start + size})}"
        return JSONResponse(body)

    ENTITIES = {
        "contact": ("contacts", "Contact", {"firstname": "String", "lastname": "String", "emailaddress1": "String",
                                             "telephone1": "String", "externaluseridentifier": "String",
                                             "birthdate": "DateTime", "gendercode": "Picklist",
                                             "address1_city": "String", "hlf_membershipstatus": "Picklist",
                                             "hlf_segment": "String", "hlf_events": "Memo", "hlf_courses": "Memo",
                                             "fullname": "String", "modifiedon": "DateTime", "createdon": "DateTime"}),
        "salesorder": ("salesorders", "Order", {"name": "String", "totalamount": "Money"}),
    }  # fmt: skip
    READ_ONLY = frozenset({"fullname", "modifiedon", "createdon"})  # IsValidForUpdate false (computed by Dataverse)

    async def entity_definitions(self, request: Request) -> Response:
        if refused := self._refused(request):
            return refused

        def label(text: str) -> dict[str, Any]:
            return {"UserLocalizedLabel": {"Label": text}}

        return JSONResponse(
            {
                "value": [
                    {"LogicalName": name, "EntitySetName": entity_set, "DisplayName": label(display)}
                    for name, (entity_set, display, _) in self.ENTITIES.items()
                ]
            }
        )

    async def attributes(self, request: Request) -> Response:
        if refused := self._refused(request):
            return refused
        entity = self.ENTITIES.get(request.path_params["name"])
        if entity is None:
            return JSONResponse(
                {"error": {"code": "0x80040217", "message": "Could not find an entity with the specified name"}}, 404
            )
        return JSONResponse(
            {
                "value": [
                    {
                        "LogicalName": n,
                        "AttributeType": t,
                        "DisplayName": {"UserLocalizedLabel": {"Label": n.title()}},
                        "IsValidForUpdate": n not in self.READ_ONLY,
                        "IsValidForCreate": n not in self.READ_ONLY,
                    }
                    for n, t in entity[2].items()
                ]
            }
        )

    async def salesorders(self, request: Request) -> Response:
        if refused := self._refused(request):
            return refused
        if request.method == "POST":
            body = await request.json()
            if not body.get("name"):
                return JSONResponse(
                    {"error": {"code": "0x80040200", "message": "Attribute 'name' cannot be NULL"}}, status_code=400
                )
            with self.lock:
                self.writes += 1
                row = {"salesorderid": str(uuid.uuid4()), **body}
                self.orders[row["salesorderid"]] = row
            return JSONResponse(row, status_code=201)
        name, _, value = request.query_params.get("$filter", "").partition(" eq '")
        found = [r for r in self.orders.values() if r.get(name) == value[:-1]]
        return JSONResponse({"value": found[:1]})

    def _changes(self, request: Request) -> Response:
        q = request.query_params
        with self.lock:
            self.list_calls += 1
            token = int(q["$deltatoken"]) if "$deltatoken" in q else None
            if token is not None and token < self.expired_before:
                return JSONResponse(
                    {"error": {"code": "0x80048d0b", "message": "The delta token has expired: start a new change walk"}},
                    status_code=410,
                )
            snapshot = int(q.get("$snapshot", self.seq))
            since = token or 0
            rows: list[dict[str, Any]] = [
                self._select(r, q.get("$select")) for r in self.contacts.values() if r["_seq"] > since
            ]
            if token is not None:
                rows += [
                    {
                        "@odata.context": f"{request.base_url}api/data/v9.2/$metadata#contacts/$deletedEntity",
                        "id": cid,
                        "reason": "deleted",
                    }
                    for seq, cid in self.tombstones
                    if seq > since
                ]
        size = 5000
        prefer = request.headers.get("prefer", "")
        if "odata.maxpagesize=" in prefer:
            size = int(prefer.split("odata.maxpagesize=")[1].split(",")[0])
        size = min(size, self.max_page)
        start = int(q.get("$skiptoken", 0))
        base = str(request.url).split("?", 1)[0]
        keep = {k: v for k, v in q.items() if k not in ("$skiptoken", "$snapshot", "$deltatoken")}
        body: dict[str, Any] = {"value": rows[start : start + size]}
        if start + size < len(rows):
            nxt = {
                **keep,
                "$skiptoken": start + size,
                "$snapshot": snapshot,
                **({"$deltatoken": token} if token is not None else {}),
            }
            body["@odata.nextLink"] = f"{base}?{urlencode(nxt)}"
        else:
            body["@odata.deltaLink"] = f"{base}?{urlencode({**keep, '$deltatoken': snapshot})}"
        return JSONResponse(body)

    async def contact(self, request: Request) -> Response:
        if refused := self._refused(request):
            return refused
        contact_id = request.path_params["id"]
        if contact_id not in self.contacts:
            return JSONResponse(
                {"error": {"code": "0x80040217", "message": f"contact With Id = {contact_id} Does Not Exist"}},
                status_code=404,
            )
        if request.method == "GET":
            return JSONResponse(self._select(self.contacts[contact_id], request.query_params.get("$select")))
        body = await request.json()
        if edit := self.edit_before_patch.pop(contact_id, None):
            self.crm_edit(contact_id, edit)  # someone else saved first
        with self.lock:
            row = self.contacts[contact_id]
            match = request.headers.get("if-match")
            if match not in (None, "*", row["@odata.etag"]):
                return JSONResponse(
                    {
                        "error": {
                            "code": "0x80060882",
                            "message": "The version of the existing record doesn't match the RowVersion property provided.",
                        }
                    },
                    status_code=412,
                )
            self.writes += 1
            row.update(body)
            self._stamp(row)
            return JSONResponse(dict(row))

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/{tenant}/v2.0/.well-known/openid-configuration", self.openid),
                Route("/{tenant}/oauth2/v2.0/token", self.token, methods=["POST"]),
                Route("/api/data/v9.2/WhoAmI", self.whoami),
                Route("/api/data/v9.2/salesorders", self.salesorders, methods=["GET", "POST"]),
                Route("/api/data/v9.2/EntityDefinitions", self.entity_definitions),
                Route("/api/data/v9.2/EntityDefinitions(LogicalName='{name}')/Attributes", self.attributes),
                Route("/api/data/v9.2/contacts", self.contacts_list, methods=["GET", "POST"]),
                Route("/api/data/v9.2/contacts({id})", self.contact, methods=["GET", "PATCH"]),
            ]
        )
