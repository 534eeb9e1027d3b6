"""Each webhook scheme's verifier against deliveries signed by the provider's own library (stripe,
standardwebhooks, twilio) or by known-answer vectors computed outside Python (openssl dgst) for the rest; and
each of them rejecting a one-byte change, a wrong secret, a missing header and (where a timestamp is signed) a
stale or replayed-late delivery, while a rotation window accepts both secrets."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest
import standardwebhooks
import stripe
from twilio.request_validator import RequestValidator

from adapters.spec import WebhookSpec
from adapters.webhook_verifiers import Handshake, SignedDelivery, WebhookRejected, verifier_for

NOW = 1_796_000_000.0
SW_SECRET = "whsec_" + base64.b64encode(b"standard-webhooks-key-32-bytes!!").decode()


@dataclass(frozen=True)
class Case:
    name: str
    spec: WebhookSpec
    secret: str
    sign: Callable[[bytes, str, float], SignedDelivery]  # (body, secret, signed at) → delivery
    header: str  # the header whose absence must be refused
    timed: bool = False  # the signature covers a timestamp: a stale one is refused
    body: bytes = b'{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1"}}}'


def _stripe(body: bytes, secret: str, at: float) -> SignedDelivery:
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), secret, timestamp=int(at))
    return SignedDelivery({"Stripe-Signature": header}, body, NOW)


def _standard(body: bytes, secret: str, at: float) -> SignedDelivery:
    signature = standardwebhooks.Webhook(secret).sign("msg_1", datetime.fromtimestamp(at, UTC), body.decode())
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(at)), "webhook-signature": signature}
    return SignedDelivery(headers, body, NOW)


TWILIO_URL = "https://hub.example.org/api/v1/webhooks/twilio/int_1"


def _twilio(body: bytes, secret: str, at: float) -> SignedDelivery:
    params = dict(pair.split("=", 1) for pair in body.decode().split("&"))
    signature = RequestValidator(secret).compute_signature(TWILIO_URL, params)
    return SignedDelivery({"X-Twilio-Signature": signature}, body, NOW, url=TWILIO_URL)


def _hmac(header: str, prefix: str, encode: Callable[[bytes], str]) -> Callable[[bytes, str, float], SignedDelivery]:
    import hashlib
    import hmac

    def sign(body: bytes, secret: str, at: float) -> SignedDelivery:
        return SignedDelivery({header: prefix + encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())}, body, NOW)

    return sign


def _espo(body: bytes, secret: str, at: float) -> SignedDelivery:
    import hashlib
    import hmac

    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return SignedDelivery({"Signature": base64.b64encode(f"wh_1:{digest}".encode()).decode()}, body, NOW)


def _twitch(body: bytes, secret: str, at: float) -> SignedDelivery:
    import hashlib
    import hmac

    stamp = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.123456789Z")
    digest = hmac.new(secret.encode(), b"m1" + stamp.encode() + body, hashlib.sha256).hexdigest()
    headers = {
        "Twitch-Eventsub-Message-Id": "m1",
        "Twitch-Eventsub-Message-Timestamp": stamp,
        "Twitch-Eventsub-Message-Signature": "sha256=" + digest,
        "Twitch-Eventsub-Message-Type": "notification",
    }
    return SignedDelivery(headers, body, NOW)


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


CASES = [
    Case(
        "stripe",
        WebhookSpec(scheme="stripe", header="Stripe-Signature", tolerance_s=300),
        "whsec_test",
        _stripe,
        "Stripe-Signature",
        timed=True,
    ),
    Case(
        "standard_webhooks", WebhookSpec(scheme="standard_webhooks"), SW_SECRET, _standard, "webhook-signature", timed=True
    ),
    Case(
        "twilio",
        WebhookSpec(scheme="twilio", header="X-Twilio-Signature"),
        "auth-token",
        _twilio,
        "X-Twilio-Signature",
        body=b"MessageSid=SM1&MessageStatus=delivered",
    ),
    Case(
        "xero",
        WebhookSpec(scheme="hmac_sha256_base64", header="x-xero-signature"),
        "xero-key",
        _hmac("x-xero-signature", "", b64),
        "x-xero-signature",
    ),
    Case(
        "quickbooks",
        WebhookSpec(scheme="hmac_sha256_base64", header="intuit-signature"),
        "verifier-token",
        _hmac("intuit-signature", "", b64),
        "intuit-signature",
    ),
    Case(
        "meta",
        WebhookSpec(scheme="meta", header="X-Hub-Signature-256", prefix="sha256="),
        "app-secret",
        _hmac("X-Hub-Signature-256", "sha256=", bytes.hex),
        "X-Hub-Signature-256",
    ),
    Case(
        "x",
        WebhookSpec(scheme="x_crc", header="x-twitter-webhooks-signature", prefix="sha256="),
        "consumer-secret",
        _hmac("x-twitter-webhooks-signature", "sha256=", b64),
        "x-twitter-webhooks-signature",
    ),
    Case("espocrm", WebhookSpec(scheme="espocrm", header="Signature"), "espo-secret", _espo, "Signature"),
    Case(
        "twitch",
        WebhookSpec(scheme="twitch_eventsub", tolerance_s=600),
        "twitch-secret",
        _twitch,
        "Twitch-Eventsub-Message-Signature",
        timed=True,
    ),
]
BODY = CASES[0].body
IDS = [case.name for case in CASES]


def verify(case: Case, delivery: SignedDelivery, secrets: list[str]) -> Handshake | None:
    verifier = verifier_for(case.spec)
    assert verifier is not None
    return verifier.verify(delivery, secrets)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_delivery_signed_by_the_provider_verifies(case: Case) -> None:
    assert verify(case, case.sign(case.body, case.secret, NOW - 5), [case.secret]) is None


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_one_byte_change_is_rejected(case: Case) -> None:
    delivery = case.sign(case.body, case.secret, NOW - 5)
    tampered = replace(delivery, body=case.body[:-3] + bytes([case.body[-3] ^ 1]) + case.body[-2:])
    assert verify(case, delivery, [case.secret]) is None
    with pytest.raises(WebhookRejected):
        verify(case, tampered, [case.secret])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_wrong_secret_is_rejected(case: Case) -> None:
    wrong = SW_SECRET[:-8] + "AAAAAAA=" if case.name == "standard_webhooks" else case.secret + "x"
    body = case.body
    with pytest.raises(WebhookRejected):
        verify(case, case.sign(body, wrong, NOW - 5), [case.secret])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_missing_signature_header_is_rejected(case: Case) -> None:
    body = case.body
    delivery = case.sign(body, case.secret, NOW - 5)
    headers = {k: v for k, v in delivery.headers.items() if k.lower() != case.header.lower()}
    with pytest.raises(WebhookRejected, match="missing"):
        verify(case, replace(delivery, headers=headers), [case.secret])


@pytest.mark.parametrize("case", [c for c in CASES if c.timed], ids=[c.name for c in CASES if c.timed])
def test_a_stale_or_replayed_late_delivery_is_rejected(case: Case) -> None:
    tolerance = case.spec.tolerance_s or 300
    with pytest.raises(WebhookRejected, match="tolerance"):
        verify(case, case.sign(BODY, case.secret, NOW - tolerance - 5), [case.secret])
    delivery = case.sign(BODY, case.secret, NOW - 5)
    replayed_later = replace(delivery, received_at=NOW + tolerance + 60)  # a captured delivery sent again
    with pytest.raises(WebhookRejected, match="tolerance"):
        verify(case, replayed_later, [case.secret])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_rotation_window_accepts_both_secrets(case: Case) -> None:
    old, new = case.secret, (SW_SECRET[:-8] + "AAAAAAA=" if case.name == "standard_webhooks" else case.secret + "-new")
    body = case.body
    for signer in (old, new):
        assert verify(case, case.sign(body, signer, NOW - 5), [new, old]) is None
    with pytest.raises(WebhookRejected):
        verify(case, case.sign(body, old, NOW - 5), [new])  # the rotation over: the old secret is refused


def test_stripe_accepts_any_of_several_v1_signatures() -> None:
    case = CASES[0]
    header = _stripe(BODY, "whsec_new", NOW).headers["Stripe-Signature"]
    old = _stripe(BODY, case.secret, NOW).headers["Stripe-Signature"].split(",")[1]
    assert verify(case, SignedDelivery({"stripe-signature": f"{header},{old}"}, BODY, NOW), [case.secret]) is None


def test_known_answer_vectors_computed_by_openssl() -> None:
    """`printf '%s' BODY | openssl dgst -sha256 -hmac KEY` — independent of Python's hmac module."""
    xero = WebhookSpec(scheme="hmac_sha256_base64", header="x-xero-signature")
    body = b'{"events":[],"firstEventSequence":0}'
    delivery = SignedDelivery({"x-xero-signature": "cqOy8Qq8mmPfJ9fDgabt/pnq0QuW0dfIsRpj0LoyUW0="}, body, NOW)
    assert verifier_for(xero).verify(delivery, ["xero-key"]) is None  # type: ignore[union-attr]

    twitch = WebhookSpec(scheme="twitch_eventsub")
    stamp = "2026-12-03T10:00:00.123456789Z"
    headers = {
        "Twitch-Eventsub-Message-Id": "id1",
        "Twitch-Eventsub-Message-Timestamp": stamp,
        "Twitch-Eventsub-Message-Signature": "sha256=b8264132d65a362a81893845b9529e9d0d86c37bf30725086caf9cf326b3a845",
        "Twitch-Eventsub-Message-Type": "webhook_callback_verification",
    }
    at = datetime(2026, 12, 3, 10, 0, 1, tzinfo=UTC).timestamp()
    answer = verifier_for(twitch).verify(SignedDelivery(headers, b'{"challenge":"abc"}', at), ["twitch-secret"])  # type: ignore[union-attr]
    assert answer == Handshake("abc")

    espo = WebhookSpec(scheme="espocrm", header="Signature")
    signature = base64.b64encode(b"wh_9:cf043083fd79ad64326e4fbda437f4ace468a9ebaa6c6d7d8c5a96748a8eabe5").decode()
    assert (
        verifier_for(espo).verify(SignedDelivery({"Signature": signature}, b'[{"id":"c1"}]', NOW), ["espo-secret"]) is None
    )  # type: ignore[union-attr]


