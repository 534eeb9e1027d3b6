"""Payments through Stripe, PayPal, Swish (mutual TLS) and iDEAL via Mollie: create once per key whatever
the retries, learn the status by re-fetching, refund in part and in full but never beyond what was paid,
and multi-currency rules (minor units per ISO 4217, Swish SEK only, iDEAL EUR only)."""

from __future__ import annotations

import json
from functools import partial

import pytest

from adapters.payments import decimal_amount, minor_amount
from devfakes.launcher import Fakes
from integrations.auth.principal import Scope
from integrations.documents.ref import IntegrationRef
from integrations.wiring import Hub
from tests.helpers import ApiClient, together
from tests.setups import CASES, active_gateway


@pytest.mark.parametrize("provider", list(CASES))
def test_pay_once_then_refund_in_parts(admin: ApiClient, fakes: Fakes, hub: Hub, provider: str) -> None:
    case = CASES[provider]
    path = active_gateway(admin, fakes, provider)
    body = {
        "key": "PAY-2026-0001",
        "amount_minor": 45000,
        "currency": case.currency,
        "description": "Licens 2026",
        "return_url": "https://portal.example.se/paid",
    }
    first = admin.post(f"{path}/payments", json=body)
    assert first.status_code == 201, first.text
    payment = first.json()
    assert payment["status"] == "pending" and payment["amount"] == "450.00" and payment["provider_payment_id"]
    assert payment["checkout_url"] or payment["client_token"]
    # the platform retries (timeout on its side): the same payment, no second charge
    again = admin.post(f"{path}/payments", json=body)
    assert again.status_code == 200 and again.json()["provider_payment_id"] == payment["provider_payment_id"]
    assert case.count(fakes) == 1
    reused = admin.post(f"{path}/payments", json={**body, "amount_minor": 100})
    assert reused.status_code == 409

    # nothing to refund before the payer paid
    r = admin.post(f"{path}/payments/PAY-2026-0001/refunds", json={"key": "REF-1", "amount_minor": 10000})
    assert r.status_code == 409 and "pending" in r.json()["detail"], r.text

    case.pay(fakes, payment["provider_payment_id"])
    paid = admin.get(f"{path}/payments/PAY-2026-0001", params={"refresh": "true"}).json()
    assert paid["status"] == "succeeded", paid

    part = admin.post(f"{path}/payments/PAY-2026-0001/refunds", json={"key": "REF-1", "amount_minor": 10000})
    assert part.status_code == 201, part.text
    assert part.json()["refund"]["amount"] == "100.00" and part.json()["payment"]["refunded_minor"] == 10000
    replay = admin.post(f"{path}/payments/PAY-2026-0001/refunds", json={"key": "REF-1", "amount_minor": 10000})
    assert replay.status_code == 200 and case.refunds(fakes) == 1
    other = admin.post(f"{path}/payments/PAY-2026-0001/refunds", json={"key": "REF-1", "amount_minor": 500})
    assert other.status_code == 409
    too_much = admin.post(f"{path}/payments/PAY-2026-0001/refunds", json={"key": "REF-2", "amount_minor": 40000})
    assert too_much.status_code == 422 and too_much.json()["errors"][0]["pointer"] == "/amount_minor"
    rest = admin.post(f"{path}/payments/PAY-2026-0001/refunds", json={"key": "REF-3"})
    assert rest.status_code == 201 and rest.json()["refund"]["amount_minor"] == 35000
    assert rest.json()["payment"]["refunded_minor"] == 45000 and case.refunds(fakes) == 2
    usage = admin.get(f"{path}/usage").json()["by_operation"]
    assert usage["payments.create"]["requests"] >= 1 and usage["payments.refund"]["errors"] == 0


@pytest.mark.parametrize(
    ("provider", "currency", "pointer_detail"),
    [("swish", "EUR", "swish takes only SEK"), ("ideal", "USD", "ideal takes only EUR"), ("stripe", "NOK", "supported")],
)
def test_currency_rules(admin: ApiClient, fakes: Fakes, provider: str, currency: str, pointer_detail: str) -> None:
    path = active_gateway(admin, fakes, provider)
    body = {"key": "P1", "amount_minor": 100, "currency": currency, "description": "x", "return_url": "https://a.se/"}
    r = admin.post(f"{path}/payments", json=body)
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert {e["pointer"] for e in errors} == {"/currency"} and any(pointer_detail in e["message"] for e in errors), errors


