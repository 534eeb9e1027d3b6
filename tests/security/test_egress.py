"""One egress policy for every outbound call (review finding 4). A loopback listener stands for what a tenant
must never reach (the hub itself, Azurite, metadata, a private network): each test proves no request arrived.
On `main` every one of these URLs was called, with the tenant's credential."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from integrations.wiring import Hub
from shared.egress import EgressPolicy, refusal
from shared.errors import ProviderError
from shared.http import Call, OutboundClient, Policy
from tests.helpers import ApiClient, every_family, loopback, serve
from tests.setups import espo

FORBIDDEN = [
    "127.0.0.1",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "240.0.0.1",
    "::1",
    "fd00::1",
    "fe80::1",
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",
    "64:ff9b:1::a9fe:a9fe",
    "2002:a9fe:a9fe::1",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",
]


@contextlib.contextmanager
def listener() -> Iterator[tuple[str, list[str]]]:
    """A server recording every request that reaches it."""
    hits: list[str] = []

    async def anything(request: Request) -> Response:
        hits.append(f"{request.method} {request.url.path} {dict(request.headers)}")
        return JSONResponse({"ok": True, "echo": dict(request.headers)})

    app = Starlette(routes=[Route("/{path:path}", anything, methods=["GET", "POST", "PUT"])])
    with serve(app) as base:
        yield base, hits


@pytest.mark.parametrize("address", FORBIDDEN)
def test_every_non_public_form_is_refused(address: str) -> None:
    assert refusal(address) is not None
    assert refusal("93.184.216.34") is None and refusal("2606:2800:220:1:248:1893:25c8:1946") is None


def test_numeric_spellings_are_checked_by_where_they_lead() -> None:
    with listener() as (base, hits):
        port = base.rsplit(":", 1)[1]
        client = OutboundClient(egress=EgressPolicy(https_only=False), sleep=lambda s: None)
        for host in ("127.0.0.1", "2130706433", "0177.0.0.1", "127.1", "0.0.0.0", "[::ffff:127.0.0.1]", "localhost"):
            with pytest.raises(ProviderError) as err:
                client.send(Call("GET", f"http://{host}:{port}/x", headers={"X-Api-Key": "k"}), Policy("p", max_attempts=1))
            assert "refused" in err.value.detail or "not allowed" in err.value.detail, (host, err.value.detail)
        assert hits == []


def test_dns_answering_a_private_address_is_refused_at_connect() -> None:
    with listener() as (base, hits):
        port = int(base.rsplit(":", 1)[1])
        answers = {"crm.example.org": ["93.184.216.34"]}  # public when saved…
        policy = EgressPolicy(https_only=False, resolve=lambda host, _: answers[host])
        assert policy.check_url(f"http://crm.example.org:{port}/") == f"http://crm.example.org:{port}/"
        answers["crm.example.org"] = ["93.184.216.34", "127.0.0.1"]  # …rebound by the time it is called
        client = OutboundClient(egress=policy, sleep=lambda s: None)
        with pytest.raises(ProviderError):
            client.send(Call("GET", f"http://crm.example.org:{port}/api"), Policy("p", max_attempts=1))
        assert hits == []


def test_redirects_never_leave_the_origin() -> None:
    async def hop(request: Request) -> Response:
        return RedirectResponse(request.query_params["to"], status_code=302)

    async def home(request: Request) -> Response:
        return JSONResponse({"here": True})

    with listener() as (elsewhere, hits), serve(Starlette(routes=[Route("/hop", hop), Route("/home", home)])) as allowed:
        client = OutboundClient(egress=loopback(allowed, elsewhere), sleep=lambda s: None)
        same = client.send(Call("GET", f"{allowed}/hop", params={"to": f"{allowed}/home"}), Policy("p"))
        assert same.status_code == 200 and same.json() == {"here": True}
        with pytest.raises(ProviderError) as err:  # another origin, even one the policy would allow: never followed
            client.send(Call("GET", f"{allowed}/hop?to={elsewhere}/steal", headers={"X-Api-Key": "k"}), Policy("p"))
        assert "redirected to another origin" in err.value.detail
        assert hits == []


@pytest.mark.parametrize(
    ("provider", "field", "url"),
    [
        ("espocrm", "instance_url", "http://127.0.0.1:{port}"),
        ("espocrm", "instance_url", "http://2130706433:{port}"),
        ("espocrm", "instance_url", "http://[::ffff:169.254.169.254]/"),
        ("espocrm", "instance_url", "http://10.0.0.1/"),
        ("espocrm", "instance_url", "http://user:pw@crm.example.org/"),
        ("dynamics365", "instance_url", "https://crm.example.org"),  # not one of Dataverse's domains
        ("kobo", "server_url", "http://0177.0.0.1:{port}"),
        ("kobo", "server_url", "https://kobo.attacker.example"),  # not a public Kobo server (operator adds own)
        ("cornerstone", "portal_url", "http://169.254.169.254/latest/meta-data"),
        ("ical", "ics_url", "https://127.1:{port}/feed.ics"),
        ("youtube", "rtmp_url", "rtmps://10.1.2.3/live2"),
    ],
)
def test_every_tenant_url_field_is_checked_at_save(admin: ApiClient, provider: str, field: str, url: str) -> None:
    with listener() as (base, hits):
        port = base.rsplit(":", 1)[1]
        if provider == "espocrm":
            body = espo(admin.tenant, "")
        else:
            body = next(b for b in every_family(admin.tenant) if b["provider"] == provider)
        body["config"][field] = url.format(port=port)
        r = admin.post(admin.integrations, json=body)
        assert r.status_code == 422, r.text
        assert any(e["pointer"] == f"/config/{field}" for e in r.json()["errors"]), r.text
        assert hits == []


def test_validate_never_sends_the_key_to_a_rebound_host(admin: ApiClient, hub: Hub) -> None:
    """Saved while public, rebound to loopback before `:validate`: refused at connect, the key stays home."""
    with listener() as (base, hits):
        port = int(base.rsplit(":", 1)[1])
        answers = {"crm.example.org": ["93.184.216.34"]}
        hub.outbound = OutboundClient(egress=EgressPolicy(https_only=False, resolve=lambda host, _: answers[host]))
        doc = admin.create(espo(admin.tenant, f"http://crm.example.org:{port}"))
        path = f"{admin.integrations}/{doc['id']}"
        assert admin.request("PUT", f"{path}/credentials/api_key_ref", json={"value": "espo-key-123"}).ok
        answers["crm.example.org"] = ["127.0.0.1"]
        r = admin.post(f"{path}:validate")
        assert r.status_code == 200 and r.json()["result"]["passed"] is False, r.text
        assert "refused" in r.text or "not allowed" in r.text
        assert hits == []


def test_loopback_exceptions_are_refused_in_production() -> None:
    from shared.settings import Settings

    with pytest.raises(ValueError, match="EGRESS"):
        Settings(  # type: ignore[call-arg]
            environment="production",
            local_secret_key="k" * 44,
            api_key_pepper="p",
            state_signing_key="s",
            egress_allow_origins=["127.0.0.1:8080"],
        )
    assert (
        Settings(
            environment="production",
            local_secret_key="k",
            api_key_pepper="p",  # type: ignore[call-arg]
            state_signing_key="s",
        )
        .egress_policy()
        .https_only
    )
