"""Loopback Xero, QuickBooks Online and Visma eAccounting: OAuth2 authorization code with each provider's
refresh policy (Xero rotates with a 30-minute grace for the previous token, QuickBooks rotates, Visma's
refresh tokens are single-use), the cheap authenticated reads their adapters validate with, and invoice
creation as each provider does it: Xero dedupes on `Idempotency-Key` and finds by `Reference`, QuickBooks
dedupes on `requestid`, Visma finds by `YourReference`. Each enforces its per-minute limit with the
provider's 429 (Xero: Retry-After + X-Rate-Limit-Problem; Visma: ErrorCode 4010)."""

from __future__ import annotations

import base64
import functools
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

Policy = Literal["grace", "rotating", "single_use"]


UNAUTHORIZED: dict[str, dict[str, Any]] = {  # each provider's 401 body for a missing or dead access token
    "xero": {"Title": "Unauthorized", "Status": 401, "Detail": "TokenExpired"},
    "quickbooks": {"fault": {"error": [{"message": "AuthenticationFailed"}], "type": "AUTHENTICATION"}},
    "visma": {"ErrorCode": 4001, "ErrorMessage": "Unauthorized"},
}
FORBIDDEN_ORGANISATION = {"Title": "Forbidden", "Status": 403, "Detail": "AuthenticationUnsuccessful"}  # Xero
Handler = Callable[..., Awaitable[Response]]