def test_zero_decimal_currency_and_minor_units(admin: ApiClient, fakes: Fakes) -> None:
    assert decimal_amount(1250, "SEK") == "12.50" and decimal_amount(1250, "JPY") == "1250"
    assert decimal_amount(1250, "KWD") == "1.250" and minor_amount("12.5", "EUR") == 1250
    path = active_gateway(admin, fakes, "stripe")
    body = {"key": "JP-1", "amount_minor": 3000, "currency": "JPY", "description": "Entry fee"}
    payment = admin.post(f"{path}/payments", json=body).json()
    assert payment["amount"] == "3000"
    intent = fakes.keyed.stripe_intents[payment["provider_payment_id"]]
    assert intent["amount"] == 3000 and intent["currency"] == "jpy"


def test_payments_need_the_scope_an_active_gateway_and_the_capability(
    admin: ApiClient, fakes: Fakes, hub: Hub, api: str
) -> None:
    path = active_gateway(admin, fakes, "stripe")
    reader = ApiClient(
        api, hub.api_keys.issue(tenant_id=admin.tenant, scopes=[Scope.integrations_write], name="r").secret, admin.tenant
    )
    body = {"key": "P1", "amount_minor": 100, "currency": "SEK", "description": "x"}
    assert reader.post(f"{path}/payments", json=body).status_code == 403
    payer = ApiClient(
        api, hub.api_keys.issue(tenant_id=admin.tenant, scopes=[Scope.payments_write], name="p").secret, admin.tenant
    )
    assert payer.post(f"{path}/payments", json=body).status_code == 201
    assert payer.get(f"{path}/payments/P1").json()["client_token"]  # the checkout needs it
    viewer = reader  # may read integrations, may not take payments
    assert viewer.get(f"{path}/payments/P1").json()["client_token"] is None  # readers do not get it
    assert all(p["client_token"] is None for p in viewer.get(f"{path}/payments").json()["items"])
    assert payer.get(f"{path}/payments/NOPE").status_code == 404
    payer.post(f"{path}/payments", json={**body, "key": "P0"})
    page = payer.get(f"{path}/payments", params={"limit": 1}).json()
    assert [p["key"] for p in page["items"]] == ["P0"] and page["next"]
    rest = payer.get(f"{path}/payments", params={"limit": 1, "continuation": page["next"]}).json()
    assert [p["key"] for p in rest["items"]] == ["P1"]
    assert payer.get(f"{path}/payments", params={"continuation": "not-a-token"}).status_code == 400
    admin.post(f"{path}:pause")
    r = payer.post(f"{path}/payments", json={**body, "key": "P2"})
    assert r.status_code == 409 and "paused" in r.json()["detail"]


def test_a_refused_refund_releases_its_reservation(admin: ApiClient, fakes: Fakes) -> None:
    path = active_gateway(admin, fakes, "stripe")
    payment = admin.post(
        f"{path}/payments", json={"key": "P9", "amount_minor": 5000, "currency": "SEK", "description": "x"}
    ).json()
    fakes.keyed.stripe_succeed(payment["provider_payment_id"])
    # the provider refunded part of it elsewhere (dashboard): it refuses our full refund
    fakes.keyed.stripe_intents[payment["provider_payment_id"]]["amount_refunded"] = 4000
    r = admin.post(f"{path}/payments/P9/refunds", json={"key": "R-full"})
    assert r.status_code == 502 and "amount_too_large" in r.json()["detail"], r.text
    after = admin.get(f"{path}/payments/P9").json()
    assert after["refunded_minor"] == 0 and after["refunds"][0]["status"] == "refused"


