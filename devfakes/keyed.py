"""Loopback fakes for API-key providers, each enforcing its own scheme and error shape (providers.md):
Stripe (Bearer secret/restricted keys, permission errors, 25 req/s test mode), Mollie for iDEAL (Bearer
test_ keys), KoboToolbox (`Token`), Twilio (Basic SID:token, error 20003), EspoCRM (`X-Api-Key`),
Xledger (GraphQL, errors in the body). EspoCRM also keeps Contacts: `where[]` filters, offset/maxSize
paging with `total`, `versionNumber` optimistic concurrency (409 when stale)."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

GOOD = {
    "stripe": "sk_test_51GoodKeyForTheFake",
    "stripe_restricted": "rk_test_51RestrictedKeyNoRefunds",
    "mollie": "test_GoodMollieKeyForTheFake12345",
    "kobo": "good-kobo-token-0123456789",
    "twilio_sid": "AC" + "1" * 32,
    "twilio": "good-twilio-auth-token-0123",
    "espocrm": "good-espo-api-key-0123456789",
    "xledger": "good-xledger-token-0123456789",
    "paypal_client": "paypal-client-id-sandbox",
    "paypal": "paypal-client-secret-value",
    "partner": "partner-api-token-0123456789",
}
RESTRICTED_PERMISSIONS = {"balance", "payment_intents"}  # no refunds, subscriptions, payouts


@dataclass
class KeyedFakes:
    stripe_window: deque[float] = field(default_factory=deque)
    stripe_throttled: int = 0
    calls: dict[str, int] = field(default_factory=dict)
    paypal_tokens: set[str] = field(default_factory=set)
    xledger_entries: list[dict] = field(default_factory=list)
    espo_contacts: dict[str, dict] = field(default_factory=dict)
    espo_writes: int = 0
    espo_clock_offset_s: float = 0.0
    espo_fail_list_after: int | None = None  # answer 500 to list calls after this many
    espo_list_calls: int = 0
    espo_edit_before_put: dict[str, dict] = field(default_factory=dict)  # id → a CRM edit that lands first
    espo_records: dict[str, dict[str, dict]] = field(default_factory=dict)  # other entity types → id → record
    stripe_intents: dict[str, dict] = field(default_factory=dict)
    stripe_refunds: list[dict] = field(default_factory=list)
    stripe_idempotency: dict[str, tuple[str, dict]] = field(default_factory=dict)  # key → (params digest, response)
    stripe_in_flight: set[str] = field(default_factory=set)  # keys whose first request is still being processed
    stripe_write_delay_s: float = 0.0  # how long a write takes (a real one takes a few hundred ms)
    mollie_store: dict[str, dict] = field(default_factory=dict)
    mollie_refunds: list[dict] = field(default_factory=list)
    paypal_orders: dict[str, dict] = field(default_factory=dict)
    paypal_refunds: list[dict] = field(default_factory=list)
    twilio_sent: list[dict] = field(default_factory=list)
    kobo_submissions: dict[str, list[dict]] = field(default_factory=dict)  # asset uid → submissions
    kobo_data_calls: int = 0
    partner_enrollments: dict[str, dict] = field(default_factory=dict)
    partner_down: bool = False
    partner_puts: int = 0
    request_ids: dict[str, dict] = field(default_factory=dict)  # PayPal-Request-Id / Mollie Idempotency-Key → body
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _count(self, provider: str) -> None:
        with self.lock:
            self.calls[provider] = self.calls.get(provider, 0) + 1

    async def stripe(self, request: Request) -> Response:
        self._count("stripe")
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        if key not in (GOOD["stripe"], GOOD["stripe_restricted"]):
            masked = f"{key[:8]}****{key[-4:]}" if len(key) > 12 else "****"
            return JSONResponse(
                {"error": {"type": "invalid_request_error", "message": f"Invalid API Key provided: {masked}"}},
                status_code=401,
            )
        with self.lock:
            now = time.monotonic()
            while self.stripe_window and now - self.stripe_window[0] >= 1.0:
                self.stripe_window.popleft()
            if len(self.stripe_window) >= 25:
                self.stripe_throttled += 1
                return JSONResponse({"error": {"type": "rate_limit_error", "message": "Too many requests"}}, status_code=429)
            self.stripe_window.append(now)
        resource = request.path_params["resource"]
        if key == GOOD["stripe_restricted"] and resource not in RESTRICTED_PERMISSIONS:
            return JSONResponse(
                {
                    "error": {
                        "type": "invalid_request_error",
                        "message": (
                            "The provided key 'rk_test_***' does not have the required permissions for this endpoint. "
                            "Having "
                            f"the 'rak_{resource.rstrip('s')}_read' permission would allow this request to continue."
                        ),
                    }
                },
                status_code=403,
            )
        if resource == "balance":
            return JSONResponse({"object": "balance", "livemode": False, "available": [{"amount": 0, "currency": "sek"}]})
        return JSONResponse({"object": "list", "data": [], "has_more": False})

    # --- Stripe payments (form-encoded, Idempotency-Key remembered with its parameters) -------------------------
    def _stripe_key_ok(self, request: Request) -> Response | None:
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        if key not in (GOOD["stripe"], GOOD["stripe_restricted"]):
            return JSONResponse({"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}, 401)
        if key == GOOD["stripe_restricted"] and "refunds" in request.url.path:
            return JSONResponse(
                {"error": {"type": "invalid_request_error", "message": "missing the 'rak_refund_write' permission"}},
                403,
            )
        return None

    async def _stripe_idempotent(self, request: Request, create) -> Response:  # type: ignore[no-untyped-def]
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        key = request.headers.get("idempotency-key")
        with self.lock:
            if key and key in self.stripe_in_flight:  # Stripe: 409 while the key's first request is in progress
                return JSONResponse(
                    {
                        "error": {
                            "type": "idempotency_error",
                            "code": "idempotency_key_in_use",
                            "message": "There is currently another in-progress request using this Idempotent Key; "
                            "please try again later.",
                        }
                    },
                    409,
                )
            if key and key not in self.stripe_idempotency:
                self.stripe_in_flight.add(key)
        if key and self.stripe_write_delay_s:
            await asyncio.sleep(self.stripe_write_delay_s)
        try:
            return self._stripe_once(key, form, create)
        finally:
            with self.lock:
                self.stripe_in_flight.discard(key or "")

    def _stripe_once(self, key: str | None, form: dict, create) -> Response:  # type: ignore[no-untyped-def]
        with self.lock:
            if key and key in self.stripe_idempotency:
                params, body = self.stripe_idempotency[key]
                if params != repr(sorted(form.items())):
                    return JSONResponse(
                        {
                            "error": {
                                "type": "idempotency_error",
                                "message": "Keys for idempotent requests can only be used with the same parameters "
                                "they were first used with.",
                            }
                        },
                        400,
                    )
                return JSONResponse(body, headers={"Idempotent-Replayed": "true"})
            body = create(form)
            if isinstance(body, Response):
                return body
            if key:
                self.stripe_idempotency[key] = (repr(sorted(form.items())), body)
        return JSONResponse(body)

    async def stripe_payment_intents(self, request: Request) -> Response:
        self._count("stripe")
        if refused := self._stripe_key_ok(request):
            return refused

        def create(form: dict) -> dict | Response:
            if not str(form.get("amount", "")).isdigit() or int(form["amount"]) < 1:
                return JSONResponse({"error": {"type": "invalid_request_error", "param": "amount"}}, 400)
            pi_id = f"pi_{uuid.uuid4().hex[:24]}"
            intent = {
                "id": pi_id,
                "object": "payment_intent",
                "amount": int(form["amount"]),
                "currency": form["currency"],
                "status": "requires_payment_method",
                "client_secret": f"{pi_id}_secret_{uuid.uuid4().hex[:16]}",
                "metadata": {"hub_key": form.get("metadata[hub_key]")},
                "amount_refunded": 0,
            }
            self.stripe_intents[pi_id] = intent
            return intent

        return await self._stripe_idempotent(request, create)

    async def stripe_payment_intent(self, request: Request) -> Response:
        self._count("stripe")
        if refused := self._stripe_key_ok(request):
            return refused
        intent = self.stripe_intents.get(request.path_params["id"])
        if intent is None:
            return JSONResponse({"error": {"type": "invalid_request_error", "code": "resource_missing"}}, 404)
        return JSONResponse(intent)

    async def stripe_refunds_create(self, request: Request) -> Response:
        self._count("stripe")
        if refused := self._stripe_key_ok(request):
            return refused

        def create(form: dict) -> dict | Response:
            intent = self.stripe_intents.get(form.get("payment_intent", ""))
            if intent is None or intent["status"] != "succeeded":
                return JSONResponse({"error": {"type": "invalid_request_error", "code": "charge_not_refundable"}}, 400)
            amount = int(form.get("amount", intent["amount"] - intent["amount_refunded"]))
            if amount > intent["amount"] - intent["amount_refunded"]:
                return JSONResponse({"error": {"type": "invalid_request_error", "code": "amount_too_large"}}, 400)
            intent["amount_refunded"] += amount
            refund = {"id": f"re_{uuid.uuid4().hex[:24]}", "amount": amount, "status": "succeeded"}
            self.stripe_refunds.append(refund)
            return refund

        return await self._stripe_idempotent(request, create)

    def stripe_succeed(self, pi_id: str) -> None:
        self.stripe_intents[pi_id]["status"] = "succeeded"

    # --- Mollie payments ---------------------------------------------------------------------------------------
    def _mollie_refused(self, request: Request) -> Response | None:
        if request.headers.get("authorization") != f"Bearer {GOOD['mollie']}":
            return JSONResponse({"status": 401, "title": "Unauthorized Request", "detail": "Missing authentication"}, 401)
        return None

    def _replay(self, request: Request, header: str) -> dict | None:
        key = request.headers.get(header)
        return self.request_ids.get(f"{request.url.path}|{key}") if key else None

    def _remember(self, request: Request, header: str, body: dict) -> None:
        if key := request.headers.get(header):
            self.request_ids[f"{request.url.path}|{key}"] = body

    async def mollie_payments(self, request: Request) -> Response:
        self._count("ideal")
        if refused := self._mollie_refused(request):
            return refused
        with self.lock:
            if replay := self._replay(request, "idempotency-key"):
                return JSONResponse(replay, status_code=201)
            body = await request.json()
            amount = body.get("amount") or {}
            if body.get("method") == "ideal" and amount.get("currency") != "EUR":
                return JSONResponse(
                    {"status": 422, "title": "Unprocessable Entity", "detail": "iDEAL only supports EUR", "field": "amount"},
                    422,
                )
            tr = f"tr_{uuid.uuid4().hex[:10]}"
            payment = {
                "resource": "payment",
                "id": tr,
                "status": "open",
                "amount": amount,
                "method": body.get("method"),
                "metadata": body.get("metadata"),
                "_links": {"checkout": {"href": f"https://www.mollie.com/checkout/select-issuer/ideal/{tr[3:]}"}},
            }
            self.mollie_store[tr] = payment
            self._remember(request, "idempotency-key", payment)
        return JSONResponse(payment, status_code=201)

    async def mollie_payment(self, request: Request) -> Response:
        self._count("ideal")
        if refused := self._mollie_refused(request):
            return refused
        payment = self.mollie_store.get(request.path_params["id"])
        if payment is None:
            return JSONResponse({"status": 404, "title": "Not Found", "detail": "No payment exists with token"}, 404)
        return JSONResponse(payment)

    async def mollie_refund(self, request: Request) -> Response:
        self._count("ideal")
        if refused := self._mollie_refused(request):
            return refused
        with self.lock:
            if replay := self._replay(request, "idempotency-key"):
                return JSONResponse(replay, status_code=201)
            payment = self.mollie_store.get(request.path_params["id"])
            if payment is None or payment["status"] != "paid":
                return JSONResponse(
                    {"status": 422, "title": "Unprocessable Entity", "detail": "The payment has not been paid"}, 422
                )
            body = await request.json()
            refund = {
                "resource": "refund",
                "id": f"re_{uuid.uuid4().hex[:10]}",
                "status": "pending",
                "amount": body["amount"],
            }
            self.mollie_refunds.append(refund)
            self._remember(request, "idempotency-key", refund)
        return JSONResponse(refund, status_code=201)

    # --- PayPal orders -----------------------------------------------------------------------------------------
    def _paypal_refused(self, request: Request) -> Response | None:
        if request.headers.get("authorization", "").removeprefix("Bearer ") not in self.paypal_tokens:
            return JSONResponse({"name": "AUTHENTICATION_FAILURE", "message": "Authentication failed"}, 401)
        return None

    async def paypal_orders_create(self, request: Request) -> Response:
        self._count("paypal")
        if refused := self._paypal_refused(request):
            return refused
        with self.lock:
            if replay := self._replay(request, "paypal-request-id"):
                return JSONResponse(replay, status_code=200)
            body = await request.json()
            order_id = uuid.uuid4().hex[:17].upper()
            order = {
                "id": order_id,
                "status": "PAYER_ACTION_REQUIRED",
                "purchase_units": body["purchase_units"],
                "links": [{"rel": "payer-action", "href": f"https://www.sandbox.paypal.com/checkoutnow?token={order_id}"}],
            }
            self.paypal_orders[order_id] = order
            self._remember(request, "paypal-request-id", order)
        return JSONResponse(order, status_code=201)

    async def paypal_order(self, request: Request) -> Response:
        self._count("paypal")
        if refused := self._paypal_refused(request):
            return refused
        order = self.paypal_orders.get(request.path_params["id"])
        if order is None:
            return JSONResponse({"name": "RESOURCE_NOT_FOUND"}, 404)
        return JSONResponse(order)

    async def paypal_capture(self, request: Request) -> Response:
        self._count("paypal")
        if refused := self._paypal_refused(request):
            return refused
        with self.lock:
            if replay := self._replay(request, "paypal-request-id"):
                return JSONResponse(replay, status_code=201)
            order = self.paypal_orders.get(request.path_params["id"])
            if order is None or order["status"] != "APPROVED":
                return JSONResponse({"name": "UNPROCESSABLE_ENTITY", "details": [{"issue": "ORDER_NOT_APPROVED"}]}, 422)
            order["status"] = "COMPLETED"
            unit = order["purchase_units"][0]
            unit["payments"] = {"captures": [{"id": f"CAP{uuid.uuid4().hex[:13].upper()}", "amount": unit["amount"]}]}
            self._remember(request, "paypal-request-id", order)
        return JSONResponse(order, status_code=201)

    async def paypal_refund(self, request: Request) -> Response:
        self._count("paypal")
        if refused := self._paypal_refused(request):
            return refused
        with self.lock:
            if replay := self._replay(request, "paypal-request-id"):
                return JSONResponse(replay, status_code=201)
            capture = request.path_params["id"]
            known = any(
                c["id"] == capture
                for o in self.paypal_orders.values()
                for u in o["purchase_units"]
                for c in (u.get("payments") or {}).get("captures", [])
            )
            if not known:
                return JSONResponse({"name": "RESOURCE_NOT_FOUND", "message": "capture not found"}, 404)
            body = await request.json()
            refund = {"id": f"RF{uuid.uuid4().hex[:14].upper()}", "status": "COMPLETED", "amount": body["amount"]}
            self.paypal_refunds.append(refund)
            self._remember(request, "paypal-request-id", refund)
        return JSONResponse(refund, status_code=201)

    def paypal_approve(self, order_id: str) -> None:
        self.paypal_orders[order_id]["status"] = "APPROVED"

    async def mollie(self, request: Request) -> Response:
        self._count("ideal")
        if request.headers.get("authorization") != f"Bearer {GOOD['mollie']}":
            return JSONResponse(
                {
                    "status": 401,
                    "title": "Unauthorized Request",
                    "detail": "Missing authentication, or failed to authenticate",
                },
                status_code=401,
            )
        return JSONResponse({"count": 1, "_embedded": {"methods": [{"id": "ideal", "description": "iDEAL"}]}})

    async def kobo(self, request: Request) -> Response:
        self._count("kobo")
        if request.headers.get("authorization") != f"Token {GOOD['kobo']}":
            return JSONResponse({"detail": "Invalid token."}, status_code=401)
        return JSONResponse({"count": 1, "next": None, "previous": None, "results": [{"uid": "aBcDeFgHiJkLmN"}]})

    def _twilio_refused(self, request: Request) -> Response | None:
        expected = base64.b64encode(f"{GOOD['twilio_sid']}:{GOOD['twilio']}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}" or request.path_params["sid"] != GOOD["twilio_sid"]:
            return JSONResponse(
                {
                    "code": 20003,
                    "message": "Authenticate",
                    "more_info": "https://www.twilio.com/docs/errors/20003",
                    "status": 401,
                },
                status_code=401,
            )
        return None

    async def twilio_messages(self, request: Request) -> Response:
        self._count("twilio")
        if refused := self._twilio_refused(request):
            return refused
        if request.method == "GET":
            q = request.query_params
            found = [m for m in self.twilio_sent if m["to"] == q.get("To")]
            return JSONResponse({"messages": found, "next_page_uri": None})
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        to = form.get("To", "")
        if not to.removeprefix("whatsapp:").startswith("+") or not to.removeprefix("whatsapp:")[1:].isdigit():
            return JSONResponse(
                {"code": 21211, "message": f"The 'To' number {to} is not a valid phone number.", "status": 400}, 400
            )
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return JSONResponse({"code": 21603, "message": "A 'From' phone number is required.", "status": 400}, 400)
        message = {
            "sid": f"SM{uuid.uuid4().hex}",
            "to": to,
            "from": form.get("From"),
            "body": form.get("Body"),
            "status": "queued",
            "status_callback": form.get("StatusCallback"),
            "date_created": datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000"),
        }
        with self.lock:
            self.twilio_sent.append(message)
        return JSONResponse(message, status_code=201)

    async def kobo_data(self, request: Request) -> Response:
        self._count("kobo")
        if request.headers.get("authorization") != f"Token {GOOD['kobo']}":
            return JSONResponse({"detail": "Invalid token."}, status_code=401)
        uid = request.path_params["uid"]
        if uid not in self.kobo_submissions:
            return JSONResponse({"detail": "Not found."}, status_code=404)
        q = request.query_params
        with self.lock:
            self.kobo_data_calls += 1
            rows = sorted(self.kobo_submissions[uid], key=lambda r: (r["_submission_time"], r["_id"]))
        if "query" in q:
            since = json.loads(q["query"])["_submission_time"]["$gte"]
            rows = [r for r in rows if r["_submission_time"] >= since]
        start, limit = int(q.get("start", 0)), min(int(q.get("limit", 100)), 1000)
        nxt = None
        if start + limit < len(rows):
            rest = {k: v for k, v in q.items() if k != "start"}
            nxt = f"{str(request.url).split('?', 1)[0]}?{urlencode({**rest, 'start': start + limit})}"
        return JSONResponse({"count": len(rows), "next": nxt, "previous": None, "results": rows[start : start + limit]})

    def kobo_submit(self, uid: str, answers: dict, *, at: str) -> dict:
        with self.lock:
            rows = self.kobo_submissions.setdefault(uid, [])
            row = {
                "_id": 100_000 + sum(len(v) for v in self.kobo_submissions.values()),
                "_uuid": str(uuid.uuid4()),
                "_submission_time": at,
                "formhub/uuid": "f" * 32,
                "meta/instanceID": "uuid:x",
                **answers,
            }
            rows.append(row)
        return row

    async def partner(self, request: Request) -> Response:
        """The hub's proposed partner contract (Cornerstone/Consio when a contract provides an API)."""
        self._count("partner")
        if self.partner_down:
            return Response(status_code=503)
        if request.headers.get("authorization") != f"Bearer {GOOD['partner']}":
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        if request.method == "GET":
            return JSONResponse({"items": list(self.partner_enrollments.values())[:1]})
        with self.lock:
            self.partner_puts += 1
            self.partner_enrollments[request.path_params["key"]] = await request.json()
        return JSONResponse({"key": request.path_params["key"]})

    async def twilio(self, request: Request) -> Response:
        self._count("twilio")
        expected = base64.b64encode(f"{GOOD['twilio_sid']}:{GOOD['twilio']}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}" or request.path_params["sid"] != GOOD["twilio_sid"]:
            return JSONResponse(
                {
                    "code": 20003,
                    "message": "Authenticate",
                    "more_info": "https://www.twilio.com/docs/errors/20003",
                    "status": 401,
                },
                status_code=401,
            )
        return JSONResponse({"sid": GOOD["twilio_sid"], "status": "active", "type": "Trial"})

    async def espocrm(self, request: Request) -> Response:
        self._count("espocrm")
        if request.headers.get("x-api-key") != GOOD["espocrm"]:
            return Response(status_code=401)  # EspoCRM answers 401 with an empty body
        return JSONResponse({"user": {"id": "api-user", "userName": "hub"}, "acl": {}})

    def espo_stamp(self, row: dict) -> None:
        at = datetime.fromtimestamp(time.time() + self.espo_clock_offset_s, UTC)
        row["modifiedAt"] = at.strftime("%Y-%m-%d %H:%M:%S")
        row["versionNumber"] = int(row.get("versionNumber", 0)) + 1

    def espo_edit(self, contact_id: str, fields: dict) -> None:
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
                    "Contact": {"fields": {"firstName": {"type": "varchar"}, "emailAddress": {"type": "email"}}},
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
            rows = [r for r in rows if str(r.get(attribute, "")) >= str(value)]
        elif kind == "equals":
            rows = [r for r in rows if r.get(attribute) == value]
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

    async def xledger(self, request: Request) -> Response:
        self._count("xledger")
        if request.headers.get("authorization") != f"token {GOOD['xledger']}":
            return JSONResponse({"errors": [{"message": "Unauthorized: the API token is invalid or expired"}], "data": None})
        body = await request.json()
        query, variables = body.get("query", ""), body.get("variables") or {}
        if "viewer" in query:
            return JSONResponse({"data": {"viewer": {"entityName": "Blindeforbundet (demo)"}}})
        if "addTransactions" in query:
            node = variables.get("node") or {}
            if not node.get("extIdentifier") or not node.get("account") or not (node.get("amount") or 0) > 0:
                return JSONResponse(
                    {
                        "errors": [
                            {"message": "Invalid input for TransactionInput: account and a positive amount are required"}
                        ],
                        "data": None,
                    }
                )
            with self.lock:
                db_id = str(50_000 + len(self.xledger_entries))
                self.xledger_entries.append({**node, "dbId": db_id})
            return JSONResponse({"data": {"addTransactions": {"edges": [{"node": {"dbId": db_id}}]}}})
        if "transactions(" in query:
            found = [e for e in self.xledger_entries if e["extIdentifier"] == variables.get("ref")]
            return JSONResponse({"data": {"transactions": {"edges": [{"node": {"dbId": e["dbId"]}} for e in found[:1]]}}})
        return JSONResponse({"errors": [{"message": "Cannot query field on type Query"}], "data": None})

    async def paypal_token(self, request: Request) -> Response:
        self._count("paypal")
        expected = base64.b64encode(f"{GOOD['paypal_client']}:{GOOD['paypal']}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return JSONResponse(
                {"error": "invalid_client", "error_description": "Client Authentication failed"}, status_code=401
            )
        token = "A21AA" + base64.urlsafe_b64encode(time.time_ns().to_bytes(8, "big")).decode()
        with self.lock:
            self.paypal_tokens.add(token)
        return JSONResponse(
            {
                "scope": "https://uri.paypal.com/services/payments/payment",
                "access_token": token,
                "token_type": "Bearer",
                "app_id": "APP-80W284485P519543T",
                "expires_in": 32400,
            }
        )

    async def paypal_webhooks(self, request: Request) -> Response:
        self._count("paypal")
        if request.headers.get("authorization", "").removeprefix("Bearer ") not in self.paypal_tokens:
            return JSONResponse(
                {
                    "name": "AUTHENTICATION_FAILURE",
                    "message": "Authentication failed due to invalid "
                    "authentication credentials or a missing Authorization header.",
                },
                status_code=401,
            )
        return JSONResponse({"webhooks": []})

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/stripe/v1/payment_intents", self.stripe_payment_intents, methods=["POST"]),
                Route("/stripe/v1/payment_intents/{id}", self.stripe_payment_intent),
                Route("/stripe/v1/refunds", self.stripe_refunds_create, methods=["POST"]),
                Route("/stripe/v1/{resource}", self.stripe),
                Route("/mollie/v2/payments", self.mollie_payments, methods=["POST"]),
                Route("/mollie/v2/payments/{id}", self.mollie_payment),
                Route("/mollie/v2/payments/{id}/refunds", self.mollie_refund, methods=["POST"]),
                Route("/paypal/v2/checkout/orders", self.paypal_orders_create, methods=["POST"]),
                Route("/paypal/v2/checkout/orders/{id}", self.paypal_order),
                Route("/paypal/v2/checkout/orders/{id}/capture", self.paypal_capture, methods=["POST"]),
                Route("/paypal/v2/payments/captures/{id}/refund", self.paypal_refund, methods=["POST"]),
                Route("/mollie/v2/methods", self.mollie),
                Route("/kobo/api/v2/assets/", self.kobo),
                Route("/twilio/2010-04-01/Accounts/{sid}.json", self.twilio),
                Route("/twilio/2010-04-01/Accounts/{sid}/Messages.json", self.twilio_messages, methods=["GET", "POST"]),
                Route("/kobo/api/v2/assets/{uid}/data/", self.kobo_data),
                Route("/partner/enrollments", self.partner),
                Route("/partner/enrollments/{key}", self.partner, methods=["PUT"]),
                Route("/espo/api/v1/App/user", self.espocrm),
                Route("/espo/api/v1/Metadata", self.espo_metadata),
                Route("/espo/api/v1/Contact", self.espo_contacts_list, methods=["GET", "POST"]),
                Route("/espo/api/v1/Contact/{id}", self.espo_contact, methods=["GET", "PUT"]),
                Route("/espo/api/v1/{entity}", self.espo_entity, methods=["GET", "POST"]),
                Route("/paypal/v1/oauth2/token", self.paypal_token, methods=["POST"]),
                Route("/paypal/v1/notifications/webhooks", self.paypal_webhooks),
                Route("/xledger/graphql", self.xledger, methods=["POST"]),
            ]
        )


def keyed_urls(base: str) -> dict[str, dict[str, str]]:
    return {
        "stripe": {"base_url": f"{base}/stripe/v1"},
        "ideal": {"base_url": f"{base}/mollie/v2"},
        "kobo": {"base_url": f"{base}/kobo"},
        "twilio": {"base_url": f"{base}/twilio/2010-04-01"},
        "espocrm": {"base_url": f"{base}/espo/api/v1"},
        "paypal": {"base_url": f"{base}/paypal"},
        "xledger": {"base_url": f"{base}/xledger/graphql"},
        "cornerstone": {"base_url": f"{base}/partner"},
    }