def authorized(provider: str, *, metered: bool = True, per_organisation: bool = True) -> Callable[[Handler], Handler]:
    """The provider's checks before an API call: a live bearer token (its 401 otherwise), for a Xero call made
    for one organisation the one it names (`xero-tenant-id`, else 403), then its per-minute limit unless the
    call is free."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def checked(self: OAuthAccountingFake, request: Request, *args: Any) -> Response:
            if not self._bearer_ok(request):
                return JSONResponse(UNAUTHORIZED[provider], status_code=401)
            if provider == "xero" and per_organisation and request.headers.get("xero-tenant-id") != self.company_id:
                return JSONResponse(FORBIDDEN_ORGANISATION, status_code=403)
            if metered and (limited := self._throttle()):
                return limited
            return await handler(self, request, *args)

        return checked

    return wrap


@dataclass
class OAuthAccountingFake:
    name: str
    refresh_policy: Policy
    client_id: str = "acct-client-id"
    client_secret: str = "acct-client-secret-value"
    company_id: str = "8a6f3c1e-0000-4000-8000-00000000c0de"
    grace_s: float = 1800.0
    codes: dict[str, list[str]] = field(default_factory=dict)
    refresh: dict[str, tuple[list[str], float | None]] = field(default_factory=dict)  # token → (scopes, dies_at)
    access: dict[str, float] = field(default_factory=dict)
    token_calls: int = 0
    per_minute: int = 60
    window_s: float = 60.0
    window: deque[float] = field(default_factory=deque)
    throttled: int = 0
    invoices: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    expenses: list[dict[str, Any]] = field(default_factory=list)
    replays: dict[str, dict[str, Any]] = field(default_factory=dict)  # idempotency key / requestid → first response
    lock: threading.Lock = field(default_factory=threading.Lock)
    token_auth: str = "basic"  # how the client must authenticate at the token URL: "basic", or "body" (Twitch)
    app_grants: bool = False  # client_credentials issues app tokens (Twitch), kept apart from user tokens
    app_access: dict[str, float] = field(default_factory=dict)

    def _over_limit(self) -> str | None:
        """None when this request fits the sliding window; else the seconds until it would (Retry-After)."""
        with self.lock:
            now = time.monotonic()
            while self.window and now - self.window[0] >= self.window_s:
                self.window.popleft()
            if len(self.window) < self.per_minute:
                self.window.append(now)
                return None
            self.throttled += 1
            return str(max(1, int(self.window_s - (now - self.window[0]) + 0.999)))

    def _throttle(self) -> Response | None:
        if (wait := self._over_limit()) is None:
            return None
        if self.name == "xero":
            return Response(status_code=429, headers={"Retry-After": wait, "X-Rate-Limit-Problem": "minute"})
        if self.name == "visma":
            return JSONResponse({"ErrorCode": 4010, "ErrorMessage": "Rate limit exceeded"}, status_code=429)
        return JSONResponse({"fault": {"error": [{"message": "ThrottleExceeded"}], "type": "SERVICE"}}, status_code=429)

    def _record(
        self, replay_key: str | None, build: Callable[[int], dict[str, Any]], into: list[Any] | None = None
    ) -> dict[str, Any]:
        target = self.invoices if into is None else into
        with self.lock:
            if replay_key and replay_key in self.replays:
                return self.replays[replay_key]
            body = build(len(target) + 1)
            target.append(body)
            if replay_key:
                self.replays[replay_key] = body
            return body

    # --- the ledger's own state of the invoices it holds (what the accounting pull reads) ---------------------
    def _with_state(self, body: dict[str, Any], n: int) -> dict[str, Any]:
        """A new invoice as the ledger keeps it: a number, an amount due and a modification time."""
        now = datetime.now(UTC)
        if self.name == "xero":
            return {
                **body,
                "InvoiceNumber": f"INV-{n:04d}",
                "Total": 450.0,
                "AmountDue": 450.0,
                "AmountPaid": 0.0,
                "UpdatedDateUTC": now,
            }
        if self.name == "quickbooks":
            return {
                **body,
                "DocNumber": str(1000 + n),
                "TotalAmt": 450.0,
                "Balance": 450.0,
                "MetaData": {"LastUpdatedTime": now},
            }
        return {**body, "InvoiceNumber": n, "TotalAmount": 450.0, "RemainingAmount": 450.0, "ModifiedUtc": now}

    @staticmethod
    def _modified(invoice: dict[str, Any]) -> datetime:
        stamp: datetime = (
            invoice.get("UpdatedDateUTC") or invoice.get("ModifiedUtc") or invoice["MetaData"]["LastUpdatedTime"]
        )
        return stamp

    def settle(self, index: int) -> None:
        """The customer paid invoice `index` (what the ledger's bank matching does)."""
        with self.lock:
            invoice, now = self.invoices[index], datetime.now(UTC)
            if self.name == "xero":
                invoice.update(Status="PAID", AmountDue=0.0, AmountPaid=invoice["Total"], UpdatedDateUTC=now)
            elif self.name == "quickbooks":
                invoice.update(Balance=0.0, MetaData={"LastUpdatedTime": now})
            else:
                invoice.update(RemainingAmount=0.0, ModifiedUtc=now)

    def _listing(self, since: datetime | None, start: int, size: int) -> list[dict[str, Any]]:
        """Invoices modified at or after `since`, oldest change first, one page of them (JSON-ready)."""
        with self.lock:
            found = sorted((i for i in self.invoices if since is None or self._modified(i) >= since), key=self._modified)
        page = found[start : start + size]
        stamp = {"UpdatedDateUTC", "ModifiedUtc"}
        out = []
        for invoice in page:
            item = {k: (v.isoformat() if k in stamp else v) for k, v in invoice.items()}
            if "MetaData" in item:
                item["MetaData"] = {"LastUpdatedTime": invoice["MetaData"]["LastUpdatedTime"].isoformat()}
            out.append(item)
        return out

    def _known_invoice(self, invoice_id: str) -> bool:
        return any(invoice_id in (i.get("InvoiceID"), i.get("Id")) for i in self.invoices)

    async def xero_payments(self, request: Request) -> Response:
        return await self._xero_resource(request, "Payments", "PaymentID")

    async def xero_bank_transactions(self, request: Request) -> Response:
        return await self._xero_resource(request, "BankTransactions", "BankTransactionID")

    @authorized("xero")
    async def _xero_resource(self, request: Request, resource: str, id_field: str) -> Response:
        store = self.payments if resource == "Payments" else self.expenses
        if request.method == "GET":
            ref = request.query_params.get("where", "").removeprefix('Reference=="').removesuffix('"')
            return JSONResponse({resource: [x for x in store if x.get("Reference") == ref]})
        item = (await request.json())[resource][0]
        invalid = (resource == "Payments" and not self._known_invoice(item.get("Invoice", {}).get("InvoiceID", ""))) or (
            resource == "BankTransactions" and not item.get("BankAccount", {}).get("Code")
        )
        if invalid:
            return JSONResponse({"ErrorNumber": 10, "Type": "ValidationException"}, status_code=400)
        body = self._record(
            request.headers.get("idempotency-key"),
            lambda n: {**item, id_field: f"{resource[:3].lower()}-{n:06d}"},
            into=store,
        )
        return JSONResponse({resource: [body]})

    async def qbo_payment(self, request: Request) -> Response:
        return await self._qbo_resource(request, "Payment")

    async def qbo_purchase(self, request: Request) -> Response:
        return await self._qbo_resource(request, "Purchase")

    @authorized("quickbooks")
    async def _qbo_resource(self, request: Request, entity: str) -> Response:
        item = await request.json()
        store = self.payments if entity == "Payment" else self.expenses
        if entity == "Payment" and not all(
            self._known_invoice(t["TxnId"]) for line in item.get("Line", []) for t in line.get("LinkedTxn", [])
        ):
            return JSONResponse({"Fault": {"Error": [{"Message": "Invalid Reference Id"}]}}, status_code=400)
        key = request.query_params.get("requestid")
        body = self._record(f"{entity}:{key}" if key else None, lambda n: {**item, "Id": str(500 + n)}, into=store)
        return JSONResponse({entity: body})

    @authorized("visma")
    async def visma_invoice_payments(self, request: Request) -> Response:
        invoice_id = request.path_params["id"]
        if not self._known_invoice(invoice_id):
            return JSONResponse({"ErrorCode": 4004, "ErrorMessage": "Invoice not found"}, status_code=404)
        if request.method == "GET":
            return JSONResponse({"Data": [p for p in self.payments if p["InvoiceId"] == invoice_id]})
        item = await request.json()
        return JSONResponse(
            self._record(None, lambda n: {**item, "InvoiceId": invoice_id, "Id": f"pay-{n}"}, into=self.payments), 201
        )

    @authorized("visma")
    async def visma_vouchers(self, request: Request) -> Response:
        if request.method == "GET":
            day = request.query_params.get("$filter", "").removeprefix("VoucherDate eq ")
            return JSONResponse({"Data": [v for v in self.expenses if v["VoucherDate"] == day]})
        item = await request.json()
        rows = item.get("Rows") or []
        if round(sum(r.get("DebitAmount", 0) for r in rows), 2) != round(sum(r.get("CreditAmount", 0) for r in rows), 2):
            return JSONResponse({"ErrorCode": 4000, "ErrorMessage": "Voucher is not balanced"}, status_code=400)
        return JSONResponse(self._record(None, lambda n: {**item, "Id": f"vou-{n}"}, into=self.expenses), 201)

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != self.client_id:
            return JSONResponse({"error": "unauthorized_client"}, status_code=400)
        code = secrets.token_urlsafe(12)
        self.codes[code] = q.get("scope", "").split()
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q.get('state', '')})}", 302)

    async def token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        with self.lock:
            self.token_calls += 1
            if self.token_auth == "body":
                client_ok = form.get("client_id") == self.client_id and form.get("client_secret") == self.client_secret
            else:
                client_ok = request.headers.get("authorization") == f"Basic {expected}"
            if not client_ok:
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            if form.get("grant_type") == "client_credentials":
                if not self.app_grants:
                    return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
                app = secrets.token_urlsafe(24)
                self.app_access[app] = time.time() + 3600
                return JSONResponse({"access_token": app, "expires_in": 3600, "token_type": "bearer"})
            if form.get("grant_type") == "authorization_code":
                scopes = self.codes.pop(form.get("code", ""), None)
                if scopes is None:
                    return JSONResponse({"error": "invalid_grant"}, status_code=400)
                return JSONResponse(self._issue(scopes))
            presented = form.get("refresh_token", "")
            entry = self.refresh.get(presented)
            if entry is None or (entry[1] is not None and entry[1] < time.time()):
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            scopes = entry[0]
            if self.refresh_policy == "single_use":
                del self.refresh[presented]
            elif self.refresh_policy == "grace":
                self.refresh[presented] = (scopes, time.time() + self.grace_s)
            else:
                del self.refresh[presented]
            return JSONResponse(self._issue(scopes))

    def _issue(self, scopes: list[str]) -> dict[str, Any]:
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.access[access] = time.time() + 1800
        self.refresh[refresh] = (scopes, None)
        return {
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": 1800,
            "token_type": "Bearer",
            "scope": " ".join(scopes),
        }

    def _bearer_ok(self, request: Request) -> bool:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        return self.access.get(token, 0) > time.time()

    # Xero
    @authorized("xero", metered=False, per_organisation=False)
    async def xero_connections(self, request: Request) -> Response:
        return JSONResponse(
            [
                {
                    "id": "conn-1",
                    "tenantId": self.company_id,
                    "tenantType": "ORGANISATION",
                    "tenantName": "Svenska Bouleförbundet",
                }
            ]
        )

    @authorized("xero", metered=False)
    async def xero_organisation(self, request: Request) -> Response:
        return JSONResponse(
            {"Organisations": [{"Name": "Svenska Bouleförbundet"}]},
            headers={"X-MinLimit-Remaining": "59", "X-DayLimit-Remaining": "4999"},
        )

    @authorized("xero")
    async def xero_invoices(self, request: Request) -> Response:
        if request.method == "GET":
            where = request.query_params.get("where", "")
            if where.startswith("Reference=="):
                ref = where.removeprefix('Reference=="').removesuffix('"')
                return JSONResponse({"Invoices": [i for i in self._listing(None, 0, 10**6) if i["Reference"] == ref]})
            since = request.headers.get("if-modified-since")
            after = datetime.fromisoformat(since).replace(tzinfo=UTC) if since else None
            size = min(int(request.query_params.get("pageSize", 100)), 1000)
            page = int(request.query_params.get("page", 1))
            return JSONResponse({"Invoices": self._listing(after, (page - 1) * size, size)})
        invoice = (await request.json())["Invoices"][0]
        lines = invoice.get("LineItems") or []
        if not lines or any(not line.get("AccountCode") for line in lines) or not invoice.get("Contact"):
            return JSONResponse(
                {"ErrorNumber": 10, "Type": "ValidationException", "Message": "A validation exception occurred"},
                status_code=400,
            )
        body = self._record(
            request.headers.get("idempotency-key"), lambda n: self._with_state({**invoice, "InvoiceID": f"inv-{n:06d}"}, n)
        )
        public = self._listing(None, 0, len(self.invoices))
        shown = next(i for i in public if i["InvoiceID"] == body["InvoiceID"])
        return JSONResponse({"Invoices": [shown]}, headers={"X-MinLimit-Remaining": str(self.per_minute - len(self.window))})

    @authorized("quickbooks")
    async def qbo_invoice(self, request: Request) -> Response:
        invoice = await request.json()
        if not invoice.get("Line") or not invoice.get("CustomerRef"):
            return JSONResponse(
                {"Fault": {"Error": [{"Message": "Required param missing", "code": "2020"}], "type": "ValidationFault"}},
                status_code=400,
            )
        body = self._record(request.query_params.get("requestid"), lambda n: self._with_state({**invoice, "Id": str(n)}, n))
        return JSONResponse(
            {"Invoice": next(i for i in self._listing(None, 0, len(self.invoices)) if i["Id"] == body["Id"])}
        )

    @authorized("visma")
    async def visma_invoices(self, request: Request) -> Response:
        if request.method == "GET":
            flt = request.query_params.get("$filter", "")
            if flt.startswith("YourReference eq"):
                ref = flt.removeprefix("YourReference eq '").removesuffix("'")
                found = [i for i in self._listing(None, 0, 10**6) if i["YourReference"] == ref]
                return JSONResponse({"Meta": {"TotalNumberOfResults": len(found)}, "Data": found})
            since = datetime.fromisoformat(flt.removeprefix("ModifiedUtc ge ")) if flt else None
            size = min(int(request.query_params.get("$pagesize", 50)), 1000)
            page = int(request.query_params.get("$page", 1))
            data = self._listing(since, (page - 1) * size, size)
            return JSONResponse({"Meta": {"CurrentPage": page, "PageSize": size}, "Data": data})
        invoice = await request.json()
        if not invoice.get("Rows") or any("AccountNumber" not in r for r in invoice["Rows"]):
            return JSONResponse({"ErrorCode": 4000, "ErrorMessage": "Validation failed: Rows"}, status_code=400)
        body = self._record(None, lambda n: self._with_state({**invoice, "Id": f"9f0c{n:028x}"}, n))
        shown = next(i for i in self._listing(None, 0, len(self.invoices)) if i["Id"] == body["Id"])
        return JSONResponse(shown, status_code=201)

    @authorized("quickbooks")
    async def qbo_query(self, request: Request) -> Response:
        query = request.query_params.get("query", "")
        if not query.lower().startswith("select * from invoice"):
            return JSONResponse({"Fault": {"Error": [{"Message": "QueryParserError"}]}}, status_code=400)
        found = re.search(r"Metadata\.LastUpdatedTime >= '([^']+)'", query)
        since = datetime.fromisoformat(found.group(1)) if found else None
        start = int(request.query_params.get("STARTPOSITION", 1))
        size = min(int(request.query_params.get("MAXRESULTS", 100)), 1000)
        items = self._listing(since, start - 1, size)
        return JSONResponse({"QueryResponse": {"Invoice": items, "startPosition": start, "maxResults": len(items)}})

    @authorized("quickbooks", metered=False)
    async def qbo_tax_summary(self, request: Request) -> Response:
        """The Tax Summary report over the invoices it holds: net sales per tax code and 25 % VAT on them."""
        start, end = request.query_params.get("start_date", ""), request.query_params.get("end_date", "~")
        net: dict[str, float] = {}
        with self.lock:
            for invoice in self.invoices:
                if start <= invoice.get("TxnDate", "") <= end:
                    for line in invoice["Line"]:
                        code = line["SalesItemLineDetail"].get("TaxCodeRef", {}).get("value", "NON")
                        net[code] = net.get(code, 0.0) + float(line["Amount"])
        rows = [
            {"ColData": [{"value": c}, {"value": f"{n:.2f}"}, {"value": f"{n * 0.25:.2f}"}]} for c, n in sorted(net.items())
        ]
        return JSONResponse({"Header": {"ReportName": "TaxSummary", "Currency": "SEK"}, "Rows": {"Row": rows}})

    # QuickBooks
    async def qbo_companyinfo(self, request: Request) -> Response:
        if not self._bearer_ok(request):
            return JSONResponse(
                {
                    "fault": {
                        "error": [{"message": "message=AuthenticationFailed; errorCode=003200; statusCode=401"}],
                        "type": "AUTHENTICATION",
                    }
                },
                status_code=401,
            )
        realm = request.path_params["realm"]
        if realm != self.company_id or request.path_params["realm2"] != realm:
            return JSONResponse(
                {
                    "fault": {
                        "error": [{"message": "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403"}],
                        "type": "AUTHORIZATION",
                    }
                },
                status_code=403,
            )
        return JSONResponse({"CompanyInfo": {"CompanyName": "Svenska Bouleförbundet"}})

    # Visma
    @authorized("visma", metered=False)
    async def visma_settings(self, request: Request) -> Response:
        return JSONResponse({"Name": "Svenska Bouleförbundet", "CorporateIdentityNumber": "802000-0000"})

    def app(self) -> Starlette:
        """The authorization-code endpoints every OAuth fake serves, then its provider's API."""
        oauth = [Route("/oauth/authorize", self.authorize), Route("/oauth/token", self.token, methods=["POST"])]
        return Starlette(routes=[*oauth, *self.api_routes()])

    def api_routes(self) -> list[Route]:
        return [
            Route("/xero/connections", self.xero_connections),
            Route("/xero/api.xro/2.0/Organisation", self.xero_organisation),
            Route("/xero/api.xro/2.0/Invoices", self.xero_invoices, methods=["GET", "POST"]),
            Route("/qbo/v3/company/{realm}/invoice", self.qbo_invoice, methods=["POST"]),
            Route("/qbo/v3/company/{realm}/query", self.qbo_query),
            Route("/qbo/v3/company/{realm}/reports/TaxSummary", self.qbo_tax_summary),
            Route("/visma/v2/customerinvoices", self.visma_invoices, methods=["GET", "POST"]),
            Route("/xero/api.xro/2.0/Payments", self.xero_payments, methods=["GET", "PUT"]),
            Route("/xero/api.xro/2.0/BankTransactions", self.xero_bank_transactions, methods=["GET", "PUT"]),
            Route("/qbo/v3/company/{realm}/payment", self.qbo_payment, methods=["POST"]),
            Route("/qbo/v3/company/{realm}/purchase", self.qbo_purchase, methods=["POST"]),
            Route("/visma/v2/customerinvoices/{id}/payments", self.visma_invoice_payments, methods=["GET", "POST"]),
            Route("/visma/v2/vouchers", self.visma_vouchers, methods=["GET", "POST"]),
            Route("/qbo/v3/company/{realm}/companyinfo/{realm2}", self.qbo_companyinfo),
            Route("/visma/v2/companysettings", self.visma_settings),
        ]


def urls(name: str, base: str) -> dict[str, str]:
    api = {
        "xero": f"{base}/xero/api.xro/2.0",
        "quickbooks": f"{base}/qbo/v3/company/{{company_id}}",
        "visma": f"{base}/visma/v2",
    }[name]
    out = {"authorize_url": f"{base}/oauth/authorize", "token_url": f"{base}/oauth/token", "base_url": api}
    if name == "xero":
        out["connections_url"] = f"{base}/xero/connections"
    return out
