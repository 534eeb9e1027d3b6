"""Test helpers: an API client and document builders (the loopback servers and fakes live in `devfakes/`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from azure.core.pipeline.transport import RequestsTransport

from devfakes.documents import fortnox, ref  # noqa: F401 - re-exported for the tests
from devfakes.servers import free_port, loopback, serve  # noqa: F401 - re-exported for the tests
from integrations.documents.ref import IntegrationRef
from tools.runner import QueueSettings

PUBLIC_BASE = "https://hub.test"  # the hub's public URL in tests; redirects to it are followed by hand


class ApiClient:
    """requests against the hub, with a key and a tenant baked in."""

    def __init__(self, base_url: str, key: str | None, tenant: str) -> None:
        self.base_url = base_url
        self.tenant = tenant
        self.session = requests.Session()
        if key:
            self.session.headers["Authorization"] = f"Bearer {key}"

    @property
    def integrations(self) -> str:
        return f"/api/v1/tenants/{self.tenant}/integrations"

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        return self.session.request(method, self.base_url + path, timeout=30, **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.request("POST", path, **kw)

    def patch(self, path: str, body: Any, **kw: Any) -> requests.Response:
        headers = {"Content-Type": "application/merge-patch+json", **kw.pop("headers", {})}
        import json

        return self.request("PATCH", path, data=json.dumps(body), headers=headers, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, **kw)

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        r = self.post(self.integrations, json=body)
        assert r.status_code == 201, r.text
        return r.json()


def every_family(tenant: str) -> list[dict[str, Any]]:
    """One valid document per family, using every typed field at least once."""
    r = lambda n: ref(tenant, n)  # noqa: E731
    return [
        {
            "family": "payment_gateway",
            "provider": "stripe",
            "display_name": "Stripe",
            "credentials": {"api_key_ref": r("stripe-key"), "webhook_secret_ref": r("stripe-whsec")},
            "capabilities": {"payments": True, "refunds": True},
            "config": {"supported_currencies": ["sek", "EUR"], "default_currency": "SEK"},
        },
        {
            "family": "payment_gateway",
            "provider": "swish",
            "display_name": "Swish",
            "credentials": {"signing_certificate_ref": r("swish-cert")},
            "config": {"supported_currencies": ["SEK"], "default_currency": "SEK", "merchant_id": "1231181189"},
        },
        {
            "family": "calendar",
            "provider": "google_calendar",
            "display_name": "Google",
            "credentials": {"oauth_refresh_token_ref": r("gcal-refresh"), "oauth_client_secret_ref": r("gcal-secret")},
            "config": {"sync_direction": "bidirectional", "calendar_id": "primary", "event_type_filter": ["tournament"]},
        },
        {
            "family": "calendar",
            "provider": "ical",
            "display_name": "Club feed",
            "config": {"sync_direction": "pull", "ics_url": "https://club.example.org/feed.ics"},
        },
        {
            "family": "social_media",
            "provider": "facebook",
            "display_name": "FB",
            "capabilities": {"publish": True, "analytics": True, "moderation": True, "auto_publish_events": True},
            "config": {
                "accounts": [
                    {"account_id": "1234", "name": "Petanque SE", "kind": "page", "access_token_ref": r("fb-page-1234")}
                ]
            },
        },
        {
            "family": "streaming",
            "provider": "youtube",
            "display_name": "YT",
            "credentials": {"api_key_ref": r("yt-key"), "stream_key_ref": r("yt-stream")},
            "capabilities": {"dvr": True, "chat": True, "auto_record": True},
            "config": {"channel_id": "UC123", "rtmp_url": "rtmps://a.rtmp.youtube.com/live2"},
        },
        {
            "family": "mapping",
            "provider": "mapbox",
            "display_name": "Maps",
            "credentials": {"api_key_ref": r("mapbox-token")},
            "capabilities": {"geocoding": True, "directions": True, "static_maps": True, "places_search": True},
            "config": {"domain_allowlist": ["www.petanque.se", "*.petanque.se"], "monthly_usage_budget": 100000},
        },
        {
            "family": "wada_adams",
            "provider": "adams",
            "display_name": "ADAMS",
            "credentials": {"api_key_ref": r("adams-key"), "signing_key_ref": r("adams-signing")},
            "capabilities": {
                "whereabouts_sync": True,
                "tue_management": True,
                "test_result_tracking": True,
                "notification_relay": True,
            },
            "config": {"organization_code": "sweada", "sport_codes": ["BOULES"], "athlete_pool_ids": ["RTP-1"]},
        },
        {
            "family": "insurance",
            "provider": "signed_rest",
            "display_name": "Insurer",
            "credentials": {"signing_key_ref": r("ins-signing")},
            "capabilities": {
                "auto_enrollment": True,
                "claims_submission": True,
                "premium_calculation": True,
                "certificate_generation": True,
            },
            "config": {"broker_id": "BRK-7", "policy_group_ids": ["PG-1"], "coverage_types": ["accident", "liability"]},
        },
        {
            "family": "gov_sports_registry",
            "provider": "signed_rest",
            "display_name": "Registry",
            "credentials": {"signing_certificate_ref": r("reg-cert"), "signing_key_ref": r("reg-key")},
            "capabilities": {
                "membership_reporting": True,
                "grant_applications": True,
                "facility_registration": True,
                "event_reporting": True,
                "compliance_tracking": True,
            },
            "config": {"country_code": "se", "federation_code": "SBF", "reporting_schedule": "0 0 3 1 * *"},
        },
        fortnox(tenant),
        {
            "family": "accounting",
            "provider": "xledger",
            "display_name": "Xledger",
            "credentials": {"api_key_ref": r("xledger-token")},
            "capabilities": {"invoice_sync": False, "reimbursement_export": True, "vat_reporting": True},
            "config": {"fiscal_year": {"year": 2026, "start_month": 7}, "company_id": "ENT-1", "default_vat_code": "MP1"},
        },
        {
            "family": "crm",
            "provider": "dynamics365",
            "display_name": "HLF portal",
            "oauth_client_id": "11111111-2222-3333-4444-555555555555",
            "credentials": {"oauth_client_secret_ref": r("d365-secret")},
            "capabilities": {"order_sync": True, "course_completion": True},
            "config": {
                "instance_url": "https://hlf.crm4.dynamics.com",
                "member_object": "contact",
                "member_field_map": {"first_name": "firstname", "last_name": "lastname"},
                "event_tag_field": "hlf_events",
                "course_tag_field": "hlf_courses",
                "order_object": "salesorder",
                "order_field_map": {"total": "totalamount"},
            },
        },
        {"family": "lms", "provider": "cornerstone", "display_name": "Cornerstone", "config": {}},
        {
            "family": "messaging",
            "provider": "twilio",
            "display_name": "SMS",
            "credentials": {"api_key_ref": r("twilio-token")},
            "config": {"account_sid": "AC" + "0" * 32, "default_sender": "+46701234567"},
        },
        {
            "family": "data_collection",
            "provider": "kobo",
            "display_name": "Kobo",
            "credentials": {"api_key_ref": r("kobo-token")},
            "config": {"server_url": "https://eu.kobotoolbox.org", "asset_uids": ["aBcDeFgHiJkLmN"]},
        },
    ]


def connect_fortnox(admin: ApiClient, fake: Any, *, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Fortnox story's set-up: draft → client secret → OAuth (the fake consents) → document with refs."""
    doc = admin.create(body or fortnox(admin.tenant, oauth_client_id=fake.client_id, credentials={}))
    path = f"{admin.integrations}/{doc['id']}"
    r = admin.request("PUT", f"{path}/credentials/oauth_client_secret_ref", json={"value": fake.client_secret})
    assert r.status_code == 200, r.text
    start = admin.post(f"{path}/oauth:start")
    assert start.status_code == 200, start.text
    consent = requests.get(start.json()["authorize_url"], allow_redirects=False, timeout=10)
    assert consent.status_code == 302
    callback = consent.headers["Location"].replace(PUBLIC_BASE, admin.base_url)
    done = requests.get(callback, cookies={start.json()["binding_cookie"]: start.json()["binding"]}, timeout=30)
    assert done.status_code == 200, done.text
    return admin.get(path).json()


