"""Escaped and encoded echoes of a secret are masked, and provider text is scrubbed before it is cut (review
finding 5). On `main` a key containing `/` echoed as `\\/` came back whole from `:validate`."""

from __future__ import annotations

import base64
import json
import logging
from urllib.parse import quote, quote_plus

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from integrations.wiring import Hub
from shared.errors import ProviderError
from shared.http import OutboundClient
from shared.redaction import MASK, Redactor
from tests.helpers import ApiClient, loopback, serve
from tests.setups import espo

KEY = "sk/espo&key?x#1%2\"q'z-77"  # every character that once cut a mask short


def forms(value: str) -> list[str]:
    json_escaped = json.dumps(value)[1:-1]
    raw = value.encode()
    return [
        value,
        json_escaped,
        json_escaped.replace("/", "\\/"),  # PHP json_encode
        quote(value, safe=""),
        quote_plus(value),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    ]


@pytest.mark.parametrize("form", range(7))
def test_each_echo_form_is_masked(form: int) -> None:
    redactor = Redactor()
    redactor.register(KEY)
    echoed = forms(KEY)[form]
    assert redactor.scrub(f'{{"error": "bad key {echoed}"}}') == f'{{"error": "bad key {MASK}"}}'


def test_short_secrets_are_masked_where_they_stand_alone() -> None:
    redactor = Redactor()
    redactor.register("a1b")
    assert redactor.scrub("pin a1b refused") == f"pin {MASK} refused"
    assert redactor.scrub("xa1by") == "xa1by"


def test_provider_text_is_scrubbed_before_it_is_cut() -> None:
    from shared.redaction import REDACTOR

    secret = "straddling-secret-" + "s" * 40
    REDACTOR.register(secret)
    text = "x" * 580 + secret  # a cut at 600 characters would keep a prefix no mask matches
    detail = ProviderError(detail=text, provider="p").detail
    assert secret[:20] not in detail and len(detail) <= 601


def test_access_log_query_strings_are_redacted() -> None:
    from shared.redaction import install

    install()
    record = logging.getLogger("uvicorn.access").makeRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/api/v1/oauth/callback?code=abc123def&state=eyJuIjoi.sig", "1.1", 200),
        None,
    )
    message = record.getMessage()
    assert "abc123def" not in message and "eyJuIjoi" not in message
    assert len(record.args) == 5  # uvicorn's formatter unpacks them  # type: ignore[arg-type]


def test_validate_never_returns_an_echoed_key(admin: ApiClient, hub: Hub) -> None:
    async def echo(request: Request) -> Response:
        key = request.headers.get("x-api-key", "")
        body = {
            "error": f"invalid key {key}",
            "php": json.dumps(key).replace("/", "\\/"),
            "b64": base64.b64encode(key.encode()).decode(),
        }
        return Response(json.dumps(body), status_code=401, media_type="application/json")

    with serve(Starlette(routes=[Route("/{p:path}", echo)])) as provider:
        hub.outbound = OutboundClient(egress=loopback(provider))
        doc = admin.create(espo(admin.tenant, provider))
        path = f"{admin.integrations}/{doc['id']}"
        assert admin.request("PUT", f"{path}/credentials/api_key_ref", json={"value": KEY}).ok
        seen = [admin.post(f"{path}:validate").text, admin.get(path).text, admin.get(f"{path}/status").text]
    haystack = "\n".join(seen)
    assert "invalid key" in haystack  # the provider's words are kept…
    for form in forms(KEY):
        assert form not in haystack, form  # …never the key, in any spelling
