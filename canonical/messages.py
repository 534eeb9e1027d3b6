"""A message to a member's phone (SMS or WhatsApp)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints

from canonical.fields import Canonical, Key, Phone, field


class Message(Canonical):
    """One outbound message; sent once per key."""

    key: Key = field("The platform's message id: a repeat is not sent twice.", example="MSG-2026-5512")
    to: Phone = field("Recipient number (E.164).", example="+46701234567")
    body: Annotated[str, StringConstraints(min_length=1, max_length=1600)] = field(
        "Text; long texts are split into segments by the provider.", example="Your licence 2026 is ready."
    )
    channel: Literal["sms", "whatsapp"] = field("Channel.", example="sms", default="sms")