def test_twilio_json_bodies_are_signed_through_body_sha256() -> None:
    import hashlib

    body = b'{"MessageSid":"SM1"}'
    url = TWILIO_URL + "?bodySHA256=" + hashlib.sha256(body).hexdigest()
    signature = RequestValidator("auth-token").compute_signature(url, {})
    spec = WebhookSpec(scheme="twilio")
    delivery = SignedDelivery(
        {"X-Twilio-Signature": signature}, body, NOW, url=url, query={"bodySHA256": hashlib.sha256(body).hexdigest()}
    )
    assert verifier_for(spec).verify(delivery, ["auth-token"]) is None  # type: ignore[union-attr]
    with pytest.raises(WebhookRejected, match="bodySHA256"):
        verifier_for(spec).verify(replace(delivery, body=b'{"MessageSid":"SM2"}'), ["auth-token"])  # type: ignore[union-attr]


def test_handshakes_echo_only_for_the_hubs_own_token() -> None:
    meta = verifier_for(WebhookSpec(scheme="meta"))
    assert meta is not None
    query = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"}
    get = SignedDelivery({}, b"", NOW, method="GET", query=query)
    assert meta.verify(get, ["app-secret", "verify-me"]) == Handshake("1158201444")
    with pytest.raises(WebhookRejected):
        meta.verify(replace(get, query={**query, "hub.verify_token": "guess"}), ["app-secret", "verify-me"])

    x = verifier_for(WebhookSpec(scheme="x_crc"))
    assert x is not None
    reply = x.verify(SignedDelivery({}, b"", NOW, method="GET", query={"crc_token": "challenge"}), ["consumer-secret"])
    assert reply is not None and reply.media_type == "application/json"
    import hashlib
    import hmac

    expected = "sha256=" + b64(hmac.new(b"consumer-secret", b"challenge", hashlib.sha256).digest())
    assert json.loads(reply.body) == {"response_token": expected}

    graph = verifier_for(WebhookSpec(scheme="graph_client_state"))
    assert graph is not None
    assert graph.verify(SignedDelivery({}, b"", NOW, query={"validationToken": "Validation: Testing"}), []) == Handshake(
        "Validation: Testing"
    )
    notification = json.dumps({"value": [{"clientState": "our-state", "resource": "me/events/1"}]}).encode()
    assert graph.verify(SignedDelivery({}, notification, NOW), ["our-state"]) is None
    with pytest.raises(WebhookRejected, match="clientState"):
        graph.verify(SignedDelivery({}, notification.replace(b"our-state", b"their-state"), NOW), ["our-state"])