def activate(admin: ApiClient, path: str) -> None:
    """Validate the integration's current config (it must pass) and activate it."""
    result = admin.post(f"{path}:validate").json()["result"]
    assert result["passed"], result
    assert admin.post(f"{path}:activate").status_code == 200


def connect_active(admin: ApiClient, fake: Any, body: dict[str, Any]) -> str:
    """Connected as `connect_fortnox` connects, validated against the fake and active: the integration's path."""
    path = f"{admin.integrations}/{connect_fortnox(admin, fake, body=body)['id']}"
    activate(admin, path)
    return path


def active_with_secret(admin: ApiClient, body: dict[str, Any], slot: str, value: str) -> tuple[dict[str, Any], str]:
    """Created, its one secret stored in `slot`, validated and active: (the document as created, its path)."""
    doc = admin.create(body)
    path = f"{admin.integrations}/{doc['id']}"
    r = admin.request("PUT", f"{path}/credentials/{slot}", json={"value": value})
    assert r.status_code == 200, r.text
    activate(admin, path)
    return doc, path


# Queue settings for tests: short visibility so a redelivery comes within seconds.
FAST_QUEUES = QueueSettings(batch_size=4, visibility_timeout_s=3, max_dequeue_count=5, max_polling_interval_s=0.2)


def invoices(n: int) -> list[dict[str, Any]]:
    return [
        {
            "key": f"INV-2026-{i:05d}",
            "customer_number": str(100 + i % 17),
            "invoice_date": "2026-11-25",
            "currency": "SEK",
            "lines": [
                {"category": "license_fees" if i % 3 else "tournament_fees", "description": "Licens 2026", "amount": 450.0}
            ],
        }
        for i in range(n)
    ]