def test_concurrent_refunds_never_exceed_what_was_paid(admin: ApiClient, fakes: Fakes) -> None:
    path = active_gateway(admin, fakes, "stripe")
    body = {"key": "P-CONC", "amount_minor": 45000, "currency": "SEK", "description": "Licens"}
    payment = admin.post(f"{path}/payments", json=body).json()
    fakes.keyed.stripe_succeed(payment["provider_payment_id"])

    def refund(i: int) -> int:
        return admin.post(f"{path}/payments/P-CONC/refunds", json={"key": f"R-{i}", "amount_minor": 10000}).status_code

    statuses = together(*(partial(refund, i) for i in range(8)))
    after = admin.get(f"{path}/payments/P-CONC").json()
    assert statuses.count(201) == 4 and set(statuses) <= {201, 409, 422}, statuses
    assert after["refunded_minor"] == 40000 and len(fakes.keyed.stripe_refunds) == 4


def test_a_create_whose_outcome_was_lost_finds_the_first_payment(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    """The provider took the payment but the hub crashed before recording it: the row says `creating`. The
    platform's retry asks the provider again with the same idempotency key and gets the same payment."""
    path = active_gateway(admin, fakes, "stripe")
    body = {"key": "P-LOST", "amount_minor": 1500, "currency": "SEK", "description": "Entry fee"}
    first = admin.post(f"{path}/payments", json=body).json()
    table = hub.payments._rows.table
    entity, etag = table.get(f"{admin.tenant}|{first['integration_id']}", "P-LOST")
    lost = {**json.loads(entity["Body"]), "status": "creating", "provider_payment_id": None}
    table.replace({**entity, "Body": json.dumps(lost)}, etag=etag)
    again = admin.post(f"{path}/payments", json=body)
    assert again.status_code == 200 and again.json()["provider_payment_id"] == first["provider_payment_id"]
    assert len(fakes.keyed.stripe_intents) == 1


def test_payments_on_another_family_are_a_conflict(admin: ApiClient, fakes: Fakes) -> None:
    from tests.helpers import fortnox

    doc = admin.create(fortnox(admin.tenant))
    r = admin.post(
        f"{admin.integrations}/{doc['id']}/payments",
        json={"key": "P", "amount_minor": 1, "currency": "SEK", "description": "x"},
    )
    assert r.status_code == 409 and "not a payment gateway" in r.json()["detail"]


def test_same_key_refunds_in_flight_refund_once(admin: ApiClient, fakes: Fakes) -> None:
    """Eight copies of one refund (a client retrying a timed-out call) while the first is still at Stripe: the
    provider answers its in-flight 409 to the copies, which must not release the first one's reservation."""
    path = active_gateway(admin, fakes, "stripe")
    body = {"key": "P-SAME", "amount_minor": 45000, "currency": "SEK", "description": "Licens"}
    payment = admin.post(f"{path}/payments", json=body).json()
    fakes.keyed.stripe_succeed(payment["provider_payment_id"])
    fakes.keyed.stripe_write_delay_s = 0.5

    def refund() -> tuple[int, str]:
        r = admin.post(f"{path}/payments/P-SAME/refunds", json={"key": "R", "amount_minor": 6000})
        return r.status_code, r.json().get("reason", "")

    answers = together(*[refund] * 8)
    fakes.keyed.stripe_write_delay_s = 0.0
    statuses = [s for s, _ in answers]
    assert statuses.count(201) == 1 and set(answers) - {(201, "")} <= {(409, "in_progress"), (200, "")}, answers
    after = admin.get(f"{path}/payments/P-SAME").json()
    assert after["refunded_minor"] == 6000 and [r["status"] for r in after["refunds"]] == ["succeeded"], after
    in_progress = admin.post(f"{path}/payments/P-SAME/refunds", json={"key": "R", "amount_minor": 6000})
    assert in_progress.status_code == 200  # settled now: the first request's outcome
    rest = admin.post(f"{path}/payments/P-SAME/refunds", json={"key": "R-rest"})
    assert rest.status_code == 201 and rest.json()["refund"]["amount_minor"] == 39000, rest.text
    assert [r["amount"] for r in fakes.keyed.stripe_refunds] == [6000, 39000]


def test_a_duplicate_in_flight_is_told_to_retry(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    """A refund still `creating` under a live owner: the copy gets 409 in_progress with Retry-After, and the
    provider is not asked."""
    path = active_gateway(admin, fakes, "stripe")
    payment = admin.post(
        f"{path}/payments", json={"key": "P-FLY", "amount_minor": 5000, "currency": "SEK", "description": "x"}
    ).json()
    fakes.keyed.stripe_succeed(payment["provider_payment_id"])
    admin.get(f"{path}/payments/P-FLY", params={"refresh": "true"})
    payments = hub.payments
    _, refund, _, attempt = payments._reserve(
        IntegrationRef(admin.tenant, payment["integration_id"]), "P-FLY", "R1", 1000, ""
    )
    assert attempt and refund.status == "creating"
    r = admin.post(f"{path}/payments/P-FLY/refunds", json={"key": "R1", "amount_minor": 1000})
    assert r.status_code == 409 and r.json()["reason"] == "in_progress" and r.headers["Retry-After"] == "5", r.text
    assert fakes.keyed.stripe_refunds == []


def test_a_crashed_refund_is_taken_over_with_the_same_provider_key(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    """The owner reserved, asked Stripe, and died before settling: once its claim is stale the retry asks again
    with the same idempotency key, gets Stripe's replay, and settles; the amount is reserved once."""
    path = active_gateway(admin, fakes, "stripe")
    payment = admin.post(
        f"{path}/payments", json={"key": "P-DEAD", "amount_minor": 5000, "currency": "SEK", "description": "x"}
    ).json()
    fakes.keyed.stripe_succeed(payment["provider_payment_id"])
    first = admin.post(f"{path}/payments/P-DEAD/refunds", json={"key": "R1", "amount_minor": 1000}).json()
    table = hub.payments._rows.table
    pk = f"{admin.tenant}|{payment['integration_id']}"
    entity, etag = table.get(pk, "P-DEAD")
    body = json.loads(entity["Body"])
    body["refunds"][0].update(status="creating", provider_refund_id=None)  # the settle was lost in the crash
    stale = {"R1": {"attempt": "dead", "at": "2020-01-01T00:00:00+00:00"}}
    table.replace({**entity, "Body": json.dumps(body), "RefundOwners": json.dumps(stale)}, etag=etag)
    again = admin.post(f"{path}/payments/P-DEAD/refunds", json={"key": "R1", "amount_minor": 1000})
    assert again.status_code == 201, again.text
    assert again.json()["refund"]["provider_refund_id"] == first["refund"]["provider_refund_id"]
    assert again.json()["payment"]["refunded_minor"] == 1000 and len(fakes.keyed.stripe_refunds) == 1


def test_provider_idempotency_keys_are_scoped_to_tenant_integration_and_record(
    admin: ApiClient, fakes: Fakes, hub: Hub, api: str
) -> None:
    """Refund "R1" on two payments, and payment "P1" on two integrations of two tenants of one Stripe account,
    are different things at Stripe (unscoped keys collided: an idempotency_error, or a replay of the other)."""
    import secrets

    path = active_gateway(admin, fakes, "stripe")
    ids = []
    for key in ("A", "B"):
        p = admin.post(f"{path}/payments", json={"key": key, "amount_minor": 5000, "currency": "SEK", "description": "x"})
        fakes.keyed.stripe_succeed(p.json()["provider_payment_id"])
        ids.append(p.json()["provider_payment_id"])
    assert admin.post(f"{path}/payments/A/refunds", json={"key": "R1", "amount_minor": 1000}).status_code == 201
    r = admin.post(f"{path}/payments/B/refunds", json={"key": "R1", "amount_minor": 2000})
    assert r.status_code == 201 and r.json()["payment"]["refunded_minor"] == 2000, r.text
    assert sorted(x["amount"] for x in fakes.keyed.stripe_refunds) == [1000, 2000]

    other_tenant = "fed-" + secrets.token_hex(4)
    key = hub.api_keys.issue(tenant_id=other_tenant, scopes=[Scope.integrations_admin], name="other")
    other = ApiClient(api, key.secret, other_tenant)
    other_path = active_gateway(other, fakes, "stripe")
    mine = admin.post(f"{path}/payments", json={"key": "P1", "amount_minor": 700, "currency": "SEK", "description": "x"})
    theirs = other.post(
        f"{other_path}/payments", json={"key": "P1", "amount_minor": 700, "currency": "SEK", "description": "x"}
    )
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["provider_payment_id"] != theirs.json()["provider_payment_id"]
    keys = set(fakes.keyed.stripe_idempotency)
    assert len(keys) == 6 and all(len(k) <= 64 for k in keys), keys  # 4 payments, 2 refunds
