"""Starts the fake providers on loopback (tests and `./hub run`) and says where they are."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from devfakes.adams import AdamsFake
from devfakes.calendars import CalendarFake, GoogleCalendarFake, GraphCalendarFake
from devfakes.calendars import urls as calendar_urls
from devfakes.entra_dataverse import EntraDataverseFake
from devfakes.fortnox import FortnoxFake
from devfakes.ical import ICalFake
from devfakes.insurer import InsurerFake
from devfakes.keyed import KeyedFakes, keyed_urls
from devfakes.meta import MetaFake
from devfakes.oauth_accounting import OAuthAccountingFake
from devfakes.oauth_accounting import urls as accounting_urls
from devfakes.registry import RegistryFake
from devfakes.servers import serve
from devfakes.swish import SwishFake
from devfakes.tenant_endpoint import TenantEndpointFake
from devfakes.twitch import TwitchFake
from devfakes.x import XFake
from devfakes.youtube import YouTubeFake


@dataclass
class Fakes:
    fortnox: FortnoxFake
    dynamics: EntraDataverseFake
    keyed: KeyedFakes
    accounting: dict[str, OAuthAccountingFake]
    swish: SwishFake
    calendars: dict[str, CalendarFake]
    registry: RegistryFake
    provider_urls: dict[str, dict[str, str]]
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    tenant_endpoint: TenantEndpointFake = field(default_factory=TenantEndpointFake)
    ical: ICalFake = field(default_factory=ICalFake)
    insurer: InsurerFake = field(default_factory=InsurerFake)
    adams: AdamsFake = field(default_factory=AdamsFake)
    youtube: YouTubeFake = field(default_factory=lambda: YouTubeFake("youtube", "grace"))
    twitch: TwitchFake = field(default_factory=lambda: TwitchFake("twitch", "rotating"))
    facebook: MetaFake = field(default_factory=lambda: MetaFake("facebook", "grace"))
    x: XFake = field(default_factory=lambda: XFake("x", "rotating"))
    tenant_endpoint_url: str = ""  # HTTPS, certified by the test CA in `ca_bundle`

    @property
    def origins(self) -> list[str]:
        """`ip:port` of every fake: the egress policy's explicit exceptions for this run (nothing else on loopback)."""
        from urllib.parse import urlsplit

        found = {
            f"{u.hostname}:{u.port}"
            for urls in self.provider_urls.values()
            for value in urls.values()
            if value.startswith(("http://", "https://")) and (u := urlsplit(value)).port
        }
        if self.tenant_endpoint_url:
            found.add(f"127.0.0.1:{urlsplit(self.tenant_endpoint_url).port}")
        return sorted(found)

    @property
    def ca_bundle(self) -> str:
        """The test CA that certifies the HTTPS fakes (Swish, the tenant endpoint)."""
        return str(self.swish.ca_pem)

    def hub_settings(self) -> dict[str, object]:
        """What a hub needs to use these fakes: where they are, and the egress exception for exactly them."""
        return {"provider_urls": self.provider_urls, "egress_allow_origins": self.origins}

    def stop(self) -> None:
        self._stack.close()


INSURER_BROKER = "BRK-FOLKSAM-7"  # the broker id the fake insurer knows the hub's federation by


def fortnox_urls(base: str) -> dict[str, str]:
    return {"base_url": f"{base}/3", "authorize_url": f"{base}/oauth-v1/auth", "token_url": f"{base}/oauth-v1/token"}


