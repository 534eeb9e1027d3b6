"""A loopback Fortnox that enforces what providers.md says the real one does.

- OAuth2 authorization code: /oauth-v1/auth redirects with a code; /oauth-v1/token needs HTTP Basic
  client id:secret. Access tokens live 1 h (scaled by `token_ttl_s`); refresh tokens are single-use and
  rotate: presenting a used one answers `invalid_grant` and revokes the whole grant.
- API under /3: Bearer validity, expiry and scopes; 25 requests per 5 s sliding window per access token
  → 429 (no Retry-After, like Fortnox); `page`/`limit` with MetaInformation; /companyinformation for
  validation; invoice creation recorded so tests can count duplicates.
- Fault injection for tests: `fail_next(n, status)` and a random 503 rate.
"""

from __future__ import annotations

import base64
import random
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route


@dataclass
class Grant:
    scopes: list[str]
    refresh_token: str
    revoked: bool = False
    used_refresh_tokens: set[str] = field(default_factory=set)


@dataclass
class FortnoxFake:
    client_id: str = "hub-client-id"
    client_secret: str = "hub-client-secret-value"
    window_requests: int = 25
    window_s: float = 5.0
    token_ttl_s: float = 3600.0
    daily_quota: int = 10_923  # what the seed's "142 requests = 1.3 %" implies; Fortnox publishes none
    random_503_rate: float = 0.0
    codes: dict[str, tuple[list[str], str]] = field(default_factory=dict)  # code → (scopes, redirect_uri)
    grants: dict[str, Grant] = field(default_factory=dict)  # grant id → grant
    refresh_index: dict[str, str] = field(default_factory=dict)  # refresh token → grant id
    access: dict[str, tuple[str, float]] = field(default_factory=dict)  # access token → (grant id, expires)
    windows: dict[str, deque[float]] = field(default_factory=dict)
    invoices: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    vouchers: list[dict[str, Any]] = field(default_factory=list)
    token_calls: list[str] = field(default_factory=list)  # grant types, in order
    api_calls: int = 0
    throttled: int = 0
    injected: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- test controls ---------------------------------------------------------------------------------------
    def fail_next(self, count: int, status: int, headers: dict[str, str] | None = None) -> None:
        with self.lock:
            self.injected.extend([(status, headers or {})] * count)

    @staticmethod
    def _minute() -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.gmtime())

    def mark_paid(self, document_number: str, on: str = "2026-11-30") -> None:
        """The customer paid: what a bookkeeper's bank matching does in Fortnox."""
        with self.lock:
            invoice = next(i for i in self.invoices if i["DocumentNumber"] == document_number)
            invoice.update(Balance=0.0, FinalPayDate=on, LastModified=self._minute())

    def issue_code(self, scopes: list[str], redirect_uri: str) -> str:
        code = secrets.token_urlsafe(12)
        self.codes[code] = (scopes, redirect_uri)
        return code

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.access = {t: (g, 0.0) for t, (g, _) in self.access.items()}

    # --- OAuth ---------------------------------------------------------------------------------------------
    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != self.client_id or q.get("response_type") != "code":
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        code = self.issue_code(q.get("scope", "").split(), q["redirect_uri"])
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q.get('state', '')})}", 302)

    def _client_ok(self, request: Request) -> bool:
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Basic "):
            return False
        try:
            cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        except ValueError:
            return False
        return secrets.compare_digest(cid, self.client_id) and secrets.compare_digest(secret, self.client_secret)

    async def token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        grant_type = str(form.get("grant_type", ""))
        with self.lock:
            self.token_calls.append(grant_type)
            if not self._client_ok(request):
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            if grant_type == "authorization_code":
                entry = self.codes.pop(str(form.get("code", "")), None)
                if entry is None or entry[1] != form.get("redirect_uri"):
                    return JSONResponse({"error": "invalid_grant", "error_description": "Invalid code"}, status_code=400)
                grant_id = secrets.token_hex(6)
                self.grants[grant_id] = Grant(entry[0], "")
                return JSONResponse(self._tokens(grant_id))
            if grant_type == "refresh_token":
                presented = str(form.get("refresh_token", ""))
                found_id = self.refresh_index.get(presented)
                grant = self.grants.get(found_id or "")
                if found_id is None or grant is None or grant.revoked:
                    return JSONResponse(
                        {"error": "invalid_grant", "error_description": "Invalid refresh token"}, status_code=400
                    )
                if presented in grant.used_refresh_tokens or presented != grant.refresh_token:
                    grant.revoked = True  # reuse of a single-use refresh token revokes the grant
                    return JSONResponse(
                        {"error": "invalid_grant", "error_description": "Refresh token reused"}, status_code=400
                    )
                grant.used_refresh_tokens.add(presented)
                return JSONResponse(self._tokens(found_id))
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)

    def _tokens(self, grant_id: str) -> dict[str, Any]:
        grant = self.grants[grant_id]
        access, refresh = "fa_" + secrets.token_urlsafe(24), "fr_" + secrets.token_urlsafe(24)
        grant.refresh_token = refresh
        self.refresh_index[refresh] = grant_id
        self.access[access] = (grant_id, time.time() + self.token_ttl_s)
        return {
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "bearer",
            "expires_in": int(self.token_ttl_s),
            "scope": " ".join(grant.scopes),
        }

    # --- API -----------------------------------------------------------------------------------------------
    def _gate(self, request: Request, scope: str) -> Response | None:
        auth = request.headers.get("authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        with self.lock:
            self.api_calls += 1
            entry = self.access.get(token)
            if entry is None or entry[1] < time.time() or self.grants[entry[0]].revoked:
                return JSONResponse(
                    {"ErrorInformation": {"error": 1, "message": "Invalid access token", "code": 2000311}}, status_code=401
                )
            window = self.windows.setdefault(token, deque())
            now = time.monotonic()
            while window and now - window[0] >= self.window_s:
                window.popleft()
            if len(window) >= self.window_requests:
                self.throttled += 1
                return JSONResponse({"message": "Too Many Requests"}, status_code=429)  # no Retry-After
            window.append(now)
            if self.injected:
                status, headers = self.injected.popleft()
                return JSONResponse({"message": "injected"}, status_code=status, headers=headers)
            if self.random_503_rate and random.random() < self.random_503_rate:
                return JSONResponse({"message": "Service Unavailable"}, status_code=503)
            if scope not in self.grants[entry[0]].scopes:
                return JSONResponse(
                    {"ErrorInformation": {"error": 1, "message": f"Missing scope {scope}", "code": 2000663}}, status_code=403
                )
        return None

    async def company(self, request: Request) -> Response:
        if denied := self._gate(request, "companyinformation"):
            return denied
        return JSONResponse(
            {"CompanyInformation": {"CompanyName": "Svenska Bouleförbundet (sandbox)", "OrganizationNumber": "802000-0000"}}
        )

    async def invoices_endpoint(self, request: Request) -> Response:
        if denied := self._gate(request, "invoice"):
            return denied
        if request.method == "POST":
            body = await request.json()
            invoice = body.get("Invoice") if isinstance(body, dict) else None
            if not isinstance(invoice, dict) or not invoice.get("CustomerNumber") or not invoice.get("InvoiceRows"):
                return JSONResponse(
                    {"ErrorInformation": {"error": 1, "message": "Invalid invoice", "code": 2000588}}, status_code=400
                )
            with self.lock:
                number = str(1000 + len(self.invoices) + 1)
                total = round(sum(r.get("Price", 0) * r.get("DeliveredQuantity", 1) for r in invoice["InvoiceRows"]), 2)
                stored = {**invoice, "DocumentNumber": number, "Total": total, "Balance": total, "Cancelled": False}
                stored["LastModified"] = self._minute()
                self.invoices.append(stored)
            return JSONResponse({"Invoice": stored}, status_code=201)
        q = request.query_params
        page, limit = int(q.get("page", 1)), min(int(q.get("limit", 100)), 500)
        items = self.invoices
        if since := q.get("lastmodified"):
            items = [i for i in items if i["LastModified"] >= since]
        if ref := q.get("externalinvoicereference1"):
            items = [i for i in items if i.get("ExternalInvoiceReference1") == ref]
        total_pages = max(1, -(-len(items) // limit))
        chunk = items[(page - 1) * limit : page * limit]
        return JSONResponse(
            {
                "MetaInformation": {"@TotalResources": len(items), "@TotalPages": total_pages, "@CurrentPage": page},
                "Invoices": chunk,
            }
        )

    async def invoice_payments(self, request: Request) -> Response:
        if denied := self._gate(request, "payment"):
            return denied
        if request.method == "GET":
            number = request.query_params.get("invoicenumber")
            found = [p for p in self.payments if str(p["InvoiceNumber"]) == number]
            return JSONResponse({"MetaInformation": {"@TotalResources": len(found)}, "InvoicePayments": found})
        payment = (await request.json()).get("InvoicePayment") or {}
        if not any(i["DocumentNumber"] == str(payment.get("InvoiceNumber")) for i in self.invoices):
            return JSONResponse(
                {"ErrorInformation": {"error": 1, "message": "Invoice not found", "code": 2000428}}, status_code=400
            )
        with self.lock:
            stored = {**payment, "Number": len(self.payments) + 1}
            self.payments.append(stored)
        return JSONResponse({"InvoicePayment": stored}, status_code=201)

    async def vouchers_endpoint(self, request: Request) -> Response:
        if denied := self._gate(request, "bookkeeping"):
            return denied
        if request.method == "GET":
            q = request.query_params
            found = [v for v in self.vouchers if q.get("fromdate", "") <= v["TransactionDate"] <= q.get("todate", "9999")]
            return JSONResponse({"MetaInformation": {"@TotalResources": len(found)}, "Vouchers": found})
        voucher = (await request.json()).get("Voucher") or {}
        rows = voucher.get("VoucherRows") or []
        if round(sum(r.get("Debit", 0) for r in rows), 2) != round(sum(r.get("Credit", 0) for r in rows), 2):
            return JSONResponse(
                {"ErrorInformation": {"error": 1, "message": "Voucher is not balanced", "code": 2000702}}, status_code=400
            )
        with self.lock:
            stored = {**voucher, "VoucherNumber": len(self.vouchers) + 1, "Year": 1}
            self.vouchers.append(stored)
        return JSONResponse({"Voucher": stored}, status_code=201)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/oauth-v1/auth", self.authorize),
                Route("/oauth-v1/token", self.token, methods=["POST"]),
                Route("/3/companyinformation", self.company),
                Route("/3/invoices", self.invoices_endpoint, methods=["GET", "POST"]),
                Route("/3/invoicepayments", self.invoice_payments, methods=["GET", "POST"]),
                Route("/3/vouchers", self.vouchers_endpoint, methods=["GET", "POST"]),
            ]
        )

    def duplicates(self) -> int:
        refs = [i.get("ExternalInvoiceReference1") for i in self.invoices]
        return len(refs) - len(set(refs))