def test_token_schemes_compare_the_shared_token() -> None:
    google = verifier_for(WebhookSpec(scheme="google_channel", header="X-Goog-Channel-Token"))
    assert google is not None
    headers = {"X-Goog-Channel-Token": "chan-token", "X-Goog-Resource-State": "exists"}
    assert google.verify(SignedDelivery(headers, b"", NOW), ["chan-token"]) is None
    with pytest.raises(WebhookRejected):
        google.verify(SignedDelivery({**headers, "X-Goog-Channel-Token": "other"}, b"", NOW), ["chan-token"])

    kobo = verifier_for(WebhookSpec(scheme="shared_secret"))
    assert kobo is not None
    assert kobo.verify(SignedDelivery({}, b"{}", NOW, query={"token": "kobo-secret"}), ["kobo-secret"]) is None
    basic = "Basic " + base64.b64encode(b"kobo:kobo-secret").decode()
    assert kobo.verify(SignedDelivery({"Authorization": basic}, b"{}", NOW), ["kobo-secret"]) is None
    with pytest.raises(WebhookRejected):
        kobo.verify(SignedDelivery({}, b"{}", NOW), ["kobo-secret"])
    with pytest.raises(WebhookRejected):
        kobo.verify(SignedDelivery({}, b"{}", NOW, query={"token": "kobo-secreT"}), ["kobo-secret"])