def start_fakes(**fortnox_options: Any) -> Fakes:
    stack = contextlib.ExitStack()
    fortnox = FortnoxFake(**fortnox_options)
    base = stack.enter_context(serve(fortnox.app()))
    dynamics = EntraDataverseFake()
    d365 = stack.enter_context(serve(dynamics.app()))
    urls = {"fortnox": fortnox_urls(base), "dynamics365": {"authority_base": d365, "base_url": f"{d365}/api/data/v9.2"}}
    accounting = {}
    for name, policy in (("xero", "grace"), ("quickbooks", "rotating"), ("visma", "single_use")):
        accounting[name] = OAuthAccountingFake(name, policy)  # type: ignore[arg-type]
        urls[name] = accounting_urls(name, stack.enter_context(serve(accounting[name].app())))
    swish = SwishFake.create()
    swish_base = stack.enter_context(serve(swish.app(), **swish.ssl_options()))
    urls["swish"] = {"base_url": f"{swish_base}/swish-cpcapi/api", "ca_bundle": str(swish.ca_pem)}
    keyed = KeyedFakes()
    urls.update(keyed_urls(stack.enter_context(serve(keyed.app()))))
    calendars: dict[str, CalendarFake] = {
        "google_calendar": GoogleCalendarFake("google_calendar", "grace"),  # Google refresh tokens last
        "outlook": GraphCalendarFake("outlook", "rotating"),
    }
    for name, fake in calendars.items():
        urls[name] = calendar_urls(name, stack.enter_context(serve(fake.app())))
    registry = RegistryFake()  # Sweden's registry is configured; other countries are not (a precise red)
    urls["signed_rest"] = {"base_url.SE": f"{stack.enter_context(serve(registry.app()))}/api"}
    insurer = InsurerFake()  # one insurer, known to the hub by our broker id there
    urls["signed_rest"][f"insurer.{INSURER_BROKER}"] = f"{stack.enter_context(serve(insurer.app()))}/api"
    adams = AdamsFake()
    urls["adams"] = {"base_url": f"{stack.enter_context(serve(adams.app()))}/api"}
    youtube = YouTubeFake("youtube", "grace")  # Google refresh tokens last
    yt = stack.enter_context(serve(youtube.app()))
    urls["youtube"] = {
        "authorize_url": f"{yt}/oauth/authorize",
        "token_url": f"{yt}/oauth/token",
        "base_url": f"{yt}/youtube/v3",
    }
    twitch = TwitchFake("twitch", "rotating")  # Twitch rotates refresh tokens
    tw = stack.enter_context(serve(twitch.app()))
    urls["twitch"] = {"authorize_url": f"{tw}/oauth/authorize", "token_url": f"{tw}/oauth/token", "base_url": f"{tw}/helix"}
    facebook = MetaFake("facebook", "grace")
    fb = stack.enter_context(serve(facebook.app()))
    urls["facebook"] = {
        "authorize_url": f"{fb}/oauth/authorize",
        "token_url": f"{fb}/oauth/token",
        "base_url": f"{fb}/graph",
    }
    urls["instagram"] = dict(urls["facebook"])  # one Graph: Instagram accounts are linked to the pages
    x = XFake("x", "rotating")  # X rotates refresh tokens (offline.access)
    xs = stack.enter_context(serve(x.app()))
    urls["x"] = {"authorize_url": f"{xs}/oauth/authorize", "token_url": f"{xs}/oauth/token", "base_url": f"{xs}/2"}
    fakes = Fakes(
        fortnox,
        dynamics,
        keyed,
        accounting,
        swish,
        calendars,
        registry,
        urls,
        stack,
        insurer=insurer,
        adams=adams,
        youtube=youtube,
        twitch=twitch,
        facebook=facebook,
        x=x,
    )
    tls = {"ssl_certfile": str(swish.server_cert), "ssl_keyfile": str(swish.server_key)}  # no client certificate
    fakes.tenant_endpoint_url = stack.enter_context(serve(fakes.tenant_endpoint.app(), **tls))
    # iCal feeds live at the tenant's own HTTPS address (config.ics_url): only the CA and the origin are the hub's.
    feeds = stack.enter_context(serve(fakes.ical.app(), **tls))
    urls["ical"] = {"feeds": f"{feeds}/feeds", "ca_bundle": str(swish.ca_pem)}
    return fakes
