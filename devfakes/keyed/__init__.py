"""Loopback fakes for the API-key providers, one module each, enforcing each provider's own scheme and error
shape (providers.md). `KeyedFakes` serves them all from one loopback server (one port for seven providers);
tests reach each provider's state through it (`fakes.keyed.stripe_intents`, `fakes.keyed.kobo_submit(…)`)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.applications import Starlette

from devfakes.keyed.base import GOOD
from devfakes.keyed.espocrm import EspoCrmFake
from devfakes.keyed.kobo import KoboFake
from devfakes.keyed.maps import MapsFake
from devfakes.keyed.mollie import MollieFake
from devfakes.keyed.partner import PartnerFake
from devfakes.keyed.paypal import PayPalFake
from devfakes.keyed.stripe import StripeFake
from devfakes.keyed.twilio import TwilioFake
from devfakes.keyed.xledger import XledgerFake

__all__ = ["GOOD", "KeyedFakes", "keyed_urls"]


@dataclass
class KeyedFakes(MapsFake, XledgerFake, EspoCrmFake, PartnerFake, TwilioFake, KoboFake, PayPalFake, MollieFake, StripeFake):
    def app(self) -> Starlette:
        # Specific routes before catch-alls: Stripe's and EspoCRM's `{resource}` routes come last in their lists.
        return Starlette(
            routes=[
                route
                for fake in (
                    StripeFake,
                    MollieFake,
                    PayPalFake,
                    KoboFake,
                    TwilioFake,
                    PartnerFake,
                    EspoCrmFake,
                    XledgerFake,
                    MapsFake,
                )
                for route in fake.routes(self)
            ]
        )


def keyed_urls(base: str) -> dict[str, dict[str, str]]:
    return {
        "stripe": {"base_url": f"{base}/stripe/v1"},
        "ideal": {"base_url": f"{base}/mollie/v2"},
        "kobo": {"base_url": f"{base}/kobo"},
        "twilio": {"base_url": f"{base}/twilio/2010-04-01"},
        "espocrm": {"base_url": f"{base}/espo/api/v1"},
        "paypal": {"base_url": f"{base}/paypal"},
        "xledger": {"base_url": f"{base}/xledger/graphql"},
        "cornerstone": {"base_url": f"{base}/partner"},
        "google_maps": {"base_url": f"{base}/gmaps/maps/api"},
        "mapbox": {"base_url": f"{base}/mapbox"},
    }