def test_no_secret_configured_is_a_rejection_not_a_pass() -> None:
    for case in CASES:
        body = case.body
        with pytest.raises(WebhookRejected):
            verify(case, case.sign(body, case.secret, NOW - 5), [])


def test_every_catalog_scheme_but_none_has_a_verifier() -> None:
    from adapters.catalog import default_catalog

    for spec in default_catalog().all():
        assert (verifier_for(spec.webhook) is None) == (spec.webhook.scheme == "none"), spec.id


def test_paypal_asks_paypal_with_each_webhook_id() -> None:
    asked: list[dict[str, object]] = []

    def paypal_says(question: dict[str, object]) -> bool:
        asked.append(question)
        return question["webhook_id"] == "WH-NEW"

    verifier = verifier_for(WebhookSpec(scheme="paypal"), remote=paypal_says)
    assert verifier is not None
    headers = {
        "PAYPAL-TRANSMISSION-ID": "t-1",
        "PAYPAL-TRANSMISSION-TIME": "2026-12-03T10:00:00Z",
        "PAYPAL-TRANSMISSION-SIG": "c2ln",
        "PAYPAL-CERT-URL": "https://api-m.paypal.com/v1/notifications/certs/CERT-1",
        "PAYPAL-AUTH-ALGO": "SHA256withRSA",
    }
    delivery = SignedDelivery(headers, b'{"id": "WH-EVT-1"}', NOW)
    assert verifier.verify(delivery, ["WH-OLD", "WH-NEW"]) is None  # during a re-registration: either id
    assert asked[-1]["webhook_event"] == {"id": "WH-EVT-1"} and asked[-1]["transmission_sig"] == "c2ln"
    with pytest.raises(WebhookRejected):
        verifier.verify(delivery, ["WH-OLD"])
    with pytest.raises(WebhookRejected, match="missing"):
        verifier.verify(replace(delivery, headers={k: v for k, v in headers.items() if "SIG" not in k}), ["WH-NEW"])
    with pytest.raises(WebhookRejected, match="not reachable"):
        verifier_for(WebhookSpec(scheme="paypal")).verify(delivery, ["WH-NEW"])  # type: ignore[union-attr]
