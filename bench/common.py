"""Shared set-up for benchmarks: a hub on a fresh table prefix, p50 helpers."""

from __future__ import annotations

import itertools
import statistics
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from devfakes.fortnox import FortnoxFake
from devfakes.settings import make_settings
from integrations.documents.document import AccountingIntegration, IntegrationDocument, of_family
from integrations.documents.ref import IntegrationRef
from integrations.wiring import Hub, build_hub, set_hub

Client = TypeVar("Client")


def fresh_hub(conn: str, **overrides: object) -> Hub:
    hub = build_hub(make_settings(conn, **overrides))
    set_hub(hub)
    return hub


def p50_ms(fn: Callable[[], object], *, n: int, warmup: int = 20) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def interleaved_p50(a: Callable[[], object], b: Callable[[], object], *, n: int, rounds: int = 5) -> tuple[float, float]:
    """Alternate rounds of a and b so machine noise hits both alike; p50 of all samples of each."""
    sa: list[float] = []
    sb: list[float] = []
    for fn in (a, b):
        for _ in range(20):
            fn()
    for _ in range(rounds):
        for fn, out in ((a, sa), (b, sb)):
            for _ in range(n // rounds):
                t = time.perf_counter()
                fn()
                out.append((time.perf_counter() - t) * 1000)
    return statistics.median(sa), statistics.median(sb)


def integration_with(hub: Hub, tenant: str, body: dict[str, Any], secrets: Mapping[str, str]) -> IntegrationDocument:
    """Created through the service as the API creates it, each secret stored and referenced: the stored document."""
    from integrations.service import create_integration, set_credential_ref

    doc = create_integration(tenant, body, repo=hub.integrations, actor="bench", now=hub.now).document
    for slot, value in secrets.items():
        stored = hub.credentials.put(doc.ref, slot, value, actor="bench")
        set_credential_ref(doc.ref, slot, stored.ref, repo=hub.integrations, actor="bench", now=hub.now)
    return hub.integrations.get(doc.ref).document


def activated(hub: Hub, ref: IntegrationRef) -> None:
    """Validated against the provider (its fake) and active, as the API's two steps make it."""
    from integrations.documents.lifecycle import Transition
    from integrations.service import transition_integration
    from integrations.validation import validate_integration

    validate_integration(ref, repo=hub.integrations, validator=hub.validator, actor="bench", now=hub.now)
    transition_integration(ref, Transition.activate, repo=hub.integrations, if_match=None, actor="bench", now=hub.now)


def connected_fortnox(hub: Hub, fake: FortnoxFake, tenant: str) -> AccountingIntegration:
    """A Fortnox integration connected through the OAuth code exchange against the fake (no browser)."""
    from devfakes.documents import fortnox
    from integrations.credentials import secret_name
    from integrations.service import set_credential_ref

    body = fortnox(tenant, oauth_client_id=fake.client_id, credentials={})
    doc = integration_with(hub, tenant, body, {"oauth_client_secret_ref": fake.client_secret})
    redirect = hub.oauth._redirect_uri  # noqa: SLF001 - the bench plays the browser
    code = fake.issue_code(["companyinformation", "invoice"], redirect)
    data = hub.tokens.exchange(
        hub.provider_app(doc),
        fake.client_secret,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect},
        provider="fortnox",
    )
    hub.tokens.publish(doc, data, rotates=True, reason="grant")
    set_credential_ref(
        doc.ref,
        "oauth_refresh_token_ref",
        f"kv:{secret_name(doc.ref, 'oauth_refresh_token_ref')}",
        repo=hub.integrations,
        actor="bench",
        now=hub.now,
    )
    return of_family(hub.integrations.get(doc.ref).document, AccountingIntegration)


def alternating_medians(a: Callable[[], object], b: Callable[[], object], *, rounds: int) -> tuple[float, float]:
    """Seconds: the median of `rounds` single runs of each, alternating, for slow whole-walk benchmarks."""
    sa: list[float] = []
    sb: list[float] = []
    for _ in range(rounds):
        for fn, out in ((a, sa), (b, sb)):
            t = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t)
    return statistics.median(sa), statistics.median(sb)


def concurrent(
    call: Callable[[Client, int], object], make_client: Callable[[], Client], seconds: float, *, clients: int
) -> tuple[float, float]:
    """(calls per second, p99 ms) of `clients` threads, each with its own client, calling as fast as they are
    answered for `seconds`; `call` gets a number unique across the threads (a fresh key per call)."""
    counter, latencies, lock = itertools.count(), [], threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        mine, session = [], make_client()
        while time.monotonic() < stop:
            n = next(counter)
            t = time.perf_counter()
            call(session, n)
            mine.append((time.perf_counter() - t) * 1000)
        with lock:
            latencies.extend(mine)

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies) / (time.monotonic() - started), statistics.quantiles(latencies, n=100)[98]


def row(
    bench: str, baseline: str, measured: str, ratio: float | str, target: str, notes: str = "", *, digits: int = 3
) -> dict[str, object]:
    """One line of the README's benchmark table (`ratio`: measured over baseline, or "—" for an absolute target)."""
    shown = round(ratio, digits) if isinstance(ratio, float | int) else ratio
    return {"bench": bench, "baseline": baseline, "measured": measured, "ratio": shown, "target": target, "notes": notes}