def active_fortnox(admin: ApiClient, fakes: Any) -> str:
    """The Fortnox story up to the push: connected, validated, active, 142 invoices in the outbox."""
    doc = connect_fortnox(admin, fakes.fortnox)
    path = f"{admin.integrations}/{doc['id']}"
    r = admin.patch(
        path,
        {
            "config": {
                "fiscal_year": {"year": 2026},
                "chart_of_accounts": {"license_fees": "3010", "tournament_fees": "3020"},
            }
        },
    )
    assert r.status_code == 200, r.text
    assert admin.post(f"{path}:validate").json()["result"]["passed"]
    assert admin.post(f"{path}:activate").json()["status"] == "active"
    r = admin.post(f"{path}/outbox/invoices", json={"invoices": invoices(142)})
    assert r.status_code == 202 and r.json()["created"] == 142, r.text
    return doc["id"]


def mark_inflight(hub: Any, tenant: str, integration: str, *kinds: str) -> None:
    """Simulate a crash after the provider answered but before the outcome was recorded: the outbox rows of
    these kinds are inflight again (outcome unknown), through the outbox so its counts follow."""
    from integrations.sync.outbox import RecordState

    rows = hub.outbox._table.query("PartitionKey eq @pk", parameters={"pk": IntegrationRef(tenant, integration).partition})
    keys = [row["RowKey"].split("|", 1) for row in rows if row["RowKey"].split("|", 1)[0] in kinds]
    records = [hub.outbox.get(IntegrationRef(tenant, integration), kind, key) for kind, key in keys]
    hub.outbox.mark_many(IntegrationRef(tenant, integration), [(r, RecordState.inflight, None, "") for r in records])


def run_sync(admin: ApiClient, path: str, operation: str, *, timeout: float = 60) -> dict[str, Any]:
    """Trigger a sync through the API, let the registered queue function run it, return the finished run."""
    import function_app
    from tools.runner import LocalRunner

    r = admin.post(f"{path}/syncs", json={"operation": operation})
    for _ in range(5):  # a long scenario can meet the tenant's API limit: wait as told, like any client
        if r.status_code != 429:
            break
        time.sleep(float(r.headers.get("Retry-After", "1")))
        r = admin.post(f"{path}/syncs", json={"operation": operation})
    assert r.status_code == 202, r.text
    LocalRunner(function_app.app, queue_settings=FAST_QUEUES).queues["queue_sync_jobs"].drain(timeout=timeout)
    return admin.get(f"{path}/syncs/{r.json()['id']}").json()


def take_events(hub: Any, contains: str = "") -> list[dict[str, Any]]:
    """Drain the integration-events queue: the CloudEvents the syncs emitted (run results left out), those
    whose type contains `contains`."""
    import json

    client = hub.queues.client(hub.settings.queue_integration_events)
    out = []
    while batch := list(client.receive_messages(max_messages=32, visibility_timeout=30)):
        for message in batch:
            event = json.loads(message.content)
            if not event["type"].startswith("dev.integration-hub.sync.") and contains in event["type"]:
                out.append(event)
            client.delete_message(message)
    return out


def fortnox_token(fake: Any) -> str:
    """A valid access token on the Fortnox fake without going through consent."""
    from devfakes.fortnox import Grant

    code = fake.issue_code(["companyinformation"], "http://x")
    fake.codes.pop(code)
    fake.grants["g"] = Grant(["companyinformation"], "")
    return str(fake._tokens("g")["access_token"])


def together(*calls: Callable[[], object]) -> list[object]:
    """Run the calls at the same instant on their own threads; their results (or the exception raised)."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:  # the caller inspects it
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


class RecordingTransport(RequestsTransport):
    """The SDKs' real transport, keeping what each request sent (method, URL, headers, body): to hold a request
    the hub writes by hand against the one the SDK writes for the same operation."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str, dict[str, str], bytes]] = []

    def send(self, request: Any, **kwargs: Any) -> Any:
        body = request.body if isinstance(request.body, bytes) else request.content
        self.sent.append((request.method, request.url, dict(request.headers), body))
        return super().send(request, **kwargs)
