"""Credentials end to end against the Fortnox fake: OAuth flow, refresh under contention, rotation,
needs_reauth, state tampering, and the planted-secret sweep over responses, logs and audit rows."""

from __future__ import annotations

import json
import logging
import multiprocessing
from typing import Any

import pytest
import requests

from devfakes.launcher import Fakes
from integrations.documents.ref import IntegrationRef
from integrations.wiring import Hub, build_hub
from shared.settings import Settings
from tests.helpers import ApiClient, connect_fortnox, together


def _doc(hub: Hub, admin: ApiClient, doc_id: str) -> Any:
    return hub.integrations.get(IntegrationRef(admin.tenant, doc_id)).document


def test_oauth_flow_stores_only_refs_and_validates_green(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    doc = connect_fortnox(admin, fakes.fortnox)
    refs = doc["credentials"]
    assert refs["oauth_refresh_token_ref"] == f"kv:{admin.tenant}--{doc['id'].replace('_', '-')}--oauth-refresh-token"
    assert refs["oauth_client_secret_ref"].startswith(f"kv:{admin.tenant}--")
    assert set(doc["grant"]["scopes"]) >= {"invoice", "companyinformation"}
    path = f"{admin.integrations}/{doc['id']}"
    result = admin.post(f"{path}:validate").json()["result"]
    assert result["passed"] is True and result["kind"] == "provider", result
    assert {c["name"] for c in result["checks"]} >= {"provider.authenticate", "provider.scopes"}
    assert admin.post(f"{path}:activate").json()["status"] == "active"
    grant_refresh = next(iter(fakes.fortnox.grants.values())).refresh_token
    assert hub.credentials.store.get(refs["oauth_refresh_token_ref"][3:]) == grant_refresh


def test_validation_is_precise_when_red(admin: ApiClient, fakes: Fakes) -> None:
    doc = connect_fortnox(admin, fakes.fortnox)
    path = f"{admin.integrations}/{doc['id']}"
    # a capability whose scope was not granted → named in the result
    admin.patch(path, {"capabilities": {"payment_sync": True}})
    result = admin.post(f"{path}:validate").json()["result"]
    assert result["passed"] is False
    assert any(c["name"] == "provider.scopes" and "payment" in c["detail"] for c in result["checks"]), result
    # a wrong client secret → the provider's 401 at the token endpoint, reported, not a 500
    admin.request("PUT", f"{path}/credentials/oauth_client_secret_ref", json={"value": "wrong-secret-123"})
    fakes.fortnox.expire_access_tokens()
    r = admin.post(f"{path}:validate")
    assert r.status_code == 200
    failed = [c for c in r.json()["result"]["checks"] if not c["passed"]]
    assert failed and "401" in failed[0]["detail"]


def test_sixteen_concurrent_callers_cause_one_refresh(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    doc = _doc(hub, admin, connect_fortnox(admin, fakes.fortnox)["id"])
    fakes.fortnox.expire_access_tokens()
    hub.tokens.invalidate(doc)
    before = fakes.fortnox.token_calls.count("refresh_token")
    tokens = together(*[lambda: hub.tokens.access_token(doc, operation="test").token] * 16)
    assert fakes.fortnox.token_calls.count("refresh_token") - before == 1
    assert len(tokens) == 16 and len(set(tokens)) == 1
    # the rotated refresh token was persisted: the stored ref resolves to the grant's current one
    name = doc.credentials.oauth_refresh_token_ref[3:]
    assert hub.credentials.store.get(name) == next(iter(fakes.fortnox.grants.values())).refresh_token


def _refresh_in_child(settings_json: str, tenant: str, doc_id: str, out: Any) -> None:
    hub = build_hub(Settings.model_validate_json(settings_json))
    doc = hub.integrations.get(IntegrationRef(tenant, doc_id)).document
    out.put(together(*[lambda: hub.tokens.access_token(doc, operation="test").token] * 8))


def test_two_processes_share_one_refresh(admin: ApiClient, fakes: Fakes, hub: Hub, settings: Settings) -> None:
    doc = _doc(hub, admin, connect_fortnox(admin, fakes.fortnox)["id"])
    fakes.fortnox.expire_access_tokens()
    hub.tokens.invalidate(doc)
    before = fakes.fortnox.token_calls.count("refresh_token")
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_refresh_in_child, args=(settings.model_dump_json(), admin.tenant, doc.id, out)) for _ in range(2)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert fakes.fortnox.token_calls.count("refresh_token") - before == 1
    assert len({t for r in results for t in r}) == 1 and sum(len(r) for r in results) == 16


def test_crash_between_exchange_and_store_ends_in_needs_reauth(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    doc_json = connect_fortnox(admin, fakes.fortnox)
    path = f"{admin.integrations}/{doc_json['id']}"
    assert admin.post(f"{path}:validate").json()["result"]["passed"]
    doc = _doc(hub, admin, doc_json["id"])
    fakes.fortnox.expire_access_tokens()
    hub.tokens.invalidate(doc)

    real_put = hub.credentials.put

    def crash_on_refresh_token(ref: IntegrationRef, slot: str, value: str, **kw: Any) -> Any:
        if slot == "oauth_refresh_token_ref":
            raise RuntimeError("worker died after the exchange")
        return real_put(ref, slot, value, **kw)

    hub.credentials.put = crash_on_refresh_token  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        hub.tokens.access_token(doc, operation="test")
    hub.credentials.put = real_put  # type: ignore[method-assign]
    calls = fakes.fortnox.token_calls.count("refresh_token")
    # the next refresh presents the spent token: Fortnox revokes the grant; we stop and say so
    from integrations.tokens import NeedsReauth

    with pytest.raises(NeedsReauth):
        hub.tokens.access_token(doc, operation="test")
    assert fakes.fortnox.token_calls.count("refresh_token") == calls + 1  # no retry loop
    current = admin.get(path).json()
    assert [c["type"] for c in current["conditions"]] == ["needs_reauth"]
    assert admin.post(f"{path}:activate").json()["reason"] == "needs_reauth"
    events = admin.get(f"/api/v1/tenants/{admin.tenant}/audit", params={"action": "oauth.refresh"}).json()["items"]
    assert events[0]["outcome"] == "invalid_grant"


@pytest.mark.parametrize("attack", ["tampered", "expired", "replayed", "garbage", "unbound", "other_browser"])
def test_oauth_state_attacks(admin: ApiClient, fakes: Fakes, hub: Hub, attack: str) -> None:
    doc = admin.create(
        {
            **__import__("tests.helpers", fromlist=["fortnox"]).fortnox(admin.tenant),
            "oauth_client_id": fakes.fortnox.client_id,
        }
    )
    path = f"{admin.integrations}/{doc['id']}"
    admin.request("PUT", f"{path}/credentials/oauth_client_secret_ref", json={"value": fakes.fortnox.client_secret})
    started = admin.post(f"{path}/oauth:start").json()
    jar = {started["binding_cookie"]: started["binding"]}  # what the starter's browser holds
    location = requests.get(started["authorize_url"], allow_redirects=False, timeout=10).headers["Location"]
    from urllib.parse import parse_qs, urlparse

    q = {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}
    state = q["state"]
    if attack == "tampered":
        import base64

        body, sig = state.split(".")
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        claims["t"] = "other-tenant"
        state = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=") + "." + sig
    elif attack == "expired":
        import time

        real = time.time
        try:
            time.time = lambda: real() + 3600  # type: ignore[assignment]
            r = admin.get("/api/v1/oauth/callback", params={"code": q["code"], "state": state}, cookies=jar)
        finally:
            time.time = real  # type: ignore[assignment]
        assert r.status_code == 400 and "expired" in r.json()["detail"]
        return
    elif attack == "replayed":
        ok = admin.get("/api/v1/oauth/callback", params={"code": q["code"], "state": state}, cookies=jar)
        assert ok.status_code == 200, ok.text
    elif attack == "garbage":
        state = "not-a-state"
    elif attack in ("unbound", "other_browser"):
        # Consent injection: the victim's state arrives from a browser that did not start the flow.
        jar = {} if attack == "unbound" else {started["binding_cookie"]: "someone-elses-binding"}
    r = admin.get("/api/v1/oauth/callback", params={"code": q["code"], "state": state}, cookies=jar)
    assert r.status_code == 400, r.text
    assert r.headers["Content-Type"].startswith("application/problem+json")


PLANTED = "planted-Secret-Value-7f3a9c1e5b"


def test_planted_secret_never_leaks(admin: ApiClient, fakes: Fakes, hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level
    fake = fakes.fortnox
    fake.client_secret = PLANTED
    seen: list[str] = []
    doc = admin.create(
        {
            **__import__("tests.helpers", fromlist=["fortnox"]).fortnox(admin.tenant),
            "oauth_client_id": fake.client_id,
            "credentials": {},
        }
    )
    path = f"{admin.integrations}/{doc['id']}"
    for r in [admin.request("PUT", f"{path}/credentials/oauth_client_secret_ref", json={"value": PLANTED})]:
        seen.append(r.text + json.dumps(dict(r.headers)))
    start = admin.post(f"{path}/oauth:start")
    consent = requests.get(start.json()["authorize_url"], allow_redirects=False, timeout=10)
    done = requests.get(
        consent.headers["Location"].replace("https://hub.test", admin.base_url),
        cookies={start.json()["binding_cookie"]: start.json()["binding"]},
        timeout=30,
    )
    seen += [start.text, done.text]
    refresh_token = hub.credentials.store.get(done.json()["oauth_refresh_token_ref"][3:])
    for r in [
        admin.post(f"{path}:validate"),
        admin.get(path),
        admin.get(admin.integrations),
        admin.request("PUT", f"{path}/credentials/oauth_client_secret_ref", json={"value": PLANTED + "x"}),
        admin.post(admin.integrations, json={"family": "accounting", "client_secret": PLANTED}),
        admin.get(f"/api/v1/tenants/{admin.tenant}/audit", params={"limit": 200}),
    ]:
        seen.append(r.text + json.dumps(dict(r.headers)))
    fake.expire_access_tokens()
    hub.tokens.invalidate(hub.integrations.get(IntegrationRef(admin.tenant, doc["id"])).document)
    admin.post(f"{path}:validate")  # a refresh with Basic auth carrying the planted secret
    logging.getLogger("probe").info("client secret is %s, Authorization: Bearer %s", PLANTED, refresh_token)
    audit_rows = list(hub.tables.table("audit").query(f"PartitionKey eq '{admin.tenant}'"))
    assert audit_rows
    haystacks = {
        "responses": "\n".join(seen),
        "logs": "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records),
        "audit": json.dumps(audit_rows, default=str),
    }
    for where, text in haystacks.items():
        for secret in (PLANTED, refresh_token):
            assert secret not in text, f"secret leaked into {where}"
    assert "[REDACTED]" in haystacks["logs"]


def test_refresh_refused_by_the_provider_is_a_502_problem(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    doc = connect_fortnox(admin, fakes.fortnox)
    path = f"{admin.integrations}/{doc['id']}"
    assert admin.post(f"{path}/oauth:refresh").status_code == 200
    admin.request("PUT", f"{path}/credentials/oauth_client_secret_ref", json={"value": "wrong-client-secret"})
    r = admin.post(f"{path}/oauth:refresh")
    assert r.status_code == 502 and r.headers["Content-Type"].startswith("application/problem+json")
    assert "wrong-client-secret" not in r.text and "fortnox" in r.json()["detail"]


def test_a_short_lived_token_is_refreshed_once_per_lifetime_not_per_call(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    """Tokens living 20 s (under the 60 s margin): 30 calls within a few seconds use one token. With a fixed 60 s
    margin every call refreshed."""
    from integrations.tokens import AccessToken

    assert AccessToken("t", 1030.0, (), 1000.0).fresh(now=1020.0)  # 30 s token, 7.5 s margin
    assert not AccessToken("t", 1030.0, (), 1000.0).fresh(now=1023.0)
    assert AccessToken("t", 5000.0, (), 1400.0).fresh(now=4930.0) and not AccessToken("t", 5000.0, (), 1400.0).fresh(4941.0)
    doc = _doc(hub, admin, connect_fortnox(admin, fakes.fortnox)["id"])
    fakes.fortnox.token_ttl_s = 20.0
    fakes.fortnox.expire_access_tokens()
    hub.tokens.invalidate(doc)
    before = fakes.fortnox.token_calls.count("refresh_token")
    tokens = {hub.tokens.access_token(doc, operation="test").token for _ in range(30)}
    assert fakes.fortnox.token_calls.count("refresh_token") - before == 1 and len(tokens) == 1


def test_a_second_instance_uses_the_token_the_first_refreshed(
    admin: ApiClient, fakes: Fakes, hub: Hub, settings: Settings
) -> None:
    """Two instances, 2 s tokens: the second one read the shared token early (and cached it); when it next finds
    its token stale, the first has already refreshed. Under the lease the shared copy is read from the store, so
    the provider sees one refresh per lifetime, not one per instance (with the cached copy: two)."""
    import time

    other = build_hub(settings)
    doc = _doc(hub, admin, connect_fortnox(admin, fakes.fortnox)["id"])
    fakes.fortnox.token_ttl_s = 2.0
    fakes.fortnox.expire_access_tokens()
    hub.tokens.invalidate(doc)
    first = hub.tokens.access_token(doc, operation="test")
    assert other.tokens.access_token(doc, operation="test") == first  # read from the shared copy
    before = fakes.fortnox.token_calls.count("refresh_token")
    time.sleep(max(0.0, first.expires_at - time.time() - 0.4))  # inside the refresh margin (0.5 s)
    second = hub.tokens.access_token(doc, operation="test")
    assert second != first
    assert other.tokens.access_token(doc, operation="test") == second
    assert fakes.fortnox.token_calls.count("refresh_token") - before == 1


def test_refresh_policy_reads_the_catalog() -> None:
    """The catalog's auth facts, executed: default lifetime, rotation, and where a cached refresh token may be dead."""
    from adapters.catalog import load
    from integrations.tokens import RefreshPolicy

    catalog = load()
    fortnox = RefreshPolicy.of(catalog.get("fortnox").auth, cache_ttl_s=60)
    xero = RefreshPolicy.of(catalog.get("xero").auth, cache_ttl_s=60)
    paypal = RefreshPolicy.of(catalog.get("paypal").auth, cache_ttl_s=60)
    assert (fortnox.default_ttl_s, fortnox.rotates, fortnox.read_fresh) == (3600, True, True)  # single-use
    assert (xero.default_ttl_s, xero.rotates, xero.read_fresh) == (1800, True, False)  # 30 min grace
    assert RefreshPolicy.of(catalog.get("xero").auth, cache_ttl_s=3600).read_fresh  # a cache outliving the grace
    assert (paypal.default_ttl_s, paypal.rotates, paypal.read_fresh) == (32400, False, False)
