"""How tests bring an integration of each kind to life — its document, credential, validation and activation —
shared by the test modules (so no test module imports another)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devfakes.calendars import CalendarFake
from devfakes.keyed import GOOD
from devfakes.launcher import Fakes
from tests.helpers import ApiClient, active_with_secret, connect_active, every_family


@dataclass
class Case:
    doc: dict[str, Any]
    slot: str
    secret: Callable[[Fakes], str]
    currency: str
    pay: Callable[[Fakes, str], None]  # the payer completes the payment at the provider
    count: Callable[[Fakes], int]  # payments the provider holds
    refunds: Callable[[Fakes], int]


def gateway(provider: str, currencies: list[str], **over: Any) -> dict[str, Any]:
    return {
        "family": "payment_gateway",
        "provider": provider,
        "display_name": provider,
        "capabilities": {"payments": True, "refunds": True},
        "config": {"supported_currencies": currencies, "default_currency": currencies[0]},
        **over,
    }


CASES = {
    "stripe": Case(
        gateway("stripe", ["SEK", "JPY"]),
        "api_key_ref",
        lambda f: GOOD["stripe"],
        "SEK",
        lambda f, pid: f.keyed.stripe_succeed(pid),
        lambda f: len(f.keyed.stripe_intents),
        lambda f: len(f.keyed.stripe_refunds),
    ),
    "paypal": Case(
        gateway("paypal", ["EUR", "SEK"], oauth_client_id=GOOD["paypal_client"]),
        "oauth_client_secret_ref",
        lambda f: GOOD["paypal"],
        "EUR",
        lambda f, pid: f.keyed.paypal_approve(pid),
        lambda f: len(f.keyed.paypal_orders),
        lambda f: len(f.keyed.paypal_refunds),
    ),
    "ideal": Case(
        gateway("ideal", ["EUR"], config={"supported_currencies": ["EUR"], "default_currency": "EUR", "psp": "mollie"}),
        "api_key_ref",
        lambda f: GOOD["mollie"],
        "EUR",
        lambda f, pid: f.keyed.mollie_store[pid].update(status="paid"),
        lambda f: len(f.keyed.mollie_store),
        lambda f: len(f.keyed.mollie_refunds),
    ),
    "swish": Case(
        gateway("swish", ["SEK"]),
        "signing_certificate_ref",
        lambda f: f.swish.client_p12_b64,
        "SEK",
        lambda f, pid: f.swish.pay(pid),
        lambda f: len(f.swish.requests),
        lambda f: len(f.swish.refunds),
    ),
}


def active_gateway(admin: ApiClient, fakes: Fakes, provider: str) -> str:
    case = CASES[provider]
    doc = dict(case.doc)
    if provider == "swish":
        doc["config"] = {**doc["config"], "merchant_id": fakes.swish.payee_alias}
    return active_with_secret(admin, doc, case.slot, case.secret(fakes))[1]


def calendar_doc(provider: str, fake: CalendarFake, **config: Any) -> dict[str, Any]:
    return {
        "family": "calendar",
        "provider": provider,
        "display_name": f"Tävlingskalender ({provider})",
        "oauth_client_id": fake.client_id,
        "capabilities": {"push_events": True, "pull_events": True},
        "config": {"sync_direction": "bidirectional", "event_type_filter": ["tournament", "meeting"], **config},
    }


def connect(admin: ApiClient, fakes: Fakes, provider: str, **config: Any) -> str:
    fake = fakes.calendars[provider]
    return connect_active(admin, fake, calendar_doc(provider, fake, **config))


def ledger_doc(provider: str, fake: Any, config: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The create body of a Xero, QuickBooks or Visma integration whose app is the fake's (Xero and QuickBooks
    name the fake's company unless `config` names another)."""
    if provider in ("xero", "quickbooks"):
        config.setdefault("company_id", fake.company_id)
    return {
        "family": "accounting",
        "provider": provider,
        "display_name": provider,
        "oauth_client_id": fake.client_id,
        "config": config,
        **fields,
    }


FIELD_MAP = {
    "first_name": "firstname",
    "last_name": "lastname",
    "email": "emailaddress1",
    "phone": "telephone1",
    "membership_status": "hlf_membershipstatus",
    "segment": "hlf_segment",
}
OWNERSHIP = {"membership_status": "platform", "segment": "crm"}


def crm_doc(provider: str, fake: Any, **config: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "family": "crm",
        "provider": provider,
        "display_name": "HLF portal",
        "config": {
            "instance_url": "https://hlf.crm4.dynamics.com",
            "member_object": "contact",
            "member_field_map": FIELD_MAP,
            "field_ownership": OWNERSHIP,
            "event_tag_field": "hlf_events",
            **config,
        },
    }
    if provider == "dynamics365":
        body["oauth_client_id"] = fake.client_id
        body["config"]["directory_id"] = fake.directory_id
    return body


def espo(tenant: str, instance_url: str) -> dict:
    """An EspoCRM document: its API lives at the tenant's own `instance_url` (self-hosted)."""
    body = next(b for b in every_family(tenant) if b["provider"] == "dynamics365")
    body = {**body, "provider": "espocrm", "display_name": "Espo", "credentials": {}}
    body["config"] = {k: v for k, v in body["config"].items() if k != "directory_id"} | {"instance_url": instance_url}
    return body


def active_espo(admin: ApiClient, **config: Any) -> tuple[dict[str, Any], str]:
    """An active EspoCRM member-sync integration against the keyed fake: (document, its path)."""
    body = crm_doc("espocrm", None, instance_url="https://crm.121.example", member_object="Contact", **config)
    return active_with_secret(admin, body, "api_key_ref", GOOD["espocrm"])


def active_dynamics(admin: ApiClient, fake: Any, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """An active Dynamics 365 integration of `body` (a crm_doc) against the Dataverse fake: (document, path)."""
    return active_with_secret(admin, body, "oauth_client_secret_ref", fake.client_secret)


XLEDGER = {  # seed 002: Xledger exporting reimbursements, in draft
    "family": "accounting",
    "provider": "xledger",
    "display_name": "Xledger",
    "capabilities": {"invoice_sync": False, "reimbursement_export": True},
    "config": {"fiscal_year": {"year": 2026}, "chart_of_accounts": {"travel": "7140"}},
}


def active_xledger(admin: ApiClient) -> tuple[dict[str, Any], str]:
    """An active Xledger integration exporting reimbursements (seed 002) against the keyed fake: (document, path)."""
    return active_with_secret(admin, XLEDGER, "api_key_ref", GOOD["xledger"])
